"""The service dashboard (/reports/service/): tickets by channel, category or queue over a period against the
previous one, over `Ticket.visible_to(reader)` (support and executives: every ticket; sales: its customers').

Per row: opened in the period (`created_at`), in the previous period, solved in the period (`resolved_at`), the
open backlog now, the share of the solved ones that kept their SLA (`sla_met`, among those with an SLA), the
share reopened (`reopened_count` > 0), the average first-response time of the tickets opened in the period and
the average resolution time of those solved in it (business minutes as the SLA clock counts them). Each count
links to the ticket list with `view=all` and the filters that select exactly those tickets. One query for the
figures whatever the number of tickets (the total adds the groups up).

Beside the table (`extras`, four queries whatever the numbers): satisfaction (the survey answers given in the
period: average rating 1–5 and the share of 4s and 5s, against the previous period; only for the roles that read
the answers, `portal.models.FEEDBACK_DATA`), complaints (tickets of the complaint category opened in the period)
by product and by account, the share of the period's tickets covered by a contract or warranty, and the contracts
in force that end within 30, 60 and 90 days (`Contract.visible_to(reader)`, linked to the contract list).
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Avg, Count, Max, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account
from crm import visibility
from crm.models import User
from portal.models import Survey
from reports import aggregates
from reports.models import TicketDay
from reports.pipeline import Period
from sales.models import Product
from service.models import ACTIVE_STATUSES, SALES_ROLES, Category, Channel, Contract, Queue, Ticket

SATISFIED = 4  # a rating of 4 or 5 of 5
EXPIRY_DAYS = (30, 60, 90)
COMPLAINT_ROWS = 10

DIMENSIONS = {"channel": gettext_lazy("Channel"), "category": gettext_lazy("Category"),
              "queue": gettext_lazy("Queue")}


def _url(**params: object) -> str:
    return reverse("service:ticket_list") + "?" + urlencode(
        {key: value.isoformat() if isinstance(value, datetime.date) else value for key, value in params.items()})


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if whole else None


def _average_hours(found: dict, name: str) -> Decimal | None:
    count = found.get(f"{name}_count") or 0
    if not count:
        return None
    return (Decimal(found[f"{name}_sum"]) / count / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class ServiceRow:
    key: object
    label: str
    opened: int = 0
    previous_opened: int = 0
    solved: int = 0
    backlog: int = 0
    with_sla: int = 0
    sla_kept: int = 0
    reopened: int = 0
    complaints: int = 0
    covered: int = 0
    previous_covered: int = 0
    first_response_hours: Decimal | None = None
    resolution_hours: Decimal | None = None
    links: dict[str, str] = field(default_factory=dict)

    @property
    def sla_share(self) -> Decimal | None:
        return _share(self.sla_kept, self.with_sla)

    @property
    def reopen_rate(self) -> Decimal | None:
        return _share(self.reopened, self.solved)

    @property
    def coverage(self) -> Decimal | None:
        return _share(self.covered, self.opened)

    @property
    def previous_coverage(self) -> Decimal | None:
        return _share(self.previous_covered, self.previous_opened)


def build(user: User, period: Period, dimension: str) -> tuple[list[ServiceRow], ServiceRow]:
    rows, total, _as_of = build_with_time(user, period, dimension)
    return rows, total


def build_with_time(user: User, period: Period, dimension: str
                    ) -> tuple[list[ServiceRow], ServiceRow, datetime.datetime | None]:
    """The rows, the total, and the time of the kept figures they were read from (None: counted live)."""
    previous = period.previous()
    column = "queue_id" if dimension == "queue" else dimension
    kept = _kept_figures(user, period, previous, column)
    as_of, found = kept if kept is not None else (None, _live_figures(user, period, previous, column))
    total_found = {name: sum(row[name] or 0 for row in found.values()) for name in FIGURES}
    if dimension == "queue":
        labels = [(queue.pk, queue.name) for queue in Queue.objects.filter(pk__in=[key for key in found if key])
                  .order_by("name")]
    else:
        labels = [(key, str(label)) for key, label in (Channel.choices if dimension == "channel" else Category.choices)]
    keys = labels + ([(None, _("No queue"))] if None in found else [])
    rows = [_row(key, label, found.get(key, {}), dimension, period, previous) for key, label in keys]
    total = _row("total", _("Total"), total_found, None, period, previous)
    return [row for row in rows if row.opened or row.previous_opened or row.solved or row.backlog], total, as_of


FIGURES = ("opened", "previous_opened", "solved", "backlog", "with_sla", "sla_kept", "reopened", "complaints",
           "covered", "previous_covered", "first_response_sum", "first_response_count", "resolution_sum",
           "resolution_count")


def _ticket_figures(opened: Q, opened_before: Q, solved: Q, backlog: Q) -> dict:
    """The figures per group as aggregates over tickets (sums and counts, not averages: the total row adds the
    groups up instead of scanning again)."""
    return {
        "opened": Count("id", filter=opened), "previous_opened": Count("id", filter=opened_before),
        "solved": Count("id", filter=solved), "backlog": Count("id", filter=backlog),
        "with_sla": Count("id", filter=solved & Q(sla_met__isnull=False)),
        "sla_kept": Count("id", filter=solved & Q(sla_met=True)),
        "reopened": Count("id", filter=solved & Q(reopened_count__gt=0)),
        "complaints": Count("id", filter=opened & Q(category=Category.COMPLAINT)),
        "covered": Count("id", filter=opened & Q(contract__isnull=False)),
        "previous_covered": Count("id", filter=opened_before & Q(contract__isnull=False)),
        "first_response_sum": Sum("first_response_minutes", filter=opened),
        "first_response_count": Count("first_response_minutes", filter=opened),
        "resolution_sum": Sum("resolution_minutes", filter=solved),
        "resolution_count": Count("resolution_minutes", filter=solved),
    }


def _live_figures(user: User, period: Period, previous: Period, column: str) -> dict:
    (first, end), (before, _end) = period.bounds(), previous.bounds()
    opened = Q(created_at__gte=first, created_at__lt=end)
    opened_before = Q(created_at__gte=before, created_at__lt=first)
    solved = Q(resolved_at__gte=first, resolved_at__lt=end)
    backlog = Q(status__in=ACTIVE_STATUSES)
    tickets = Ticket.objects.visible_to(user).filter(opened | opened_before | solved | backlog)
    figures = _ticket_figures(opened, opened_before, solved, backlog)
    return {row[column]: row for row in tickets.values(column).annotate(**figures).order_by()}


def _in_edges(name: str, split: aggregates.Split) -> Q:
    found = Q(pk__in=[])
    for first, after in split.edges:
        found |= Q(**{f"{name}__gte": first, f"{name}__lt": after})
    return found


def _kept_figures(user: User, period: Period, previous: Period, column: str) -> tuple[datetime.datetime, dict] | None:
    """The same figures summed from TicketDay (reports/aggregates.py) over the whole summary days of both periods,
    plus the tickets opened and solved in the periods' edges (the parts of a summary day at their ends, for a
    reader in another time zone) counted live on the created_at and resolved_at indexes; for the readers of every
    ticket (sales reads its customers' tickets and a narrowed agent their queues': counted live)."""
    if (user.role in SALES_ROLES and not user.is_superuser) or visibility.read_q(user, Ticket) is not None:
        return None
    this, before = aggregates.split(*period.bounds()), aggregates.split(*previous.bounds())
    if this is None or before is None:
        return None
    now_q = Q(day__gte=this.days[0], day__lte=this.days[1])
    before_q = Q(day__gte=before.days[0], day__lte=before.days[1])
    figures = {
        "opened": Sum("opened", filter=now_q), "previous_opened": Sum("opened", filter=before_q),
        "solved": Sum("solved", filter=now_q), "backlog": Sum("active"),
        "with_sla": Sum("with_sla", filter=now_q), "sla_kept": Sum("sla_kept", filter=now_q),
        "reopened": Sum("reopened", filter=now_q),
        "complaints": Sum("opened", filter=now_q & Q(category=Category.COMPLAINT)),
        "covered": Sum("covered", filter=now_q), "previous_covered": Sum("covered", filter=before_q),
        **{name: Sum(name, filter=now_q) for name in ("first_response_sum", "first_response_count", "resolution_sum",
                                                      "resolution_count")},
    }
    days = TicketDay.objects.filter(now_q | before_q | Q(active__gt=0))
    summed = list(days.values(column).annotate(**{f"sum_{name}": value for name, value in figures.items()},
                                               as_of=Max(aggregates.refreshed_at(aggregates.TICKETS))).order_by())
    as_of = summed[0]["as_of"] if summed else None
    if as_of is None:
        return None  # not built (or nothing kept: the live query answers as fast)
    found = {row[column]: {name: row[f"sum_{name}"] or 0 for name in figures} for row in summed}
    if this.edges or before.edges:
        opened, opened_before = _in_edges("created_at", this), _in_edges("created_at", before)
        solved = _in_edges("resolved_at", this)
        edges = Ticket.objects.visible_to(user).filter(opened | opened_before | solved).values(column).annotate(
            **_ticket_figures(opened, opened_before, solved, Q(pk__in=[]))).order_by()
        for row in edges:
            kept = found.setdefault(row[column], dict.fromkeys(figures, 0))
            for name in figures:
                kept[name] += row[name] or 0
    return as_of, found


def _row(key, label, found: dict, dimension: str | None, period: Period, previous: Period) -> ServiceRow:
    row = ServiceRow(key=key, label=label, **{name: found.get(name) or 0 for name in (
        "opened", "previous_opened", "solved", "backlog", "with_sla", "sla_kept", "reopened", "complaints", "covered",
        "previous_covered")})
    row.first_response_hours = _average_hours(found, "first_response")
    row.resolution_hours = _average_hours(found, "resolution")
    if key is None:
        return row  # the list cannot select "no queue"
    narrow = {dimension: key} if dimension else {}
    opened = {"created_after": period.start, "created_before": period.last_day}
    solved = {"view": "all", "resolved_after": period.start, "resolved_before": period.last_day, **narrow}
    row.links = {
        "opened": _url(view="all", **opened, **narrow),
        "previous_opened": _url(view="all", created_after=previous.start, created_before=previous.last_day,
                                **narrow),
        "solved": _url(**solved),
        "backlog": _url(**narrow),
        "sla_missed": _url(sla_met="false", **solved),
        "reopened": _url(reopened="true", **solved),
        # A category row other than the complaints counts none: no link.
        "complaints": _url(**{"view": "all", **opened, **narrow, "category": Category.COMPLAINT})
        if narrow.get("category", Category.COMPLAINT) == Category.COMPLAINT else "",
        "covered": _url(view="all", covered="true", **opened, **narrow),
        "previous_covered": _url(view="all", covered="true", created_after=previous.start,
                                 created_before=previous.last_day, **narrow),
    }
    return row


# --- Beside the table -------------------------------------------------------------------------------------


@dataclass
class Satisfaction:
    answers: int
    previous_answers: int
    average: Decimal | None
    previous_average: Decimal | None
    satisfied: int
    previous_satisfied: int

    @property
    def satisfied_share(self) -> Decimal | None:
        return _share(self.satisfied, self.answers)

    @property
    def previous_satisfied_share(self) -> Decimal | None:
        return _share(self.previous_satisfied, self.previous_answers)


@dataclass
class ComplaintRow:
    key: int | None
    label: str
    count: int
    previous: int
    url: str = ""
    previous_url: str = ""


@dataclass
class Expiring:
    days: int
    count: int
    url: str


@dataclass
class Extras:
    satisfaction: Satisfaction | None
    by_product: list[ComplaintRow]
    by_account: list[ComplaintRow]
    contracts_in_force: int
    contracts_url: str
    expiring: list[Expiring]


def _rounded(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def satisfaction(user: User, period: Period) -> Satisfaction | None:
    """The survey answers given in the period and the previous one; None for a role that reads no answers."""
    if not visibility.can_read(user, Survey):
        return None
    (first, end), (before, _end) = period.bounds(), period.previous().bounds()
    now, then = Q(answered_at__gte=first, answered_at__lt=end), Q(answered_at__gte=before, answered_at__lt=first)
    found = (Survey.objects.visible_to(user).filter(answered_at__gte=before, answered_at__lt=end)
             .aggregate(answers=Count("id", filter=now), previous_answers=Count("id", filter=then),
                        average=Avg("rating", filter=now), previous_average=Avg("rating", filter=then),
                        satisfied=Count("id", filter=now & Q(rating__gte=SATISFIED)),
                        previous_satisfied=Count("id", filter=then & Q(rating__gte=SATISFIED))))
    return Satisfaction(answers=found["answers"], previous_answers=found["previous_answers"],
                        average=_rounded(found["average"]), previous_average=_rounded(found["previous_average"]),
                        satisfied=found["satisfied"], previous_satisfied=found["previous_satisfied"])


def complaints(user: User, period: Period, by: str) -> list[ComplaintRow]:
    """The complaints opened in the period and the previous one, per product or account (the most first; ties
    by id)."""
    previous = period.previous()
    (first, end), (before, _end) = period.bounds(), previous.bounds()
    key = f"{by}_id"
    # Grouped by the id alone (the complaints index holds it: no table, no join), the names read after for ten.
    rows = list(Ticket.objects.visible_to(user)
                .filter(category=Category.COMPLAINT, created_at__gte=before, created_at__lt=end)
                .values(key)
                .annotate(count=Count("created_at", filter=Q(created_at__gte=first)),
                          previous=Count("created_at", filter=Q(created_at__lt=first)))
                .order_by("-count", "-previous", key)[:COMPLAINT_ROWS])
    model = Product if by == "product" else Account
    names = dict(model._base_manager.filter(pk__in=[row[key] for row in rows if row[key]]).values_list("id", "name"))
    found = []
    for row in rows:
        item = ComplaintRow(key=row[key], label=names.get(row[key]) or (
                            _("No product") if by == "product" else _("No account")),
                            count=row["count"], previous=row["previous"])
        if item.key is not None:  # the list cannot select "no product"
            item.url = _url(view="all", category=Category.COMPLAINT, created_after=period.start,
                            created_before=period.last_day, **{by: item.key})
            item.previous_url = _url(view="all", category=Category.COMPLAINT, created_after=previous.start,
                                     created_before=previous.last_day, **{by: item.key})
        found.append(item)
    return found


def contracts(user: User, today: datetime.date) -> tuple[int, list[Expiring]]:
    """Contracts and warranties in force today, and those of them that end within 30, 60 and 90 days."""
    in_force = Contract.objects.visible_to(user).in_force(today)
    found = in_force.aggregate(total=Count("id"), **{
        f"within_{days}": Count("id", filter=Q(ends_on__lte=today + datetime.timedelta(days=days)))
        for days in EXPIRY_DAYS})
    expiring = [Expiring(days=days, count=found[f"within_{days}"], url=reverse("service:contract_list") + "?" +
                         urlencode({"state": "in_force",
                                    "ends_before": (today + datetime.timedelta(days=days)).isoformat()}))
                for days in EXPIRY_DAYS]
    return found["total"], expiring


def extras(user: User, period: Period, today: datetime.date) -> Extras:
    in_force, expiring = contracts(user, today)
    return Extras(satisfaction=satisfaction(user, period), by_product=complaints(user, period, "product"),
                  by_account=complaints(user, period, "account"), contracts_in_force=in_force,
                  contracts_url=reverse("service:contract_list") + "?state=in_force", expiring=expiring)
