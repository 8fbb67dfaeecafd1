"""The executive pipeline dashboard: its figures, computed in a constant number of queries.

Every figure starts from `Opportunity.objects.visible_to(user)` narrowed by the dashboard's filters,
exactly as the opportunity list narrows it for the same URL parameters (sales/filters.py), so each
figure links to the list that shows the records it counts (`drill_query`).

What counts where:
- open pipeline: deals in an open stage whose expected close date is in the period (what can still
  close in it), by stage and by close month; weighted = Σ amount × probability / 100;
- won / lost: deals in a won / lost stage whose `closed_at` falls in the period (the reader's time
  zone, as the list's "closed from / until" filters read it);
- win rate: won ÷ (won + lost) deals closed in the period;
- average deal size: won amount ÷ won deals;
- sales cycle: the average number of days from a won deal's first recorded stage (its first
  StageChange, the day it entered the pipeline) to the day it closed;
- target: the period's targets of the people or teams in view (sales/forecast_services.py sets them).

Amounts are in DEFAULT_CURRENCY, converted at today's CurrencyRate of each currency (the rate and the
day it was set are shown on the page); a deal in a currency that has no rate any more counts at the
rate of its last save (`amount_base`).
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Model,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from crm import visibility
from crm.models import Team, Territory, User
from sales.models import (
    CurrencyRate,
    Opportunity,
    OpportunityQuerySet,
    Pipeline,
    SalesTarget,
    Stage,
    StageChange,
    StageKind,
    TargetPeriod,
)

ZERO = Decimal(0)
CENT = Decimal("0.01")
MONTH, QUARTER, YEAR = "month", "quarter", "year"
MONEY_FIELD = DecimalField(max_digits=30, decimal_places=10)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year."""

    kind: str
    start: datetime.date

    LENGTHS = {MONTH: 1, QUARTER: 3, YEAR: 12}

    @classmethod
    def containing(cls, kind: str, day: datetime.date) -> "Period":
        if kind == YEAR:
            return cls(kind, datetime.date(day.year, 1, 1))
        if kind == QUARTER:
            return cls(kind, datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1))
        return cls(MONTH, day.replace(day=1))

    @property
    def months(self) -> int:
        return self.LENGTHS[self.kind]

    @property
    def end(self) -> datetime.date:
        """The first day after the period."""
        return _add_months(self.start, self.months)

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    def previous(self) -> "Period":
        return Period(self.kind, _add_months(self.start, -self.months))

    def next(self) -> "Period":
        return Period(self.kind, _add_months(self.start, self.months))

    def month_starts(self) -> list[datetime.date]:
        return [_add_months(self.start, offset) for offset in range(self.months)]

    @property
    def label(self) -> str:
        if self.kind == YEAR:
            return str(self.start.year)
        if self.kind == QUARTER:
            return _("Q%(quarter)s %(year)s") % {"quarter": (self.start.month - 1) // 3 + 1, "year": self.start.year}
        return date_format(self.start, "YEAR_MONTH_FORMAT")

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The period as aware datetimes in the current (the reader's) time zone, end exclusive."""
        zone = timezone.get_current_timezone()
        return (datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone),
                datetime.datetime.combine(self.end, datetime.time.min, tzinfo=zone))


@dataclass
class Filters:
    """The dashboard's filters (already checked against what the user may see)."""

    period: Period
    pipeline: Pipeline | None = None
    team: Team | None = None
    owner: User | None = None
    territory: Territory | None = None

    def list_params(self) -> dict[str, int]:
        """The opportunity list's parameters for the same narrowing (sales/filters.py)."""
        chosen: tuple[tuple[str, Model | None], ...] = (
            ("pipeline", self.pipeline), ("team", self.team), ("owner", self.owner), ("territory", self.territory))
        return {name: obj.pk for name, obj in chosen if obj is not None}


def drill_query(filters: Filters, **params: object) -> str:
    """The opportunity list showing the records behind a figure."""
    query = {**filters.list_params(), **params}
    return reverse("sales:opportunity_list") + "?" + urlencode(
        {name: value.isoformat() if isinstance(value, datetime.date) else value for name, value in query.items()})


def _closed_params(kind: str, period: Period) -> dict[str, object]:
    return {"status": kind, "closed_from": period.start, "closed_to": period.last_day}


def _open_params(first: datetime.date, last: datetime.date, **extra: object) -> dict[str, object]:
    return {"status": StageKind.OPEN, "close_from": first, "close_to": last, **extra}


# --- Money -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    currency: str
    rate: Decimal
    updated_at: datetime.datetime

    @property
    def display(self) -> str:
        """The rate in the reader's number format, without trailing zeros (0.0105, not 0.01050000)."""
        return number_format(self.rate.normalize(), use_l10n=True)


def current_rates() -> list[Rate]:
    base = settings.DEFAULT_CURRENCY
    return [Rate(row.currency, row.rate, row.updated_at)
            for row in CurrencyRate.objects.exclude(currency=base).order_by("currency")]


def converted_amount(rates: list[Rate]) -> Case:
    """A deal's amount in DEFAULT_CURRENCY at today's rates (the rates table is short: one WHEN each)."""
    whens = [When(currency=settings.DEFAULT_CURRENCY, then=F("amount"))]
    whens += [When(currency=rate.currency, then=ExpressionWrapper(F("amount") * Value(rate.rate),
                                                                  output_field=MONEY_FIELD)) for rate in rates]
    return Case(*whens, default=F("amount_base"), output_field=MONEY_FIELD)


def money(value: Decimal | float | int | None) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


_money = money


# --- Figures ---------------------------------------------------------------------------------------


@dataclass
class Figure:
    """One number on the dashboard with the deals it counts (`count`) and where they are listed."""

    amount: Decimal = ZERO
    count: int = 0
    weighted: Decimal = ZERO
    url: str = ""


@dataclass
class Bucket(Figure):
    key: object = None
    label: str = ""


@dataclass
class PeriodFigures:
    period: Period
    won: Figure
    lost: Figure
    cycle_days: Decimal | None
    target: Decimal | None

    @property
    def closed(self) -> int:
        return self.won.count + self.lost.count

    @property
    def win_rate(self) -> Decimal | None:
        if not self.closed:
            return None
        return (Decimal(self.won.count) * 100 / self.closed).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def average_deal(self) -> Decimal | None:
        if not self.won.count:
            return None
        return _money(self.won.amount / self.won.count)

    @property
    def attainment(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.won.amount * 100 / self.target).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Change:
    """This period against the previous one: the difference and, when it means something, in %."""

    delta: Decimal | None
    percent: Decimal | None

    @classmethod
    def between(cls, current: Decimal | int | None, previous: Decimal | int | None) -> "Change":
        if current is None or previous is None:
            return cls(None, None)
        delta = Decimal(current) - Decimal(previous)
        percent = (delta * 100 / Decimal(previous)).quantize(Decimal("1"), rounding=ROUND_HALF_UP) if previous else None
        return cls(delta, percent)

    @property
    def size(self) -> Decimal | None:
        """The change without its sign (the arrow shows the direction)."""
        return None if self.delta is None else abs(self.delta)

    @property
    def size_percent(self) -> Decimal | None:
        return None if self.percent is None else abs(self.percent)

    @property
    def direction(self) -> str:
        if not self.delta:
            return "flat"
        return "up" if self.delta > 0 else "down"


@dataclass
class Dashboard:
    filters: Filters
    currency: str
    rates: list[Rate]
    open_total: Figure
    by_stage: list[Bucket]
    by_month: list[Bucket]
    current: PeriodFigures
    previous: PeriodFigures
    target_note: str
    changes: dict[str, Change] = field(default_factory=dict)


def deals_in_view(user: User, filters: Filters) -> OpportunityQuerySet:
    """The visible deals narrowed by the filters: the same rows the opportunity list starts from."""
    deals = Opportunity.objects.visible_to(user)
    if filters.pipeline is not None:
        deals = deals.filter(pipeline=filters.pipeline)
    if filters.team is not None:
        deals = deals.filter(team=filters.team)
    if filters.owner is not None:
        deals = deals.filter(owner=filters.owner)
    if filters.territory is not None:
        deals = deals.filter(account__territory_id__in=filters.territory.subtree_ids())
    return deals


def _stage_ids(stages: list[Stage], kind: str) -> list[int]:
    return [stage.pk for stage in stages if stage.kind == kind]


def build(user: User, filters: Filters) -> Dashboard:
    """Every figure of the dashboard, in a fixed number of queries whatever the number of deals."""
    period, previous = filters.period, filters.period.previous()
    rates = current_rates()
    amount = converted_amount(rates)
    weighted = ExpressionWrapper(amount * F("probability"), output_field=MONEY_FIELD)
    stage_rows = Stage.objects.select_related("pipeline").order_by("pipeline__position", "pipeline__name",
                                                                    "position", "id")
    if filters.pipeline is not None:
        stage_rows = stage_rows.filter(pipeline=filters.pipeline)
    stages = list(stage_rows)
    deals = deals_in_view(user, filters)

    # Open pipeline closing in the period, by stage and by close month (stages named by id: no join).
    open_in_period = deals.filter(stage_id__in=_stage_ids(stages, StageKind.OPEN),
                                  expected_close_date__gte=period.start, expected_close_date__lt=period.end)
    sums = {"total": Sum(amount), "weighted_total": Sum(weighted), "deals": Count("id")}
    per_stage = {row["stage_id"]: row for row in open_in_period.values("stage_id").annotate(**sums).order_by()}
    per_month = {row["month"]: row for row in open_in_period.annotate(month=TruncMonth("expected_close_date"))
                 .values("month").annotate(**sums).order_by()}
    several_pipelines = len({stage.pipeline_id for stage in stages}) > 1
    by_stage = []
    for stage in stages:
        if stage.kind != StageKind.OPEN or (not stage.active and stage.pk not in per_stage):
            continue
        row = per_stage.get(stage.pk, {})
        by_stage.append(Bucket(key=stage.pk, label=f"{stage.pipeline} › {stage}" if several_pipelines
                               else str(stage), amount=_money(row.get("total")), count=row.get("deals", 0),
                               weighted=_money((row.get("weighted_total") or ZERO) / 100),
                               url=drill_query(filters, **_open_params(period.start, period.last_day,
                                                                       stage=stage.pk))))
    by_month = []
    for first in period.month_starts():
        row = per_month.get(first, {})
        last = _add_months(first, 1) - datetime.timedelta(days=1)
        by_month.append(Bucket(key=first, label=date_format(first, "YEAR_MONTH_FORMAT"),
                               amount=_money(row.get("total")), count=row.get("deals", 0),
                               weighted=_money((row.get("weighted_total") or ZERO) / 100),
                               url=drill_query(filters, **_open_params(first, last))))
    open_total = Figure(amount=sum((bucket.amount for bucket in by_month), ZERO),
                        count=sum(bucket.count for bucket in by_month),
                        weighted=sum((bucket.weighted for bucket in by_month), ZERO),
                        url=drill_query(filters, **_open_params(period.start, period.last_day)))

    current, before = _closed_figures(deals, stages, amount, filters, period, previous)
    target_note = _targets(user, filters, current, before)
    dashboard = Dashboard(filters=filters, currency=settings.DEFAULT_CURRENCY, rates=rates, open_total=open_total,
                          by_stage=by_stage, by_month=by_month, current=current, previous=before,
                          target_note=target_note)
    dashboard.changes = {
        "won": Change.between(current.won.amount, before.won.amount),
        "won_count": Change.between(current.won.count, before.won.count),
        "lost_count": Change.between(current.lost.count, before.lost.count),
        "win_rate": Change.between(current.win_rate, before.win_rate),
        "average_deal": Change.between(current.average_deal, before.average_deal),
        "cycle_days": Change.between(current.cycle_days, before.cycle_days),
        "attainment": Change.between(current.attainment, before.attainment),
    }
    return dashboard


def _closed_figures(deals: OpportunityQuerySet, stages: list[Stage], amount: Case, filters: Filters, period: Period,
                    previous: Period) -> tuple[PeriodFigures, PeriodFigures]:
    """Won, lost and the sales cycle of this period and the previous one: one aggregation."""
    won_ids, lost_ids = _stage_ids(stages, StageKind.WON), _stage_ids(stages, StageKind.LOST)
    entered = StageChange.objects.filter(opportunity=OuterRef("pk")).order_by().values("opportunity") \
        .annotate(first=Min("changed_at")).values("first")
    cycle = ExpressionWrapper(F("closed_at") - Coalesce(Subquery(entered), F("created_at")),
                              output_field=DurationField())
    start, _end = previous.bounds()
    _start, end = period.bounds()
    rows = deals.filter(stage_id__in=won_ids + lost_ids, closed_at__gte=start, closed_at__lt=end)
    sums = {}
    for name, which in (("now", period), ("before", previous)):
        first, after = which.bounds()
        in_period = Q(closed_at__gte=first, closed_at__lt=after)
        won, lost = in_period & Q(stage_id__in=won_ids), in_period & Q(stage_id__in=lost_ids)
        sums.update({f"{name}_won": Sum(amount, filter=won), f"{name}_won_count": Count("id", filter=won),
                     f"{name}_lost": Sum(amount, filter=lost), f"{name}_lost_count": Count("id", filter=lost),
                     f"{name}_cycle": Avg(cycle, filter=won)})
    found = rows.aggregate(**sums)
    result = []
    for name, which in (("now", period), ("before", previous)):
        days = found[f"{name}_cycle"]
        result.append(PeriodFigures(
            period=which,
            won=Figure(amount=_money(found[f"{name}_won"]), count=found[f"{name}_won_count"],
                       url=drill_query(filters, **_closed_params(StageKind.WON, which))),
            lost=Figure(amount=_money(found[f"{name}_lost"]), count=found[f"{name}_lost_count"],
                        url=drill_query(filters, **_closed_params(StageKind.LOST, which))),
            cycle_days=None if days is None else Decimal(days.total_seconds() / 86400).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP),
            target=None,
        ))
    return result[0], result[1]


