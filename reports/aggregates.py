"""Figures the scheduler keeps: activities per owner and day, tickets per day and group (reports/models.py
`ActivityDay`, `TicketDay`), so that the dashboards sum a few thousand rows instead of counting 10,000,000
activities or 1,000,000 tickets.

- **What changed**: every insert, update and delete of an activity or a ticket leaves a row in its history table
  (pghistory: `crm_activityevent`, `service_ticketevent`), numbered by `pgh_id`. A refresh reads the events since
  the last refresh but one (a transaction that took an earlier number may commit after a refresh: reading one
  refresh back catches it), and recomputes every (owner, day) — tickets: every day — that any state of a touched
  record ever fell on (its old day or owner too, from its earlier events).
- **How**: set-based SQL in one transaction: the touched keys into a temporary table, their rows deleted, then
  one `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` from the live table. Tasks done are counted by their
  completion day, which the activity table has no index on: a ledger of done tasks (`DoneTask`, one row per
  task, re-read by id for the touched activities) gives a key's done tasks on its (owner, day) index.
  Readers see the old or the new figures, never a half. An advisory lock keeps two refreshes (overlapping ticks) apart.
- **When**: the scheduler source `report_aggregates` refreshes at every tick (every minute) and rebuilds in full
  once a day (what the history does not tell: the activity archive moves rows out with the delete trigger
  disabled). `manage.py rebuild_aggregates` rebuilds at once (after a deploy that adds them, or a change of
  TIME_ZONE: the days are days in settings.TIME_ZONE).
- **Reading**: `ready()` says whether a table has been built for the current TIME_ZONE; `split()` turns a reader's
  period (in any time zone) into the whole summary days inside it plus the parts of a day at its ends, which the
  pages count live on the indexes of `occurred_at` / `created_at` / `resolved_at` (done tasks: the ledger's
  completion time on its (owner, day) index). The page shows `as_of()`.
"""

import dataclasses
import datetime
import logging
import zoneinfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Subquery
from django.utils import timezone

from crm import scheduler
from crm.partitions import once_a_day
from reports.models import AggregateState

logger = logging.getLogger(__name__)

ACTIVITIES, TICKETS = "activities", "tickets"
LOCK_KEY = 0x5245504F  # pg_advisory_xact_lock: one refresh or rebuild at a time

_ACTIVITY_KINDS = "ARRAY['call', 'meeting', 'task', 'note', 'email']"  # activities.ActivityKind, for the index

# One row per activity dated in a day, and one per task done in a day; the caller adds the day filter.
_ACTIVITY_DATED = (
    "SELECT a.owner_id, a.team_id, a.shared_with_team, a.kind, (a.occurred_at AT TIME ZONE %(zone)s)::date AS day, "
    "1 AS dated, (a.kind = 'task' AND a.status = 'open')::int AS open_tasks, 0 AS done FROM crm_activity a "
)
_ACTIVITY_DONE = (  # from the done-task ledger (reports_donetask), filled from the same rows
    "SELECT d.owner_id, d.team_id, d.shared_with_team, 'task', d.day, 0, 0, 1 FROM reports_donetask d "
)
_DONE_ONLY = "a.deleted_at IS NULL AND a.kind = 'task' AND a.status = 'done' AND a.completed_at IS NOT NULL"
_LEDGER_INSERT = (
    "INSERT INTO reports_donetask (activity_id, owner_id, team_id, shared_with_team, day, completed_at) "
    "SELECT a.id, a.owner_id, a.team_id, a.shared_with_team, (a.completed_at AT TIME ZONE %(zone)s)::date, "
    "a.completed_at "
    "FROM crm_activity a "
)
_ACTIVITY_INSERT = (
    "INSERT INTO reports_activityday (owner_id, team_id, shared_with_team, kind, day, dated, open_tasks, done) "
    "SELECT owner_id, team_id, shared_with_team, kind, day, SUM(dated), SUM(open_tasks), SUM(done) "
    "FROM ({rows}) AS counted GROUP BY owner_id, team_id, shared_with_team, kind, day "
    "ON CONFLICT (owner_id, day, kind, team_id, shared_with_team) DO UPDATE SET dated = EXCLUDED.dated, "
    "open_tasks = EXCLUDED.open_tasks, done = EXCLUDED.done"
)

