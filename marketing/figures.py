"""What a campaign achieved, computed from the records, never typed in.

Figures are aggregates over every member, lead and deal attributed to the campaign, whoever owns
them: a marketer judges a campaign by all it brought in, and an aggregate names no record. The
rows themselves (which leads, which deals) are listed only through `visible_to`.

Won revenue is summed from the deals' `amount_base` (DEFAULT_CURRENCY); the campaign's costs are
in its own currency and converted with the exchange rate for the ROI."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from marketing.models import (
    Campaign,
    CampaignCost,
    CampaignMember,
    DealAttribution,
    Delivery,
    DeliveryStatus,
    LeadAttribution,
    MemberStatus,
)
from sales.models import CurrencyRate, StageKind

ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass
class CampaignFigures:
    currency: str
    budget: Decimal
    cost: Decimal
    expected_revenue: Decimal
    members: dict[str, int] = field(default_factory=dict)
    leads: int = 0
    converted_leads: int = 0
    deals: int = 0
    won_deals: int = 0
    won_revenue: Decimal = ZERO  # in base_currency
    base_currency: str = settings.DEFAULT_CURRENCY
    cost_in_base: Decimal | None = None  # None: no exchange rate for the campaign's currency
    emails_sent: int = 0  # over the campaign's mailings (marketing/tracking.py counts opens and clicks)
    emails_opened: int = 0
    emails_clicked: int = 0

    @property
    def members_total(self) -> int:
        return sum(self.members.values())

    @property
    def responses(self) -> int:
        return self.members.get(MemberStatus.RESPONDED, 0) + self.members.get(MemberStatus.CONVERTED, 0)

    @property
    def remaining_budget(self) -> Decimal:
        return self.budget - self.cost

    @property
    def over_budget(self) -> bool:
        return self.cost > self.budget > ZERO

    @property
    def cost_per_lead(self) -> Decimal | None:
        return (self.cost / self.leads).quantize(CENT, rounding=ROUND_HALF_UP) if self.leads and self.cost else None

    @property
    def roi(self) -> Decimal | None:
        """(won revenue − cost) / cost, in per cent; None without costs or without an exchange rate."""
        if not self.cost_in_base:
            return None
        return ((self.won_revenue - self.cost_in_base) / self.cost_in_base * 100).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def no_rate(self) -> bool:
        return self.cost > ZERO and self.cost_in_base is None


def _cost_in_base(cost: Decimal, currency: str) -> Decimal | None:
    if currency == settings.DEFAULT_CURRENCY:
        return cost
    rate = CurrencyRate.objects.filter(currency=currency).values_list("rate", flat=True).first()
    return None if rate is None else (cost * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def campaign_figures(campaign: Campaign) -> CampaignFigures:
    """Five queries whatever the campaign's size: costs, members by status, leads, deals, e-mail."""
    cost = CampaignCost.objects.filter(campaign=campaign).aggregate(total=Sum("amount"))["total"] or ZERO
    members = dict(CampaignMember.objects.filter(campaign=campaign).order_by().values("status")
                   .annotate(total=Count("id")).values_list("status", "total"))
    leads = LeadAttribution.objects.filter(campaign=campaign, lead__deleted_at__isnull=True).aggregate(
        total=Count("lead"), converted=Count("lead", filter=Q(lead__converted_at__isnull=False)))
    won = Q(opportunity__stage__kind=StageKind.WON)
    deals = DealAttribution.objects.filter(campaign=campaign, opportunity__deleted_at__isnull=True).aggregate(
        total=Count("opportunity"), won=Count("opportunity", filter=won),
        revenue=Sum("opportunity__amount_base", filter=won))
    emails = Delivery.objects.filter(mailing__campaign=campaign).aggregate(
        sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)), opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(clicked_at__isnull=False)))
    return CampaignFigures(
        emails_sent=emails["sent"], emails_opened=emails["opened"], emails_clicked=emails["clicked"],
        currency=campaign.currency, budget=campaign.budget, cost=cost, expected_revenue=campaign.expected_revenue,
        members=members, leads=leads["total"], converted_leads=leads["converted"], deals=deals["total"],
        won_deals=deals["won"], won_revenue=deals["revenue"] or ZERO,
        cost_in_base=_cost_in_base(cost, campaign.currency) if cost else None)


def with_list_figures(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Cost and lead count per campaign as subqueries, so a list of campaigns stays one query."""
    costs = (CampaignCost.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")
             .annotate(total=Sum("amount")).values("total"))
    leads = (LeadAttribution.objects.filter(campaign=OuterRef("pk"), lead__deleted_at__isnull=True).order_by()
             .values("campaign").annotate(total=Count("lead")).values("total"))
    return queryset.annotate(
        cost_total=Coalesce(Subquery(costs), Value(ZERO)),
        lead_total=Coalesce(Subquery(leads, output_field=IntegerField()), Value(0)))
