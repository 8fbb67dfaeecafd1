"""What reports adds to "my day" (crm/panels.py, target HOME): the month's sales against target and the deals
closing this week, in the reader's scope — a rep their own deals and targets, a manager the team's, an
executive the company's with links to the dashboards. Every figure is the pipeline dashboard's own
(reports/pipeline.py) for the month, and links to the list of the deals it counts."""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Case, Count, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from crm import panels, visibility
from reports import pipeline
from reports.pipeline import MONEY_FIELD, MONTH, Filters, Period
from sales.models import CurrencyRate, Opportunity, SalesTarget, Stage, StageKind, TargetPeriod


def week_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    monday = today - datetime.timedelta(days=today.weekday())
    return monday, monday + datetime.timedelta(days=6)


def _in_base_currency():
    """A deal's amount in DEFAULT_CURRENCY at today's rate, read in the same query (the dashboards' rule: a
    currency with no rate any more counts at the rate of the deal's last save, `amount_base`)."""
    rate = CurrencyRate.objects.filter(currency=OuterRef("currency")).values("rate")[:1]
    return Case(When(currency=settings.DEFAULT_CURRENCY, then=F("amount")),
                default=Coalesce(ExpressionWrapper(F("amount") * Subquery(rate), output_field=MONEY_FIELD),
                                 F("amount_base")),
                output_field=MONEY_FIELD)


def _target(user, scope: visibility.Scope, month: datetime.date) -> Decimal | None:
    """The month's target of the reader's scope: their own, their teams', or every team's (one query)."""
    targets = SalesTarget.objects.filter(period=TargetPeriod.MONTH, period_start=month)
    if scope == visibility.Scope.OWN:
        targets = targets.filter(user=user)
    elif scope == visibility.Scope.TEAM:
        targets = targets.filter(team_id__in=visibility.managed_team_ids(user))
    else:
        targets = targets.filter(team__isnull=False)
    return targets.aggregate(total=Sum("amount"))["total"]


@panels.register(panels.HOME, slot=panels.FIGURES, order=30)
def sales_month(request, user, page):
    """Two queries: this month's and last month's won deals with this week's closings, and the target."""
    if not visibility.can_read(user, Opportunity):
        return None
    scope = visibility.read_scope(user, Opportunity)
    today = timezone.localdate()
    month = Period.containing(MONTH, today)
    filters = Filters(period=month, owner=user if scope == visibility.Scope.OWN else None)
    monday, sunday = week_bounds(today)
    amount = _in_base_currency()
    (first, end), (before, _end) = month.bounds(), month.previous().bounds()
    won_stages = Stage.objects.filter(kind=StageKind.WON).values("id")
    open_stages = Stage.objects.filter(kind=StageKind.OPEN).values("id")
    won_now = Q(stage_id__in=won_stages, closed_at__gte=first, closed_at__lt=end)
    won_before = Q(stage_id__in=won_stages, closed_at__gte=before, closed_at__lt=first)
    this_week = Q(stage_id__in=open_stages, expected_close_date__gte=monday, expected_close_date__lte=sunday)
    # The WHERE picks the few rows the figures count (by the stage/close indexes), not every visible deal.
    relevant = Q(stage_id__in=won_stages, closed_at__gte=before, closed_at__lt=end) | this_week
    figures = pipeline.deals_in_view(user, filters).filter(relevant).aggregate(
        won=Sum(amount, filter=won_now), won_count=Count("id", filter=won_now),
        before=Sum(amount, filter=won_before), week=Sum(amount, filter=this_week),
        week_count=Count("id", filter=this_week))
    target = _target(user, scope, month.start)
    won = pipeline.money(figures["won"])
    return panels.Rendered("reports/panels/sales_month.html", {
        "scope": str(scope),
        "won": won,
        "won_count": figures["won_count"],
        "won_url": pipeline.drill_query(filters, status=StageKind.WON, closed_from=month.start,
                                        closed_to=month.last_day),
        "before": pipeline.money(figures["before"]),
        "target": target,
        "attainment": (won * 100 / target).quantize(Decimal("1"), rounding=ROUND_HALF_UP) if target else None,
        "week_count": figures["week_count"],
        "week_total": pipeline.money(figures["week"]),
        "week_url": pipeline.drill_query(filters, status=StageKind.OPEN, close_from=monday, close_to=sunday),
        "currency": settings.DEFAULT_CURRENCY,
        "dashboard_url": reverse("reports") + "?" + urlencode({"period": MONTH, **filters.list_params()}),
        "analysis_url": reverse("reports_analysis") + "?period=month&by=owner",
        "team_url": reverse("reports_team") + "?period=month",
        "customers_url": reverse("reports_customers"),
    })