# --- Targets ---------------------------------------------------------------------------------------


def _targets(user: User, filters: Filters, *figures: PeriodFigures) -> str:
    """Sets each period's target and says whose targets they are. A rep (or the owner filter) compares
    with the person's targets; otherwise the targets of the teams in view. Targets are not split by
    pipeline or region, so with those filters there is nothing fair to compare with."""
    if filters.pipeline is not None or filters.territory is not None:
        return _("Targets are set for all pipelines and regions: clear the pipeline and territory filters to "
                 "compare with them.")
    scope = visibility.read_scope(user, Opportunity)
    if filters.owner is not None or scope == visibility.Scope.OWN:
        person = filters.owner or user
        subject, ids, note = "user_id", [person.pk], _("Target: %(person)s's targets.") % {"person": person}
    else:
        if filters.team is not None:
            ids = [filters.team.pk]
        elif scope == visibility.Scope.ALL:
            ids = list(Team.objects.values_list("id", flat=True))
        else:
            ids = list(visibility.managed_team_ids(user))
        subject, note = "team_id", _("Target: the sum of the teams' targets.")
    first = min(item.period.start for item in figures)
    last = max(item.period.end for item in figures)
    targets = list(SalesTarget.objects.filter(**{f"{subject}__in": ids}, period_start__gte=first,
                                              period_start__lt=last).values(subject, "period", "period_start",
                                                                            "amount"))
    for item in figures:
        item.target = _target_of(item.period, targets, subject)
    return note


def _target_of(period: Period, targets: list[dict[str, Any]], subject: str) -> Decimal | None:
    """A month: its month targets. A quarter: its quarter target, or the sum of its month targets when
    it has none. A year: the same, quarter by quarter. Summed over the subjects; None when none is set."""
    quarters = [period.start] if period.kind == MONTH else \
        [_add_months(period.start, offset) for offset in range(0, period.months, 3)]
    total, found = ZERO, False
    for key in {target[subject] for target in targets}:
        own = [target for target in targets if target[subject] == key]
        for quarter in quarters:
            if period.kind != MONTH:
                set_for_quarter = [target for target in own if target["period"] == TargetPeriod.QUARTER
                                   and target["period_start"] == quarter]
                if set_for_quarter:
                    total += set_for_quarter[0]["amount"]
                    found = True
                    continue
            months = {_add_months(quarter, offset) for offset in range(1 if period.kind == MONTH else 3)}
            for target in own:
                if target["period"] == TargetPeriod.MONTH and target["period_start"] in months:
                    total += target["amount"]
                    found = True
    return total if found else None
