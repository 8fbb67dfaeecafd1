"""The unified timeline of a customer: activities and the field changes that matter, newest
first, keyset-paged, in a constant number of queries whatever its length."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activities.archive import NEWEST_ARCHIVED
from activities.models import Activity, ActivityKind, ArchivedActivity
from crm.history import CHANGES_SCANNED, history_for
from crm.visibility import with_visibility_flag

PAGE_SIZE = 25
CHANGES_KIND = "change"
# Changes worth a line on the timeline, per model; the full record is in the History card.
IMPORTANT_FIELDS = {
    "account": {"owner", "type", "tier", "is_vip", "parent"},
    "contact": {"owner", "account", "email_opt_in", "do_not_call"},
    "opportunity": {"owner", "stage", "amount", "expected_close_date", "forecast_category"},
    "lead": {"owner", "status", "rating", "disqualify_reason"},
}


# What counts as being in touch with someone: a call, a meeting or an e-mail (not a task or a note).
CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL)


def last_contacts(user, **link):
    """The calls, meetings and e-mails of a record that have happened (planned ones ahead do not
    count), newest first, through `visible_to`: the first is the record's "last contact"."""
    return (Activity.objects.visible_to(user)
            .filter(**link, kind__in=CONTACT_KINDS, occurred_at__lte=timezone.now())
            .order_by("-occurred_at", "-id"))


def _last_contact_from(summary: dict | None) -> Activity | None:
    """An unsaved Activity holding what the "last contact" figure shows (the kind, when, who, its
    address), rebuilt from the JSON the timeline's query brought along."""
    if not summary:
        return None
    owner = get_user_model()(first_name=summary["first"] or "", last_name=summary["last"] or "",
                             email=summary["email"] or "") if summary["owner"] else None
    return Activity(pk=summary["id"], kind=summary["kind"], occurred_at=parse_datetime(summary["at"]), owner=owner)


@dataclass
class FieldChange:
    """A timeline line for "Owner: Anna → Boris"."""

    occurred_at: datetime
    user: object
    changes: list[tuple[str, object, object]]
    reason: str = ""
    is_change: bool = True


@dataclass
class TimelineEntry:
    """A line another module puts on a record's timeline (a marketing e-mail opened): a source
    registered with `timeline_source` returns these."""

    occurred_at: datetime
    icon: str  # a Bootstrap Icons name
    title: str
    detail: str = ""
    url: str = ""
    pk: int = 0
    is_change: bool = False
    is_entry: bool = True


# model key ("contact") -> sources: (user, record, before, limit) -> entries, newest first, each one bounded
# query that shows nothing the user may not see. They join the "All" and the "E-mail" filters.
TimelineSource = Callable[[Any, Any, datetime | None, int], list[TimelineEntry]]
# (user, record) -> the rows a source would read (a queryset), or None when it has no cheap answer.
SourceProbe = Callable[[Any, Any], Any]
_SOURCES: dict[str, list[TimelineSource]] = {}
_SOURCE_PROBES: dict[TimelineSource, SourceProbe] = {}
SOURCE_KINDS = ("", ActivityKind.EMAIL)


def timeline_source(model_key: str, *, probe: SourceProbe | None = None) -> Callable[[TimelineSource], TimelineSource]:
    """A module above activities adds its own lines to a record's timeline without activities naming it.
    `probe` lets the record page ask, in its one probe query (crm/panels.py), whether the source has
    anything for the record at all."""
    def register(source: TimelineSource) -> TimelineSource:
        known = _SOURCES.setdefault(model_key, [])
        if source not in known:
            known.append(source)
        if probe is not None:
            _SOURCE_PROBES[source] = probe
        return source
    return register


def source_probes(user, model_key: str, subject) -> list | None:
    """The querysets of the record's timeline sources, for a page's probe; None when a source has no probe
    or no answer (then every source is read)."""
    found = []
    for source in _SOURCES.get(model_key, []):
        probe = _SOURCE_PROBES.get(source)
        rows = probe(user, subject) if probe is not None else None
        if rows is None:
            return None
        found.extend(rows if isinstance(rows, list) else [rows])  # [] for a source with nothing to read
    return found


@dataclass
class TimelinePage:
    items: list
    next_cursor: str  # empty on the last page
    kind: str
    last_contact: Activity | None = None  # only when asked for (with_last_contact)


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        when, pk = cursor.rsplit("|", 1)
        parsed = parse_datetime(when)
        return (parsed, int(pk)) if parsed else None
    except (ValueError, TypeError):
        return None