_TICKET_OPENED = (
    "SELECT (t.created_at AT TIME ZONE %(zone)s)::date AS day, t.channel, t.category, t.queue_id, 1 AS opened, "
    "(t.contract_id IS NOT NULL)::int AS covered, (t.status = ANY(%(active)s))::int AS active, "
    "COALESCE(t.first_response_minutes, 0) AS first_response_sum, "
    "(t.first_response_minutes IS NOT NULL)::int AS first_response_count, 0 AS solved, 0 AS with_sla, "
    "0 AS sla_kept, 0 AS reopened, 0 AS resolution_sum, 0 AS resolution_count FROM service_ticket t "
)
_TICKET_SOLVED = (
    "SELECT (t.resolved_at AT TIME ZONE %(zone)s)::date, t.channel, t.category, t.queue_id, 0, 0, 0, 0, 0, 1, "
    "(t.sla_met IS NOT NULL)::int, (t.sla_met IS TRUE)::int, (t.reopened_count > 0)::int, "
    "COALESCE(t.resolution_minutes, 0), (t.resolution_minutes IS NOT NULL)::int FROM service_ticket t "
)
_TICKET_FIGURES = ("opened", "covered", "active", "first_response_sum", "first_response_count", "solved", "with_sla",
                   "sla_kept", "reopened", "resolution_sum", "resolution_count")
_TICKET_INSERT = (  # our column names only
    "INSERT INTO reports_ticketday (day, channel, category, queue_id, " + ", ".join(_TICKET_FIGURES) + ") "  # noqa: S608  # nosec B608
    "SELECT day, channel, category, queue_id, " + ", ".join(f"SUM({name})" for name in _TICKET_FIGURES)
    + " FROM ({rows}) AS counted GROUP BY day, channel, category, queue_id "
    "ON CONFLICT (day, channel, category, queue_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _TICKET_FIGURES)
)

_EVENTS = {ACTIVITIES: "crm_activityevent", TICKETS: "service_ticketevent"}


def _zone() -> str:
    return settings.TIME_ZONE


def _active_statuses() -> list[str]:
    from service.models import ACTIVE_STATUSES

    return [str(status) for status in ACTIVE_STATUSES]


def _params() -> dict[str, object]:
    return {"zone": _zone(), "active": _active_statuses()}


def _latest_event(cursor, name: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(pgh_id), 0) FROM {_EVENTS[name]}")  # noqa: S608  # nosec B608 - our names
    return int(cursor.fetchone()[0])


def _save_state(name: str, watermark: int, *, rebuilt: bool, previous: int | None = None) -> None:
    now = timezone.now()
    state = AggregateState.objects.filter(name=name).first()
    if state is None or rebuilt:
        AggregateState.objects.update_or_create(name=name, defaults={
            "watermark": watermark, "previous_watermark": watermark, "refreshed_at": now, "rebuilt_at": now,
            "zone": _zone()})
        return
    state.previous_watermark = previous if previous is not None else state.watermark
    state.watermark, state.refreshed_at = watermark, now
    state.save(update_fields=["watermark", "previous_watermark", "refreshed_at"])


# --- Full rebuild ------------------------------------------------------------------------------------


