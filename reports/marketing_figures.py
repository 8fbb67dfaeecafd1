"""The marketing dashboard (/reports/marketing/): what each campaign cost and brought in the period against the
previous one, and how the mailings sent in the period were received. `build(user, period)` is the whole
dashboard as data, so it can be drawn on the page or mailed.

- Campaigns: those the reader may see (`Campaign.visible_to`, CAMPAIGN_DATA). Cost: the campaign's costs
  incurred in the period (`incurred_on`), converted to DEFAULT_CURRENCY at today's rates (a cost in a currency
  with no rate is left out of the ROI and flagged). Leads: the leads attributed to the campaign and created in
  the period, over what the reader may see (`Lead.visible_to`); link: the lead list with `campaign`,
  `created_from`, `created_to`. Deals: attributed deals created in the period; won: attributed deals won in it
  with their amount at today's rates. A reader of deals gets them through `Opportunity.visible_to`, with links
  to the deal list (`campaign`, `created_*` / `status=won`, `closed_*`); a marketer, who reads no deals, gets
  the aggregate over every attributed deal, as the campaign page shows it (marketing/figures.py), without
  links. ROI and cost per lead are marketing/figures.py's (`CampaignFigures`).
- Mailings: the visible mailings started in the period, one row each: sent, bounced, delivered (sent and not
  bounced), opened, clicked, unsubscribed, with the rates over what was sent or delivered; each row links to
  the mailing's page, whose counts are the same (marketing/mailings.py `counts`).
Six queries whatever the number of campaigns, mailings and deliveries.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.urls import reverse

from crm import visibility
from crm.models import User
from marketing.figures import CampaignFigures
from marketing.models import Campaign, CampaignCost, DeliveryStatus, Mailing
from reports.pipeline import Period, Rate, converted_amount, current_rates, money
from sales.models import Lead, LeadStatus, Opportunity, StageKind

ZERO = Decimal(0)


def _url(name: str, **params: object) -> str:
    return reverse(name) + "?" + urlencode(
        {key: value.isoformat() if isinstance(value, datetime.date) else value for key, value in params.items()})


def rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if whole else None


@dataclass
class CampaignRow:
    campaign_id: int | None  # None: the total
    name: str
    url: str = ""
    cost: Decimal = ZERO  # DEFAULT_CURRENCY
    previous_cost: Decimal = ZERO
    unconverted: bool = False  # a cost in a currency with no rate
    leads: int = 0
    converted: int = 0
    previous_leads: int = 0
    deals: int = 0
    won: int = 0
    won_amount: Decimal = ZERO
    previous_won_amount: Decimal = ZERO
    links: dict[str, str] = field(default_factory=dict)

    def _figures(self, cost: Decimal, won: Decimal, leads: int) -> CampaignFigures:
        return CampaignFigures(currency=settings.DEFAULT_CURRENCY, budget=ZERO, cost=cost, expected_revenue=ZERO,
                               leads=leads, won_revenue=won, cost_in_base=cost or None)

    @property
    def roi(self) -> Decimal | None:
        return self._figures(self.cost, self.won_amount, self.leads).roi

    @property
    def previous_roi(self) -> Decimal | None:
        return self._figures(self.previous_cost, self.previous_won_amount, self.previous_leads).roi

    @property
    def cost_per_lead(self) -> Decimal | None:
        return self._figures(self.cost, self.won_amount, self.leads).cost_per_lead


@dataclass
class MailingRow:
    mailing_id: int | None
    subject: str
    campaign: str = ""
    started_at: datetime.datetime | None = None
    url: str = ""
    recipients: int = 0
    sent: int = 0
    bounced: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0

    @property
    def delivered(self) -> int:
        return self.sent - self.bounced

    @property
    def delivery_rate(self) -> Decimal | None:
        return rate(self.delivered, self.sent)

    @property
    def bounce_rate(self) -> Decimal | None:
        return rate(self.bounced, self.sent)

    @property
    def open_rate(self) -> Decimal | None:
        return rate(self.opened, self.delivered)

    @property
    def click_rate(self) -> Decimal | None:
        return rate(self.clicked, self.delivered)

    @property
    def unsubscribe_rate(self) -> Decimal | None:
        return rate(self.unsubscribed, self.delivered)


@dataclass
class MarketingDashboard:
    period: Period
    currency: str
    rates: list[Rate]
    campaigns: list[CampaignRow]
    total: CampaignRow
    mailings: list[MailingRow]
    mailing_total: MailingRow
    previous_mailing_total: MailingRow
    with_deal_links: bool


def _in_base(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal | None:
    if currency == settings.DEFAULT_CURRENCY:
        return amount
    return None if currency not in rates else amount * rates[currency]


def _campaigns(user: User, period: Period, rates: list[Rate]) -> tuple[list[CampaignRow], CampaignRow, bool]:
    previous = period.previous()
    (first, end), (before, _end) = period.bounds(), previous.bounds()
    now, then = Q(created_at__gte=first, created_at__lt=end), Q(created_at__gte=before, created_at__lt=first)
    visible = Campaign.objects.visible_to(user)
    rows: dict[int, CampaignRow] = {}

    def row(campaign_id: int) -> CampaignRow:
        return rows.setdefault(campaign_id, CampaignRow(campaign_id=campaign_id, name=""))

    by_currency = {item.currency: item.rate for item in rates}
    costs = (CampaignCost.objects.filter(campaign__in=visible, incurred_on__gte=previous.start,
                                         incurred_on__lt=period.end)
             .values("campaign", "campaign__currency")
             .annotate(now=Sum("amount", filter=Q(incurred_on__gte=period.start)),
                       then=Sum("amount", filter=Q(incurred_on__lt=period.start))).order_by())
    for item in costs:
        target = row(item["campaign"])
        for name, key in (("cost", "now"), ("previous_cost", "then")):
            amount = _in_base(item[key] or ZERO, item["campaign__currency"], by_currency)
            if amount is None:
                target.unconverted = target.unconverted or bool(item[key])
            else:
                setattr(target, name, getattr(target, name) + money(amount))
    converted = Q(status=LeadStatus.CONVERTED)
    leads = (Lead.objects.visible_to(user).filter(attribution__campaign__in=visible, created_at__gte=before,
                                                  created_at__lt=end)
             .values("attribution__campaign")
             .annotate(leads=Count("pk", filter=now), converted=Count("pk", filter=now & converted),
                       previous_leads=Count("pk", filter=then)).order_by())
    for item in leads:
        target = row(item["attribution__campaign"])
        target.leads, target.converted = item["leads"], item["converted"]
        target.previous_leads = item["previous_leads"]
    with_deal_links = visibility.can_read(user, Opportunity)
    deals = (Opportunity.objects.visible_to(user) if with_deal_links
             else Opportunity.objects.filter(deleted_at__isnull=True))
    amount = converted_amount(rates)
    won_now = Q(stage__kind=StageKind.WON, closed_at__gte=first, closed_at__lt=end)
    won_then = Q(stage__kind=StageKind.WON, closed_at__gte=before, closed_at__lt=first)
    for item in (deals.filter(Q(attribution__campaign__in=visible) & (now | won_now | won_then))
                 .values("attribution__campaign")
                 .annotate(deals=Count("pk", filter=now), won=Count("pk", filter=won_now),
                           won_amount=Sum(amount, filter=won_now), previous_won_amount=Sum(amount, filter=won_then))
                 .order_by()):
        target = row(item["attribution__campaign"])
        target.deals, target.won = item["deals"], item["won"]
        target.won_amount, target.previous_won_amount = money(item["won_amount"]), money(item["previous_won_amount"])
    names = dict(visible.filter(pk__in=list(rows)).values_list("pk", "name"))
    created = {"created_from": period.start, "created_to": period.last_day}
    for campaign_id, target in rows.items():
        target.name = names.get(campaign_id, "")
        target.url = reverse("marketing:campaign_detail", args=[campaign_id])
        target.links = {
            "leads": _url("sales:lead_list", campaign=campaign_id, **created),
            "converted": _url("sales:lead_list", campaign=campaign_id, status=LeadStatus.CONVERTED, **created),
            "previous_leads": _url("sales:lead_list", campaign=campaign_id, created_from=previous.start,
                                   created_to=previous.last_day),
        }
        if with_deal_links:
            target.links |= {
                "deals": _url("sales:opportunity_list", campaign=campaign_id, **created),
                "won": _url("sales:opportunity_list", campaign=campaign_id, status=StageKind.WON,
                            closed_from=period.start, closed_to=period.last_day),
            }
    total = CampaignRow(campaign_id=None, name="")
    for target in rows.values():
        for name in ("cost", "previous_cost", "leads", "converted", "previous_leads", "deals", "won", "won_amount",
                     "previous_won_amount"):
            setattr(total, name, getattr(total, name) + getattr(target, name))
        total.unconverted = total.unconverted or target.unconverted
    shown = sorted(rows.values(), key=lambda target: (-target.won_amount, -target.leads, -target.cost, target.name))
    return shown, total, with_deal_links


def _mailings(user: User, period: Period) -> tuple[list[MailingRow], MailingRow, MailingRow]:
    (first, end), (before, _end) = period.bounds(), period.previous().bounds()
    sent = Q(deliveries__status=DeliveryStatus.SENT)
    figures = {
        "recipients": Count("deliveries"),
        "sent": Count("deliveries", filter=sent),
        "bounced": Count("deliveries", filter=sent & ~Q(deliveries__bounce="")),
        "opened": Count("deliveries", filter=Q(deliveries__opened_at__isnull=False)),
        "clicked": Count("deliveries", filter=Q(deliveries__clicked_at__isnull=False)),
        "unsubscribed": Count("deliveries", filter=Q(deliveries__unsubscribed_at__isnull=False)),
    }
    found = (Mailing.objects.visible_to(user).filter(started_at__gte=before, started_at__lt=end)
             .values("pk", "subject", "campaign__name", "started_at").annotate(**figures)
             .order_by("-started_at", "-pk"))
    rows, total, previous = [], MailingRow(None, ""), MailingRow(None, "")
    for item in found:
        target = MailingRow(mailing_id=item["pk"], subject=item["subject"], campaign=item["campaign__name"],
                            started_at=item["started_at"], url=reverse("marketing:mailing_detail", args=[item["pk"]]),
                            **{name: item[name] for name in figures})
        summed = total if item["started_at"] >= first else previous
        for name in figures:
            setattr(summed, name, getattr(summed, name) + item[name])
        if item["started_at"] >= first:
            rows.append(target)
    return rows, total, previous


def build(user: User, period: Period, rates: list[Rate] | None = None) -> MarketingDashboard:
    """The dashboard's figures over what `user` may see (the caller checks that they may read campaigns)."""
    rates = current_rates() if rates is None else rates
    campaigns, total, with_deal_links = _campaigns(user, period, rates)
    mailings, mailing_total, previous_mailing_total = _mailings(user, period)
    return MarketingDashboard(period=period, currency=settings.DEFAULT_CURRENCY, rates=rates, campaigns=campaigns,
                              total=total, mailings=mailings, mailing_total=mailing_total,
                              previous_mailing_total=previous_mailing_total, with_deal_links=with_deal_links)

