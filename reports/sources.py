"""Lead-source performance (/reports/sources/): per inbound source, the leads of the period, how many of them
became a deal (first-contact efficiency), the deals created and the deals won, against the previous period.

- Leads: `Lead.visible_to(reader)` created in the period (the reader's time zone), by `source`; converted: those
  of them whose status is now *converted*. First-contact efficiency = converted ÷ leads. Links: the lead list
  with `source`, `created_from`, `created_to` (and `status=converted`).
- Deals (for roles that read deals): `Opportunity.visible_to(reader)` by `lead_source`: created in the period
  (`created_from`/`created_to`), and won in it (`status=won`, `closed_from`/`closed_to`) with their amount in
  DEFAULT_CURRENCY at today's rates.
- Leads or deals with no source are counted in their own row, which has no links (the lists cannot select
  "no source").
Three queries (the rates, the leads, the deals) whatever the number of rows.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from crm import visibility
from crm.choices import LeadSource
from crm.models import User
from reports.pipeline import Period, Rate, converted_amount, money
from sales.models import Lead, LeadStatus, Opportunity, StageKind

ZERO = Decimal(0)


def _url(name: str, **params: object) -> str:
    return reverse(name) + "?" + urlencode(
        {key: value.isoformat() if isinstance(value, datetime.date) else value for key, value in params.items()})


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if whole else None


@dataclass
class SourceRow:
    key: str
    label: str
    leads: int = 0
    converted: int = 0
    previous_leads: int = 0
    previous_converted: int = 0
    deals: int = 0
    won: int = 0
    won_amount: Decimal = ZERO
    previous_won_amount: Decimal = ZERO
    links: dict[str, str] = field(default_factory=dict)

    @property
    def efficiency(self) -> Decimal | None:
        return _rate(self.converted, self.leads)

    @property
    def previous_efficiency(self) -> Decimal | None:
        return _rate(self.previous_converted, self.previous_leads)


@dataclass
class Sources:
    rows: list[SourceRow]
    total: SourceRow
    with_deals: bool


def build(user: User, period: Period, rates: list[Rate]) -> Sources:
    previous = period.previous()
    (first, end), (before, _end) = period.bounds(), previous.bounds()
    now, then = Q(created_at__gte=first, created_at__lt=end), Q(created_at__gte=before, created_at__lt=first)
    converted = Q(status=LeadStatus.CONVERTED)
    leads = (Lead.objects.visible_to(user).filter(created_at__gte=before, created_at__lt=end).values("source")
             .annotate(leads=Count("id", filter=now), converted=Count("id", filter=now & converted),
                       previous_leads=Count("id", filter=then), previous_converted=Count("id", filter=then & converted))
             .order_by())
    keys = [*LeadSource.values, ""]
    rows = {key: SourceRow(key=key, label=str(LeadSource(key).label) if key else _("No source")) for key in keys}
    for row in leads:
        target = rows[row["source"] if row["source"] in rows else ""]
        for name in ("leads", "converted", "previous_leads", "previous_converted"):
            setattr(target, name, getattr(target, name) + row[name])
    with_deals = visibility.can_read(user, Opportunity)
    if with_deals:
        amount = converted_amount(rates)
        won_now = Q(stage__kind=StageKind.WON, closed_at__gte=first, closed_at__lt=end)
        won_then = Q(stage__kind=StageKind.WON, closed_at__gte=before, closed_at__lt=first)
        deals = (Opportunity.objects.visible_to(user).filter(now | won_now | won_then).values("lead_source")
                 .annotate(deals=Count("id", filter=now), won=Count("id", filter=won_now),
                           won_amount=Sum(amount, filter=won_now), previous_won_amount=Sum(amount, filter=won_then))
                 .order_by())
        for row in deals:
            target = rows[row["lead_source"] if row["lead_source"] in rows else ""]
            target.deals += row["deals"]
            target.won += row["won"]
            target.won_amount += money(row["won_amount"])
            target.previous_won_amount += money(row["previous_won_amount"])
    for key, row in rows.items():
        if not key:
            continue
        created = {"created_from": period.start, "created_to": period.last_day}
        row.links = {
            "leads": _url("sales:lead_list", source=key, **created),
            "converted": _url("sales:lead_list", source=key, status=LeadStatus.CONVERTED, **created),
            "previous_leads": _url("sales:lead_list", source=key, created_from=previous.start,
                                   created_to=previous.last_day),
            "deals": _url("sales:opportunity_list", lead_source=key, **created),
            "won": _url("sales:opportunity_list", lead_source=key, status=StageKind.WON, closed_from=period.start,
                        closed_to=period.last_day),
        }
    shown = [row for row in rows.values() if row.leads or row.previous_leads or row.deals or row.won
             or row.previous_won_amount]
    total = SourceRow(key="total", label=_("Total"))
    for row in rows.values():
        for name in ("leads", "converted", "previous_leads", "previous_converted", "deals", "won"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.won_amount += row.won_amount
        total.previous_won_amount += row.previous_won_amount
    return Sources(rows=sorted(shown, key=lambda row: (-row.leads, -row.won_amount, row.label)), total=total,
                   with_deals=with_deals)
