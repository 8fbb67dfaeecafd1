"""The sales manager's dashboard: the pipeline dashboard's figures per rep, each rep's activity, deals
nobody has touched for N days, overdue tasks, the forecast against target for the current quarter, lost
deals by reason and by competitor, and the discounts given.

One row per person the reader may see (an executive: every seller; a manager: the members of the
teams they manage and themselves; a rep: themselves), narrowed by the team or owner filter. Each
figure is one aggregation over the records the reader may see, grouped by owner, and links to the list
that shows exactly those records:

- deals (reports/pipeline.py definitions): open and weighted pipeline closing in the period, won, lost,
  win rate, average deal, sales cycle, and new pipeline = deals created in the period (any stage);
  target = the rep's own targets for the period;
- activities (the activity list): calls and meetings dated in the period, tasks done (completed) in
  it, and open tasks due before now (overdue, whatever the period);
- idle deals: open deals with no activity for N days (sales.filters.idle_condition), as of now;
- discounts (the quote list): offered quotes dated in the period with a discount, their discount in the
  base currency, and those with a line priced under the quote's price book (sales.quote_filters).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import FieldError
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.models import Activity, ActivityKind, TaskStatus
from crm import visibility
from crm.models import User
from reports import aggregates, analysis
from reports.forms import PipelineDashboardForm
from reports.models import ActivityDay, DoneTask
from reports.pipeline import (
    MONEY_FIELD,
    ZERO,
    Change,
    Filters,
    Period,
    Rate,
    _closed_params,
    _open_params,
    _target_of,
    converted_amount,
    current_rates,
    deals_in_view,
    drill_query,
    money,
)
from sales import forecast_services
from sales.filters import idle_condition, people_choices, stage_ids_by_kind
from sales.models import Opportunity, Quote, SalesTarget, StageChange, StageKind, TargetPeriod
from sales.quote_filters import below_price_book_condition, discount_condition

DEFAULT_IDLE_DAYS = 14
MAX_IDLE_DAYS = 365
MAX_COMPETITORS = 15


class TeamDashboardForm(PipelineDashboardForm):
    """The pipeline dashboard's period, team and owner filters, and the "no activity for N days" threshold.
    Pipelines and territories are left out: activities and quotes have neither."""

    idle_days = forms.IntegerField(label=gettext_lazy("No activity for (days)"), required=False, min_value=1,
                                   max_value=MAX_IDLE_DAYS,
                                   widget=forms.NumberInput(attrs={"class": "form-control form-control-sm",
                                                                   "placeholder": DEFAULT_IDLE_DAYS}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["pipeline"], self.fields["territory"]

    def idle(self) -> int:
        self.is_valid()
        return self.cleaned_data.get("idle_days") or DEFAULT_IDLE_DAYS


@dataclass
class RepRow:
    key: int | None
    label: str
    open_amount: Decimal = ZERO
    open_count: int = 0
    weighted: Decimal = ZERO
    won_amount: Decimal = ZERO
    won_count: int = 0
    lost_count: int = 0
    previous_won: Decimal = ZERO
    cycle_seconds: float = 0.0
    created_amount: Decimal = ZERO
    created_count: int = 0
    target: Decimal | None = None
    calls: int = 0
    meetings: int = 0
    tasks_done: int = 0
    overdue: int = 0
    idle: int = 0
    discounted: int = 0
    discount_amount: Decimal = ZERO
    below_book: int = 0
    links: dict[str, str] = field(default_factory=dict)

    win_rate = analysis.Row.win_rate
    average_deal = analysis.Row.average_deal
    cycle_days = analysis.Row.cycle_days

    @property
    def attainment(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.won_amount * 100 / self.target).quantize(Decimal("0.1"))

    @property
    def won_change(self) -> Change:
        return Change.between(self.won_amount, self.previous_won)

    SUMMED = ("open_amount", "open_count", "weighted", "won_amount", "won_count", "lost_count", "previous_won",
              "cycle_seconds", "created_amount", "created_count", "calls", "meetings", "tasks_done", "overdue",
              "idle", "discounted", "discount_amount", "below_book")

    def add(self, other: "RepRow") -> None:
        for name in self.SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.target is not None:
            self.target = (self.target or ZERO) + other.target


@dataclass
class CompetitorRow:
    label: str
    count: int
    amount: Decimal
    url: str


@dataclass
class ForecastRow:
    label: str
    target: Decimal | None
    won: Decimal
    commit: Decimal
    best_case: Decimal
    weighted: Decimal
    attainment: Decimal | None
    links: dict[str, str]


@dataclass
class TeamDashboard:
    filters: Filters
    idle_days: int
    currency: str
    rates: list[Rate]
    rows: list[RepRow]
    total: RepRow
    reasons: list[analysis.ReasonRow]
    competitors: list[CompetitorRow]
    forecast_period: forecast_services.Period
    forecast: list[ForecastRow]
    forecast_url: str
    as_of: datetime.datetime | None = None  # the activity figures' refresh time, None when counted live


def people_in_view(user: User, filters: Filters) -> list[User]:
    """The sellers whose rows the reader may see (the opportunity list's owner filter offers the same)."""
    if visibility.read_scope(user, Opportunity) == visibility.Scope.OWN:
        return [user]  # a rep's row is their own (teammates' shared deals count under "Other owners")
    people = people_choices(user, Opportunity)
    if filters.team is not None:
        people = [person for person in people if person.team_id == filters.team.pk]
    if filters.owner is not None:
        people = [person for person in people if person.pk == filters.owner.pk]
    return people


def activity_url(**params: object) -> str:
    return reverse("activity_list") + "?" + urlencode(
        {name: value.isoformat() if isinstance(value, datetime.date) else value for name, value in params.items()})


def quote_url(**params: object) -> str:
    return reverse("sales:quote_list") + "?" + urlencode(
        {name: value.isoformat() if isinstance(value, datetime.date) else value for name, value in params.items()})


def _converted(field_name: str, rates: list[Rate]) -> Case:
    """A document's money in DEFAULT_CURRENCY at today's rates; a currency with no rate is left out."""
    whens = [When(currency=settings.DEFAULT_CURRENCY, then=F(field_name))]
    whens += [When(currency=rate.currency, then=ExpressionWrapper(F(field_name) * Value(rate.rate),
                                                                   output_field=MONEY_FIELD)) for rate in rates]
    return Case(*whens, default=Value(None), output_field=MONEY_FIELD)


def build(user: User, filters: Filters, idle_days: int, rates: list[Rate]) -> TeamDashboard:
    people = people_in_view(user, filters)
    rows = {person.pk: RepRow(key=person.pk, label=str(person)) for person in people}
    ids = list(rows)
    # Deals in view owned by someone without a row (who left sales, or sits in another team): counted
    # apart, so that the total is every deal the list shows for the same filters.
    others = RepRow(key=None, label=_("Other owners"))
    targets: list[dict[str, Any]] = []
    as_of = None
    if ids:
        _deal_figures(user, filters, rows, others, rates)
        targets = _targets(filters.period, rows)
        as_of = _activity_figures(user, filters.period, rows)
        _idle_figures(user, filters, idle_days, rows, others)
        _discount_figures(user, filters.period, rows, rates)
    ordered = sorted(rows.values(), key=lambda row: (-row.won_amount, -row.open_amount, row.label.lower()))
    total = RepRow(key=None, label=_("Total"))
    for row in ordered:
        total.add(row)
    for row in ordered:
        row.links = _links(filters, idle_days, row)
    if any(getattr(others, name) for name in RepRow.SUMMED):
        total.add(others)
        ordered.append(others)
    total.links = _links(filters, idle_days, total)
    forecast_period, forecast_rows, forecast_url = _forecast(user, filters, rows, targets)
    reasons = analysis.lost_reasons(user, filters, rates) if ids else []
    return TeamDashboard(filters=filters, idle_days=idle_days, currency=settings.DEFAULT_CURRENCY, rates=rates,
                         rows=ordered, total=total, reasons=reasons,
                         competitors=_competitors(user, filters, ids, rates),
                         forecast_period=forecast_period, forecast=forecast_rows, forecast_url=forecast_url,
                         as_of=as_of)


def _deal_figures(user: User, filters: Filters, rows: dict[int, RepRow], others: RepRow,
                  rates: list[Rate]) -> None:
    """Open, weighted, won, lost, cycle and new pipeline per owner: one aggregation."""
    period, previous = filters.period, filters.period.previous()
    ids = stage_ids_by_kind()
    open_ids, won_ids, lost_ids = ids[StageKind.OPEN], ids[StageKind.WON], ids[StageKind.LOST]
    amount = converted_amount(rates)
    first, after = period.bounds()
    before_first, _before_after = previous.bounds()
    closed_now = Q(closed_at__gte=first, closed_at__lt=after)
    won, lost = closed_now & Q(stage_id__in=won_ids), closed_now & Q(stage_id__in=lost_ids)
    won_before = Q(closed_at__gte=before_first, closed_at__lt=first, stage_id__in=won_ids)
    open_ = Q(stage_id__in=open_ids, expected_close_date__gte=period.start, expected_close_date__lt=period.end)
    created = Q(created_at__gte=first, created_at__lt=after)
    entered = StageChange.objects.filter(opportunity=OuterRef("pk")).order_by().values("opportunity") \
        .annotate(first=Min("changed_at")).values("first")
    cycle = ExpressionWrapper(F("closed_at") - Coalesce(Subquery(entered), F("created_at")),
                              output_field=DurationField())
    weighted = ExpressionWrapper(amount * F("probability"), output_field=MONEY_FIELD)
    found = deals_in_view(user, filters).filter(won | lost | won_before | open_ | created).values("owner_id").annotate(
            won_amount=Sum(amount, filter=won), won_count=Count("id", filter=won), lost_count=Count("id", filter=lost),
            previous_won=Sum(amount, filter=won_before), open_amount=Sum(amount, filter=open_),
            open_count=Count("id", filter=open_), weighted=Sum(weighted, filter=open_), cycle=Sum(cycle, filter=won),
            created_amount=Sum(amount, filter=created), created_count=Count("id", filter=created)).order_by()
    for item in found:
        row = rows.get(item["owner_id"]) or RepRow(key=None, label="")
        row.won_amount, row.won_count = money(item["won_amount"]), item["won_count"]
        row.lost_count, row.previous_won = item["lost_count"], money(item["previous_won"])
        row.open_amount, row.open_count = money(item["open_amount"]), item["open_count"]
        row.weighted = money((item["weighted"] or ZERO) / 100)
        row.cycle_seconds = item["cycle"].total_seconds() if item["cycle"] else 0.0
        row.created_amount, row.created_count = money(item["created_amount"]), item["created_count"]
        if item["owner_id"] not in rows:
            others.add(row)


def _targets(period: Period, rows: dict[int, RepRow]) -> list[dict[str, Any]]:
    """The people's targets of the period and of the current quarter (the forecast's), in one query."""
    quarter = forecast_services.Period.containing(TargetPeriod.QUARTER, timezone.localdate())
    targets = list(SalesTarget.objects.filter(user_id__in=list(rows))
                   .filter(Q(period_start__gte=period.start, period_start__lt=period.end)
                           | Q(period_start__gte=quarter.start, period_start__lt=quarter.end))
                   .values("user_id", "period", "period_start", "amount"))
    in_period = [target for target in targets if period.start <= target["period_start"] < period.end]
    for pk, row in rows.items():
        row.target = _target_of(period, [target for target in in_period if target["user_id"] == pk], "user_id")
    return targets


def _activity_figures(user: User, period: Period, rows: dict[int, RepRow]) -> datetime.datetime | None:
    """Calls and meetings dated in the period, tasks done in it, and open tasks overdue now. From the kept
    figures (reports/aggregates.py) when they are built: the period's whole summary days from the table, the
    parts of a day at its ends (a reader in another time zone than TIME_ZONE) counted live; returns their time
    then (the page shows it), None when counted live."""
    first, after = period.bounds()
    split = aggregates.split(first, after)
    as_of = _kept_activity_figures(user, split, rows) if split is not None else None
    if as_of is None:
        _live_activity_figures(user, first, after, rows)
    return as_of


def _live_activity_figures(user: User, first: datetime.datetime, after: datetime.datetime,
                           rows: dict[int, RepRow]) -> None:
    """One aggregation over the activities the reader may see."""
    dated = Q(occurred_at__gte=first, occurred_at__lt=after)
    calls, meetings = dated & Q(kind=ActivityKind.CALL), dated & Q(kind=ActivityKind.MEETING)
    done = Q(kind=ActivityKind.TASK, status=TaskStatus.DONE, completed_at__gte=first, completed_at__lt=after)
    overdue = Q(kind=ActivityKind.TASK, status=TaskStatus.OPEN, occurred_at__lt=timezone.now())
    found = Activity.objects.visible_to(user).filter(owner_id__in=list(rows)) \
        .filter(calls | meetings | done | overdue).values("owner_id").annotate(
            calls=Count("id", filter=calls), meetings=Count("id", filter=meetings),
            tasks_done=Count("id", filter=done), overdue=Count("id", filter=overdue)).order_by()
    for item in found:
        row = rows[item["owner_id"]]
        row.calls, row.meetings, row.tasks_done, row.overdue = (item["calls"], item["meetings"], item["tasks_done"],
                                                                item["overdue"])


def _kept_activity_figures(user: User, split: aggregates.Split, rows: dict[int, RepRow]) -> datetime.datetime | None:
    """The same figures as sums of ActivityDay rows in the reader's circle (the owner, team and sharing columns
    the activity policy filters on) over the period's whole summary days, with the table's refresh time in the
    same query; plus what `_live_edges` counts (the parts of a day at the period's ends, today's due tasks).
    None (count live) when the table is not built, or when these people have activities outside the reader's
    circle in the days the period touches (which the reader may still see through a customer or a meeting: the
    kept rows cannot tell)."""
    circle = visibility.read_q(user, Activity)
    inside, outside = (Q(), Q(pk__in=[])) if circle is None else (circle, ~circle)
    now = timezone.now()
    today = aggregates.day_of(now)
    in_period = Q(day__gte=split.days[0], day__lte=split.days[1])
    touched = split.touched_days()
    before_today = Q(day__lt=today, kind=ActivityKind.TASK)
    kept = ActivityDay.objects.filter(owner_id__in=list(rows)).filter(
        Q(day__gte=touched[0], day__lte=touched[1]) | before_today | Q(day=today))
    try:
        found = list(kept.values("owner_id").annotate(
            calls=Sum("dated", filter=inside & in_period & Q(kind=ActivityKind.CALL)),
            meetings=Sum("dated", filter=inside & in_period & Q(kind=ActivityKind.MEETING)),
            tasks_done=Sum("done", filter=inside & in_period & Q(kind=ActivityKind.TASK)),
            overdue=Sum("open_tasks", filter=inside & before_today),
            outside=Sum(F("dated") + F("done"), filter=outside),
            as_of=Max(aggregates.refreshed_at(aggregates.ACTIVITIES))).order_by())
    except FieldError:
        return None  # a policy narrowing on a column the kept rows do not have
    as_of = found[0]["as_of"] if found else None
    if as_of is None or any(item["outside"] for item in found):
        return None
    try:
        edges = _live_edges(circle, split, now, today, list(rows))
    except FieldError:
        return None  # a policy narrowing on a column the done-task ledger does not have
    for item in found:
        row = rows[item["owner_id"]]
        row.calls, row.meetings, row.tasks_done = item["calls"] or 0, item["meetings"] or 0, item["tasks_done"] or 0
        row.overdue = item["overdue"] or 0
    for owner_id, (due, calls, meetings, done) in edges.items():
        row = rows[owner_id]
        row.overdue, row.calls, row.meetings, row.tasks_done = (row.overdue + due, row.calls + calls,
                                                                row.meetings + meetings, row.tasks_done + done)
    return as_of


def _live_edges(circle: Q | None, split: aggregates.Split, now: datetime.datetime, today: datetime.date,
                people: list[int]) -> dict[int, list[int]]:
    """Per person, what adds to the kept figures (due, calls, meetings, done): today's open tasks already due, the
    calls and meetings dated in the period's edges (each inside one summary day: a short range of the (owner,
    kind, when) index), in one query; and the tasks done in the edges, from the done-task ledger (kept with the
    table: the rows of that day on its (owner, day) index, by completion time). Every activity of these people
    in the touched days is inside the reader's circle (checked by the caller), so the circle is their
    visibility."""
    due = Q(kind=ActivityKind.TASK, status=TaskStatus.OPEN, occurred_at__gte=aggregates.start_of_day(today),
            occurred_at__lt=now)
    dated, done = Q(pk__in=[]), Q(pk__in=[])
    for first, after in split.edges:
        dated |= Q(occurred_at__gte=first, occurred_at__lt=after)
        done |= Q(day=aggregates.day_of(first), completed_at__gte=first, completed_at__lt=after)
    dated &= Q(kind__in=[ActivityKind.CALL, ActivityKind.MEETING])
    live = Activity.objects.alive().filter(owner_id__in=people).filter(due | dated)
    tasks = DoneTask.objects.filter(owner_id__in=people).filter(done)
    if circle is not None:
        live, tasks = live.filter(circle), tasks.filter(circle)
    found: dict[int, list[int]] = {}
    for item in live.values("owner_id").annotate(
            due=Count("id", filter=due), calls=Count("id", filter=dated & Q(kind=ActivityKind.CALL)),
            meetings=Count("id", filter=dated & Q(kind=ActivityKind.MEETING))).order_by():
        found[item["owner_id"]] = [item["due"], item["calls"], item["meetings"], 0]
    if split.edges:
        for item in tasks.values("owner_id").annotate(n=Count("activity_id")).order_by():
            found.setdefault(item["owner_id"], [0, 0, 0, 0])[3] = item["n"]
    return found


def _idle_figures(user: User, filters: Filters, idle_days: int, rows: dict[int, RepRow], others: RepRow) -> None:
    found = deals_in_view(user, filters).filter(stage_id__in=stage_ids_by_kind()[StageKind.OPEN]) \
        .filter(idle_condition(idle_days)).values("owner_id").annotate(idle=Count("id")).order_by()
    for item in found:
        (rows[item["owner_id"]] if item["owner_id"] in rows else others).idle += item["idle"]


def _discount_figures(user: User, period: Period, rows: dict[int, RepRow], rates: list[Rate]) -> None:
    """Offered quotes dated in the period with a discount (and its amount), or a line under the price book."""
    discounted, below = discount_condition(), below_price_book_condition()
    found = Quote.objects.visible_to(user).filter(owner_id__in=list(rows), issue_date__gte=period.start,
                                                  issue_date__lt=period.end).filter(discounted | below) \
        .values("owner_id").annotate(discounted=Count("id", filter=discounted),
                                     discount_amount=Sum(_converted("discount_total", rates), filter=discounted),
                                     below_book=Count("id", filter=below)).order_by()
    for item in found:
        row = rows[item["owner_id"]]
        row.discounted, row.discount_amount = item["discounted"], money(item["discount_amount"])
        row.below_book = item["below_book"]


def _links(filters: Filters, idle_days: int, row: RepRow) -> dict[str, str]:
    """Where each figure of a row leads; the total row's links cover every person in view when no owner is
    chosen, which is what the lists show for the same filters."""
    period, previous = filters.period, filters.period.previous()
    who: dict[str, object] = {"owner": row.key} if row.key else {}
    # Activities and quotes have no team filter: the total row links to them only for one chosen person.
    activity_who = who or ({"owner": filters.owner.pk} if filters.owner else {})
    deals = {
        "open": drill_query(filters, **_open_params(period.start, period.last_day), **who),
        "won": drill_query(filters, **_closed_params(StageKind.WON, period), **who),
        "lost": drill_query(filters, **_closed_params(StageKind.LOST, period), **who),
        "previous_won": drill_query(filters, **_closed_params(StageKind.WON, previous), **who),
        "created": drill_query(filters, created_from=period.start, created_to=period.last_day, **who),
        "idle": drill_query(filters, idle_days=idle_days, **who),
    }
    return {**deals, **_person_links(period, activity_who)} if activity_who else deals


def _person_links(period: Period, who: dict[str, object]) -> dict[str, str]:
    dated = {"occurred_from": period.start, "occurred_to": period.last_day}
    issued = {"issued_from": period.start, "issued_to": period.last_day}
    return {
        "calls": activity_url(kind=ActivityKind.CALL, **dated, **who),
        "meetings": activity_url(kind=ActivityKind.MEETING, **dated, **who),
        "tasks_done": activity_url(kind=ActivityKind.TASK, done_from=period.start, done_to=period.last_day, **who),
        "overdue": activity_url(overdue=1, **who),
        "discounted": quote_url(discounted=1, **issued, **who),
        "below_book": quote_url(below_price_book=1, **issued, **who),
    }


def _competitors(user: User, filters: Filters, ids: list[int], rates: list[Rate]) -> list[CompetitorRow]:
    """Deals lost in the period by each competitor named on them (the field lists them separated by commas;
    a name counts once per deal, whatever its case)."""
    if not ids:
        return []
    first, after = filters.period.bounds()
    found = deals_in_view(user, filters).filter(
        stage_id__in=stage_ids_by_kind()[StageKind.LOST], closed_at__gte=first, closed_at__lt=after) \
        .exclude(competitors="").annotate(converted=converted_amount(rates)).values_list("competitors", "converted")
    counts: dict[str, list] = {}
    for names, amount in found:
        for name in {part.strip().casefold(): part.strip() for part in names.split(",") if part.strip()}.items():
            entry = counts.setdefault(name[0], [name[1], 0, ZERO])
            entry[1] += 1
            entry[2] += amount or ZERO
    lost = {"status": StageKind.LOST, "closed_from": filters.period.start, "closed_to": filters.period.last_day}
    rows = [CompetitorRow(label=label, count=count, amount=money(amount),
                          url=drill_query(filters, competitor=label, **lost))
            for label, count, amount in counts.values()]
    rows.sort(key=lambda row: (-row.count, row.label.casefold()))
    return rows[:MAX_COMPETITORS]


def _forecast(user: User, filters: Filters, rows: dict[int, RepRow], targets: list[dict[str, Any]]
              ) -> tuple[forecast_services.Period, list[ForecastRow], str]:
    """The current quarter's forecast per person, with the forecast page's definitions
    (sales/forecast_services.py: won, commit and best case at each deal's `amount_base`, omitted deals left
    out) in one aggregation; deals of owners without a row count in the total only. Each figure links to the
    opportunity list."""
    quarter = forecast_services.Period.containing(TargetPeriod.QUARTER, timezone.localdate())
    url = reverse("sales:forecast") + "?" + urlencode({"period": TargetPeriod.QUARTER,
                                                      "start": quarter.start.isoformat(),
                                                      **({"team": filters.team.pk} if filters.team else {})})
    if not rows:
        return quarter, [], url
    won, open_ = forecast_services._conditions(quarter)
    weighted = ExpressionWrapper(F("amount_base") * F("probability"), output_field=MONEY_FIELD)
    sums = {"won": Sum("amount_base", filter=won), "weighted": Sum(weighted, filter=open_)}
    for name, category in forecast_services.CATEGORY_FIGURES.items():
        sums[name] = Sum("amount_base", filter=open_ & Q(forecast_category=category))
    found = {item["owner_id"]: item for item in deals_in_view(user, filters).filter(won | open_)
             .values("owner_id").annotate(**sums).order_by()}
    quarter_filters = Filters(period=Period("quarter", quarter.start), team=filters.team, owner=filters.owner)
    period = quarter_filters.period
    result, total = [], ForecastRow(label=_("Total"), target=None, won=ZERO, commit=ZERO, best_case=ZERO,
                                    weighted=ZERO, attainment=None, links={})
    for key, row in sorted(rows.items(), key=lambda item: item[1].label.lower()):
        item = found.get(key, {})
        target = _target_of(period, [target for target in targets if target["user_id"] == key], "user_id")
        result.append(ForecastRow(label=row.label, target=target, won=money(item.get("won")),
                                  commit=money(item.get("commit")), best_case=money(item.get("best_case")),
                                  weighted=money((item.get("weighted") or ZERO) / 100), attainment=None,
                                  links=_forecast_links(quarter_filters, {"owner": key})))
    for item in found.values():
        total.won += money(item["won"])
        total.commit += money(item["commit"])
        total.best_case += money(item["best_case"])
        total.weighted += money((item["weighted"] or ZERO) / 100)
    chosen = [row.target for row in result if row.target is not None]
    total.target = sum(chosen, ZERO) if chosen else None
    total.links = _forecast_links(quarter_filters, {})
    for row in [*result, total]:
        row.attainment = (row.won * 100 / row.target).quantize(Decimal("0.1")) if row.target else None
    return quarter, [*result, total], url


def _forecast_links(filters: Filters, who: dict[str, object]) -> dict[str, str]:
    open_ = _open_params(filters.period.start, filters.period.last_day)
    return {"won": drill_query(filters, **_closed_params(StageKind.WON, filters.period), **who),
            "commit": drill_query(filters, **open_, forecast_category="commit", **who),
            "best_case": drill_query(filters, **open_, forecast_category="best_case", **who)}


# --- By e-mail ---------------------------------------------------------------------------------------------

SUBSCRIPTION_FILTERS = ("period", "team", "owner", "idle_days")  # `start` never: each e-mail is its own period


def snapshot(user: User, data, day: datetime.date) -> dict[str, Any]:
    """The dashboard as an e-mail shows it, for the subscriptions of every dashboard (reports/subscribable.py,
    r12c): the figures the subscriber may see for the period holding `day`, as tables of raw values, each
    row's first cell linking to the rep's won deals."""
    query = {name: data.get(name) for name in SUBSCRIPTION_FILTERS if data.get(name)}
    form = TeamDashboardForm({**query, "start": day.isoformat()}, user=user)
    filters = form.filters()
    board = build(user, filters, form.idle(), current_rates())
    currency = board.currency
    people = [*board.rows, board.total]
    return {
        "title": _("Sales team, %(period)s") % {"period": filters.period.label},
        "note": _("Amounts in %(currency)s at the current exchange rates.") % {"currency": currency},
        "tables": [
            {"headers": [_("Rep"), _("Open pipeline"), _("Weighted"), _("Won"), _("Target"), _("Win rate"),
                         _("Average deal"), _("Cycle, days"), _("New pipeline")],
             "rows": [[row.label, row.open_amount, row.weighted, row.won_amount, row.target, row.win_rate,
                       row.average_deal, row.cycle_days, row.created_amount] for row in people],
             "urls": [row.links.get("won", "") for row in people]},
            {"headers": [_("Rep"), _("Calls"), _("Meetings"), _("Tasks done"), _("Overdue tasks"), _("Idle deals"),
                         _("Quotes with a discount"), _("Quotes below the price book")],
             "rows": [[row.label, row.calls, row.meetings, row.tasks_done, row.overdue, row.idle, row.discounted,
                       row.below_book] for row in people],
             "urls": [row.links.get("calls", "") for row in people]},
        ],
    }
