"""The service dashboard (/reports/service/): tickets by channel, category or queue over a period against the
previous one, over `Ticket.visible_to(reader)` (support and executives: every ticket; sales: its customers').

Per row: opened in the period (`created_at`), in the previous period, solved in the period (`resolved_at`), the
open backlog now, the share of the solved ones that kept their SLA (`sla_met`, among those with an SLA), the
share reopened (`reopened_count` > 0), the average first-response time of the tickets opened in the period and
the average resolution time of those solved in it (business minutes as the SLA clock counts them). Each count
links to the ticket list with `view=all` and the filters that select exactly those tickets. One query for the
figures whatever the number of tickets (the total adds the groups up).
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import User
from reports.pipeline import Period
from service.models import ACTIVE_STATUSES, Category, Channel, Queue, Ticket

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
    first_response_hours: Decimal | None = None
    resolution_hours: Decimal | None = None
    links: dict[str, str] = field(default_factory=dict)

    @property
    def sla_share(self) -> Decimal | None:
        return _share(self.sla_kept, self.with_sla)

    @property
    def reopen_rate(self) -> Decimal | None:
        return _share(self.reopened, self.solved)


def build(user: User, period: Period, dimension: str) -> tuple[list[ServiceRow], ServiceRow]:
    previous = period.previous()
    (first, end), (before, _end) = period.bounds(), previous.bounds()
    opened = Q(created_at__gte=first, created_at__lt=end)
    opened_before = Q(created_at__gte=before, created_at__lt=first)
    solved = Q(resolved_at__gte=first, resolved_at__lt=end)
    backlog = Q(status__in=ACTIVE_STATUSES)
    figures = {
        "opened": Count("id", filter=opened), "previous_opened": Count("id", filter=opened_before),
        "solved": Count("id", filter=solved), "backlog": Count("id", filter=backlog),
        "with_sla": Count("id", filter=solved & Q(sla_met__isnull=False)),
        "sla_kept": Count("id", filter=solved & Q(sla_met=True)),
        "reopened": Count("id", filter=solved & Q(reopened_count__gt=0)),
        # Sums and counts, not averages: the total row adds the groups up instead of scanning again.
        "first_response_sum": Sum("first_response_minutes", filter=opened),
        "first_response_count": Count("first_response_minutes", filter=opened),
        "resolution_sum": Sum("resolution_minutes", filter=solved),
        "resolution_count": Count("resolution_minutes", filter=solved),
    }
    column = "queue_id" if dimension == "queue" else dimension
    tickets = Ticket.objects.visible_to(user).filter(opened | opened_before | solved | backlog)
    found = {row[column]: row for row in tickets.values(column).annotate(**figures).order_by()}
    total_found = {name: sum(row[name] or 0 for row in found.values()) for name in figures}
    if dimension == "queue":
        labels = [(queue.pk, queue.name) for queue in Queue.objects.filter(pk__in=[key for key in found if key])
                  .order_by("name")]
    else:
        labels = [(key, str(label)) for key, label in (Channel.choices if dimension == "channel" else Category.choices)]
    keys = labels + ([(None, _("No queue"))] if None in found else [])
    rows = [_row(key, label, found.get(key, {}), dimension, period, previous) for key, label in keys]
    total = _row("total", _("Total"), total_found, None, period, previous)
    return [row for row in rows if row.opened or row.previous_opened or row.solved or row.backlog], total


def _row(key, label, found: dict, dimension: str | None, period: Period, previous: Period) -> ServiceRow:
    row = ServiceRow(key=key, label=label, **{name: found.get(name) or 0 for name in (
        "opened", "previous_opened", "solved", "backlog", "with_sla", "sla_kept", "reopened")})
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
    }
    return row