def _changes(subject, user, model_key: str, before: datetime | None, history=None) -> list[FieldChange]:
    important = IMPORTANT_FIELDS[model_key]
    labels = {str(subject._meta.get_field(name).verbose_name) for name in important}
    if history is None or before is not None:
        history = history_for(subject, user=user, limit=CHANGES_SCANNED, before=before)
    found = []
    for entry in history:
        if entry.action != "update":
            continue
        kept = [change for change in entry.changes if change[0] in labels]
        if kept:
            found.append(FieldChange(occurred_at=entry.when, user=entry.user, changes=kept, reason=entry.reason))
    return found


def _archived(user, model_key: str, subject, kind: str, after) -> list[ArchivedActivity]:
    """The page's share of the archive (activities/archive.py): one query on the same kind of index, asked only
    when the page reaches back to where archived activities can be."""
    archived = with_visibility_flag(with_visibility_flag(ArchivedActivity.objects.alive(), user, "contact"), user,
                                    "account").filter(**{model_key: subject})
    if kind in ActivityKind.values:
        archived = archived.filter(kind=kind)
    if after:
        when, pk = after
        archived = archived.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))
    return list(archived.select_related("owner", "contact", "account").order_by("-occurred_at", "-id")[:PAGE_SIZE + 1])


def timeline_page(*, user, account=None, contact=None, opportunity=None, lead=None, kind: str = "",
                  cursor: str = "", history=None, with_last_contact: bool = False, archived: bool = True,
                  sources: bool = True) -> TimelinePage:
    """Activities: one indexed query on (account|contact|opportunity|lead, occurred_at desc, id desc).
    Field changes: the record's history events (pass `history` when the page has already read it).
    The caller has checked that the user may see the record; linked records are flagged so the
    page never names a hidden one.
    `with_last_contact`: the record's latest call, meeting or e-mail comes along in the same query
    (a scalar subquery, evaluated once), for a page at its query budget (the account page).
    `archived=False` / `sources=False`: the page's probe found no archived activity / nothing from the other
    modules' sources for the record, so they are not asked."""
    activities = with_visibility_flag(with_visibility_flag(Activity.objects.alive(), user, "contact"), user,
                                      "account")
    if account is not None:
        subject, model_key = account, "account"
    elif contact is not None:
        subject, model_key = contact, "contact"
    elif opportunity is not None:
        subject, model_key = opportunity, "opportunity"
    elif lead is not None:
        subject, model_key = lead, "lead"
    else:
        raise ValueError("timeline_page needs one of account, contact, opportunity or lead")
    activities = activities.filter(**{model_key: subject})
    if kind not in ActivityKind.values and kind != CHANGES_KIND:
        kind = ""
    if kind in ActivityKind.values:
        activities = activities.filter(kind=kind)
    after = _parse_cursor(cursor) if cursor else None
    if after:
        when, pk = after
        activities = activities.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))

    if with_last_contact:
        summary = last_contacts(user, **{model_key: subject}).values(summary=JSONObject(
            id="id", kind="kind", at="occurred_at", owner="owner_id", first="owner__first_name",
            last="owner__last_name", email="owner__email"))[:1]
        activities = activities.annotate(last_contact=Subquery(summary))

    rows: list = []
    if kind != CHANGES_KIND:
        rows = list(activities.select_related("owner", "contact", "account")
                    .order_by("-occurred_at", "-id")[: PAGE_SIZE + 1])
        if archived and (len(rows) <= PAGE_SIZE or rows[-1].occurred_at < timezone.now() - NEWEST_ARCHIVED):
            rows += _archived(user, model_key, subject, kind, after)
    last_contact = None
    if with_last_contact:
        live = [row for row in rows if not row.is_archived]
        if live:
            last_contact = next((row for row in live if row.pk == (live[0].last_contact or {}).get("id")), None) \
                or _last_contact_from(live[0].last_contact)
        elif rows and not (kind or after):  # only archived ones: the newest call, meeting or e-mail among them
            last_contact = next((row for row in rows if row.kind in CONTACT_KINDS), None)
        elif kind or after:  # a filtered or later page said nothing about the whole record: ask
            last_contact = last_contacts(user, **{model_key: subject}).select_related("owner").first()
        # (no row on the first unfiltered page: the record has no activity at all)
    if kind in ("", CHANGES_KIND):
        rows += _changes(subject, user, model_key, after[0] if after else None, history)
    if kind in SOURCE_KINDS and sources:
        for source in _SOURCES.get(model_key, []):
            rows += source(user, subject, after[0] if after else None, PAGE_SIZE + 1)
    rows.sort(key=lambda item: (item.occurred_at, getattr(item, "pk", 0)), reverse=True)
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = ""
    if has_more and rows:
        last = rows[-1]
        next_cursor = f"{last.occurred_at.isoformat()}|{getattr(last, 'pk', 0) or 0}"
    return TimelinePage(items=rows, next_cursor=next_cursor, kind=kind, last_contact=last_contact)