def rebuild(name: str) -> None:
    """Recompute the whole table from the live one (one statement), in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        watermark = _latest_event(cursor, name)
        if name == ACTIVITIES:
            cursor.execute("DELETE FROM reports_activityday")
            cursor.execute("DELETE FROM reports_donetask")
            cursor.execute(_LEDGER_INSERT + "WHERE " + _DONE_ONLY, _params())
            rows = _ACTIVITY_DATED + "WHERE a.deleted_at IS NULL UNION ALL " + _ACTIVITY_DONE
            cursor.execute(_ACTIVITY_INSERT.format(rows=rows), _params())
        else:
            cursor.execute("DELETE FROM reports_ticketday")
            rows = (_TICKET_OPENED + "WHERE t.deleted_at IS NULL UNION ALL " + _TICKET_SOLVED
                    + "WHERE t.deleted_at IS NULL AND t.resolved_at IS NOT NULL")
            cursor.execute(_TICKET_INSERT.format(rows=rows), _params())
        _save_state(name, watermark, rebuilt=True)


# --- Incremental refresh -----------------------------------------------------------------------------


def refresh(name: str) -> int:
    """Recompute what changed since the last refresh but one; rebuild when the table was never built (or for
    another time zone). Returns how many keys were recomputed."""
    state = AggregateState.objects.filter(name=name).first()
    if state is None or state.zone != _zone():
        rebuild(name)
        return -1
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        state.refresh_from_db()
        since = state.previous_watermark
        watermark = _latest_event(cursor, name)
        touched = (_refresh_activities if name == ACTIVITIES else _refresh_tickets)(cursor, since)
        _save_state(name, watermark, rebuilt=False, previous=state.watermark)
    return touched


def _refresh_activities(cursor, since: int) -> int:
    params = {**_params(), "since": since}
    cursor.execute("DROP TABLE IF EXISTS touched_activities, touched_activity_days")  # an earlier refresh in the
    cursor.execute(  # same transaction (tests): ON COMMIT has not dropped them yet
        "CREATE TEMPORARY TABLE touched_activities ON COMMIT DROP AS "
        "SELECT DISTINCT pgh_obj_id AS id FROM crm_activityevent WHERE pgh_id > %(since)s", params)
    if not cursor.rowcount:
        return 0
    # Every (owner, day) any state of a touched activity fell on: the due day and the completion day, new and old
    # (from its earlier events, and from the ledger for a task done before the history began).
    cursor.execute(
        "CREATE TEMPORARY TABLE touched_activity_days ON COMMIT DROP AS "
        "SELECT e.owner_id, (v.at AT TIME ZONE %(zone)s)::date AS day FROM crm_activityevent e "
        "CROSS JOIN LATERAL (VALUES (e.occurred_at), (e.completed_at)) AS v(at) "
        "WHERE v.at IS NOT NULL AND e.pgh_obj_id IN (SELECT id FROM touched_activities) "
        "UNION SELECT d.owner_id, d.day FROM reports_donetask d "
        "WHERE d.activity_id IN (SELECT id FROM touched_activities)",
        params)
    touched = cursor.rowcount
    cursor.execute("DELETE FROM reports_donetask WHERE activity_id IN (SELECT id FROM touched_activities)")
    cursor.execute(_LEDGER_INSERT + "JOIN touched_activities t ON a.id = t.id WHERE " + _DONE_ONLY, params)
    recompute_activity_days(cursor)
    return touched


def recompute_activity_days(cursor) -> None:
    """Recompute the (owner, day) keys listed in the temporary table touched_activity_days: the activities dated
    in them on the (owner, kind, occurred_at) index, one range per (owner, kind, day); the tasks done in them from
    the ledger's (owner, day) index."""
    params = _params()
    cursor.execute("ANALYZE touched_activity_days")  # a handful of keys: the planner must know, to use the indexes
    cursor.execute("DELETE FROM reports_activityday s USING touched_activity_days t "
                   "WHERE s.owner_id = t.owner_id AND s.day = t.day")
    # LATERAL … OFFSET 0: one index range per key (else the planner may hash-join a scan of the whole table).
    rows = (  # our fragments only
        _ACTIVITY_DATED.replace("FROM crm_activity a", "FROM touched_activity_days t CROSS JOIN LATERAL "  # noqa: S608  # nosec B608
                                "(SELECT * FROM crm_activity x WHERE x.owner_id = t.owner_id AND x.kind = ANY("
                                + _ACTIVITY_KINDS + ") AND x.occurred_at >= (t.day::timestamp AT TIME ZONE %(zone)s) "
                                "AND x.occurred_at < ((t.day + 1)::timestamp AT TIME ZONE %(zone)s) "
                                "AND x.deleted_at IS NULL OFFSET 0) a")
        + " UNION ALL " + _ACTIVITY_DONE + "JOIN touched_activity_days t ON d.owner_id = t.owner_id AND d.day = t.day"
    )
    cursor.execute(_ACTIVITY_INSERT.format(rows=rows), params)


def _refresh_tickets(cursor, since: int) -> int:
    params = {**_params(), "since": since}
    cursor.execute("DROP TABLE IF EXISTS touched_ticket_days")
    cursor.execute(
        "CREATE TEMPORARY TABLE touched_ticket_days ON COMMIT DROP AS "
        "SELECT DISTINCT (v.at AT TIME ZONE %(zone)s)::date AS day FROM service_ticketevent e "
        "CROSS JOIN LATERAL (VALUES (e.created_at), (e.resolved_at)) AS v(at) "
        "WHERE v.at IS NOT NULL AND e.pgh_obj_id IN "
        "(SELECT pgh_obj_id FROM service_ticketevent WHERE pgh_id > %(since)s)",
        params)
    touched = cursor.rowcount
    if touched:
        recompute_ticket_days(cursor)
    return touched


def recompute_ticket_days(cursor) -> None:
    """Recompute the days listed in the temporary table touched_ticket_days."""
    params = _params()
    cursor.execute("ANALYZE touched_ticket_days")
    cursor.execute("DELETE FROM reports_ticketday s USING touched_ticket_days t WHERE s.day = t.day")
    # LATERAL: one index range per day (created_at: ticket_live_created_idx, resolved_at: ticket_resolved_idx).
    in_day = ("FROM touched_ticket_days d CROSS JOIN LATERAL (SELECT * FROM service_ticket x "
              "WHERE x.{column} >= (d.day::timestamp AT TIME ZONE %(zone)s) "
              "AND x.{column} < ((d.day + 1)::timestamp AT TIME ZONE %(zone)s) AND x.deleted_at IS NULL OFFSET 0) t ")
    rows = (_TICKET_OPENED.replace("FROM service_ticket t ", in_day.format(column="created_at")) + "UNION ALL "
            + _TICKET_SOLVED.replace("FROM service_ticket t ", in_day.format(column="resolved_at")))
    cursor.execute(_TICKET_INSERT.format(rows=rows), params)


@scheduler.source("report_aggregates")  # runs before report_subscriptions: the e-mails read fresh figures
def keep_aggregates(now: datetime.datetime) -> int:
    """Every tick: what changed since the last one. Once a day: everything (what the history does not record)."""
    daily = once_a_day("report_aggregates", now)
    done = 0
    for name in (ACTIVITIES, TICKETS):
        if daily:
            rebuild(name)
            done += 1
        else:
            done += max(refresh(name), 0)
    return done


# --- Reading -----------------------------------------------------------------------------------------


def state(name: str) -> AggregateState | None:
    """The table's state when it is built for the current TIME_ZONE, else None (the pages count live)."""
    found = AggregateState.objects.filter(name=name).first()
    return found if found is not None and found.zone == _zone() else None


def refreshed_at(name: str) -> Subquery:
    """The table's refresh time as a subquery (NULL when not built for the current TIME_ZONE), to read it in the
    same query as the figures."""
    return Subquery(AggregateState.objects.filter(name=name, zone=_zone()).values("refreshed_at")[:1])


def day_of(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(zoneinfo.ZoneInfo(_zone())).date()


@dataclasses.dataclass(frozen=True)
class Split:
    """A period [first, after) as the whole summary days inside it ([days[0], days[1]]) and the parts at its ends
    (`edges`: each shorter than a day, inside one summary day) to count live."""

    days: tuple[datetime.date, datetime.date]
    edges: tuple[tuple[datetime.datetime, datetime.datetime], ...]

    def touched_days(self) -> tuple[datetime.date, datetime.date]:
        """The summary days [first, last] the period touches: its whole days and the days holding its edges."""
        first = self.edges[0][0] if self.edges else start_of_day(self.days[0])
        after = self.edges[-1][1] if self.edges else start_of_day(self.days[1] + datetime.timedelta(days=1))
        return day_of(first), day_of(after - datetime.timedelta(microseconds=1))


def split(first: datetime.datetime, after: datetime.datetime) -> Split | None:
    """The period in whole summary days (days of TIME_ZONE) plus the less-than-a-day parts at its ends, for a
    reader in any time zone; None when the period holds no whole summary day (count it all live)."""
    zone = zoneinfo.ZoneInfo(_zone())
    start, end = first.astimezone(zone), after.astimezone(zone)
    first_day = start.date() if start.time() == datetime.time.min else start.date() + datetime.timedelta(days=1)
    last_day = end.date() - datetime.timedelta(days=1)  # the day before the one `after` falls in (or starts)
    if first_day > last_day:
        return None
    edges = []
    if start_of_day(first_day) > first:
        edges.append((first, start_of_day(first_day)))
    if start_of_day(last_day + datetime.timedelta(days=1)) < after:
        edges.append((start_of_day(last_day + datetime.timedelta(days=1)), after))
    return Split(days=(first_day, last_day), edges=tuple(edges))


def start_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(_zone()))
