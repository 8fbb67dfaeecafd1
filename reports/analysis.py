"""Sales analyses: the dashboard's period figures broken down by owner, team, territory, industry, lead
source or pipeline, and the lost deals by reason. Same definitions, filters and visibility as
reports/pipeline.py; each breakdown is one aggregation over the visible deals, whatever their number.

A territory's row counts its sub-regions too (the opportunity list's territory filter does the same),
so a region's figures are its whole subtree. A row whose records the list cannot select on its own
(deals with no team, no territory, no industry, no lead source, or an owner who no longer sells) is
shown without links.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, NullIf
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import lookups
from crm.choices import LeadSource
from crm.models import Team, User
from reports.pipeline import (
    MONEY_FIELD,
    ZERO,
    Filters,
    Rate,
    _closed_params,
    _money,
    _open_params,
    converted_amount,
    current_rates,
    deals_in_view,
    drill_query,
)
from sales.filters import people_visible_to, stage_ids_by_kind, teams_visible_to
from sales.models import LostReason, Opportunity, OpportunityLine, Pipeline, Stage, StageChange, StageKind

DIMENSIONS = {
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
    "territory": gettext_lazy("Territory"),
    "industry": gettext_lazy("Industry"),
    "lead_source": gettext_lazy("Lead source"),
    "pipeline": gettext_lazy("Pipeline"),
}
MAX_ROWS = 40  # industries are free text: the largest ones


@dataclass
class Row:
    key: object
    label: str
    depth: int = 0
    won_amount: Decimal = ZERO
    won_count: int = 0
    previous_won: Decimal = ZERO
    previous_won_count: int = 0
    lost_count: int = 0
    open_amount: Decimal = ZERO
    open_count: int = 0
    cycle_seconds: float = 0.0
    linkable: bool = True  # whether the opportunity list can select this row's deals
    links: dict[str, str] = field(default_factory=dict)

    @property
    def win_rate(self) -> Decimal | None:
        closed = self.won_count + self.lost_count
        if not closed:
            return None
        return (Decimal(self.won_count) * 100 / closed).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def average_deal(self) -> Decimal | None:
        return _money(self.won_amount / self.won_count) if self.won_count else None

    @property
    def cycle_days(self) -> Decimal | None:
        if not self.won_count:
            return None
        return Decimal(self.cycle_seconds / self.won_count / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def add(self, other: "Row") -> None:
        for name in ("won_amount", "won_count", "previous_won", "previous_won_count", "lost_count", "open_amount",
                     "open_count", "cycle_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Breakdown:
    dimension: str
    rows: list[Row]
    total: Row
    truncated: bool = False


def _stage_ids(filters: Filters) -> tuple[list[int], list[int], list[int]]:
    ids = stage_ids_by_kind(filters.pipeline)  # cached stages: no query
    return ids[StageKind.OPEN], ids[StageKind.WON], ids[StageKind.LOST]


def _group_key(dimension: str) -> F | Func:
    keys: dict[str, F | Func] = {
        "owner": F("owner_id"), "team": F("team_id"), "territory": F("account__territory_id"),
        "industry": Lower("account__industry"), "lead_source": F("lead_source"), "pipeline": F("pipeline_id")}
    return keys[dimension]


def breakdown(user: User, filters: Filters, dimension: str, rates: list[Rate] | None = None) -> Breakdown:
    """One row per owner / team / … with the period's won, lost, win rate, average deal, cycle and the
    open pipeline closing in the period, plus the previous period's won amount."""
    period, previous = filters.period, filters.period.previous()
    open_ids, won_ids, lost_ids = _stage_ids(filters)
    amount = converted_amount(current_rates() if rates is None else rates)
    first, after = period.bounds()
    before_first, _before_after = previous.bounds()
    closed_now = Q(closed_at__gte=first, closed_at__lt=after)
    won = closed_now & Q(stage_id__in=won_ids)
    lost = closed_now & Q(stage_id__in=lost_ids)
    won_before = Q(closed_at__gte=before_first, closed_at__lt=first, stage_id__in=won_ids)
    open_ = Q(stage_id__in=open_ids, expected_close_date__gte=period.start, expected_close_date__lt=period.end)
    entered = StageChange.objects.filter(opportunity=OuterRef("pk")).order_by().values("opportunity") \
        .annotate(first=Min("changed_at")).values("first")
    cycle = ExpressionWrapper(F("closed_at") - Coalesce(Subquery(entered), F("created_at")),
                              output_field=DurationField())
    deals = deals_in_view(user, filters).filter(won | lost | won_before | open_)
    values = deals.annotate(group=_group_key(dimension)).values("group")
    if dimension == "industry":
        values = values.annotate(label=Min("account__industry"))
    found = values.annotate(
        won_amount=Sum(amount, filter=won), won_count=Count("id", filter=won),
        previous_won=Sum(amount, filter=won_before), previous_won_count=Count("id", filter=won_before),
        lost_count=Count("id", filter=lost),
        open_amount=Sum(amount, filter=open_), open_count=Count("id", filter=open_),
        cycle=Sum(cycle, filter=won),
    ).order_by()
    rows = []
    for item in found:
        rows.append(Row(key=item["group"], label=item.get("label") or "", won_amount=_money(item["won_amount"]),
                        won_count=item["won_count"], previous_won=_money(item["previous_won"]),
                        previous_won_count=item["previous_won_count"],
                        lost_count=item["lost_count"], open_amount=_money(item["open_amount"]),
                        open_count=item["open_count"],
                        cycle_seconds=item["cycle"].total_seconds() if item["cycle"] else 0.0))
    total = Row(key=None, label=_("Total"))
    for row in rows:
        total.add(row)
    rows = _LABELLERS[dimension](user, rows)
    truncated = False
    if dimension != "territory":
        rows.sort(key=lambda row: (-row.won_amount, -row.open_amount, row.label.lower()))
        truncated = len(rows) > MAX_ROWS
        rows = rows[:MAX_ROWS]
    for row in [*rows, total]:
        param = {} if row is total else _drill_param(dimension, row)
        if param is None:
            continue
        row.links = {"won": drill_query(filters, **_closed_params(StageKind.WON, period), **param),
                     "lost": drill_query(filters, **_closed_params(StageKind.LOST, period), **param),
                     "previous_won": drill_query(filters, **_closed_params(StageKind.WON, previous), **param),
                     "open": drill_query(filters, **_open_params(period.start, period.last_day), **param)}
    return Breakdown(dimension=dimension, rows=rows, total=total, truncated=truncated)


def _drill_param(dimension: str, row: Row) -> dict[str, object] | None:
    if row.key in (None, ""):
        return None
    if dimension == "industry":
        return {"industry": row.label}
    if not row.linkable:
        return None
    return {dimension: row.key}


# --- Labels (one query each at most) -----------------------------------------------------------------------


def _owners(user: User, rows: list[Row]) -> list[Row]:
    people = {person.pk: person for person in User.objects.filter(pk__in=[row.key for row in rows if row.key])}
    selectable = set(people_visible_to(user, Opportunity).filter(pk__in=list(people)).values_list("id", flat=True))
    for row in rows:
        row.label = str(people[row.key]) if row.key in people else _("No owner")
        row.linkable = row.key in selectable
    return rows


def _teams(user: User, rows: list[Row]) -> list[Row]:
    teams = {team.pk: team for team in Team.objects.filter(pk__in=[row.key for row in rows if row.key])}
    selectable = set(teams_visible_to(user, Opportunity).filter(pk__in=list(teams)).values_list("id", flat=True))
    for row in rows:
        row.label = teams[row.key].name if row.key in teams else _("No team")
        row.linkable = row.key in selectable
    return rows


def _pipelines(user: User, rows: list[Row]) -> list[Row]:
    names: dict[object, str] = dict(Pipeline.objects.filter(pk__in=[row.key for row in rows])
                                    .values_list("id", "name"))
    for row in rows:
        row.label = names.get(row.key, "")
    return rows


def _industries(user: User, rows: list[Row]) -> list[Row]:
    for row in rows:
        if not row.key:
            row.label = _("No industry")
    return rows


def _sources(user: User, rows: list[Row]) -> list[Row]:
    labels: dict[object, object] = dict(LeadSource.choices)
    for row in rows:
        row.label = str(labels.get(row.key, row.key)) if row.key else _("No lead source")
    return rows


def _territories(user: User, rows: list[Row]) -> list[Row]:
    """Each region with its whole subtree rolled up, in tree order; regions without deals are left out."""
    nodes = [(node.pk, node.name, node.parent_id) for node in lookups.get("territories")]  # cached: no query
    children: dict[int | None, list[tuple[int, str]]] = {}
    for pk, name, parent in nodes:
        children.setdefault(parent, []).append((pk, name))
    own = {row.key: row for row in rows}
    result: list[Row] = []

    def walk(pk: int, name: str, depth: int) -> Row:
        rolled = Row(key=pk, label=name, depth=depth)
        if pk in own:
            rolled.add(own[pk])
        position = len(result)
        result.append(rolled)
        for child_pk, child_name in sorted(children.get(pk, []), key=lambda item: item[1].lower()):
            rolled.add(walk(child_pk, child_name, depth + 1))
        if not (rolled.won_count or rolled.lost_count or rolled.open_count or rolled.previous_won):
            del result[position:]
        return rolled

    for pk, name in sorted(children.get(None, []), key=lambda item: item[1].lower()):
        walk(pk, name, 0)
    if None in own:
        nowhere = own[None]
        nowhere.label = _("No territory")
        result.append(nowhere)
    return result


_LABELLERS: dict[str, Callable[[User, list[Row]], list[Row]]] = {
    "owner": _owners, "team": _teams, "territory": _territories, "industry": _industries,
    "lead_source": _sources, "pipeline": _pipelines,
}


# --- Lost reasons -----------------------------------------------------------------------------------


@dataclass
class ReasonRow:
    key: str
    label: str
    count: int = 0
    amount: Decimal = ZERO
    previous_count: int = 0
    url: str = ""
    previous_url: str = ""


def lost_reasons(user: User, filters: Filters, rates: list[Rate] | None = None) -> list[ReasonRow]:
    """The deals lost in the period (and the previous one) by the reason given, one aggregation."""
    period, previous = filters.period, filters.period.previous()
    _open_ids, _won_ids, lost_ids = _stage_ids(filters)
    amount = converted_amount(current_rates() if rates is None else rates)
    first, after = period.bounds()
    before_first, _before_after = previous.bounds()
    now = Q(closed_at__gte=first, closed_at__lt=after)
    before = Q(closed_at__gte=before_first, closed_at__lt=first)
    found = {item["lost_reason"]: item for item in deals_in_view(user, filters)
             .filter(stage_id__in=lost_ids, closed_at__gte=before_first, closed_at__lt=after)
             .values("lost_reason").annotate(count=Count("id", filter=now), amount=Sum(amount, filter=now),
                                             previous_count=Count("id", filter=before)).order_by()}
    rows = []
    for key, label in LostReason.choices:
        item = found.get(key, {})
        rows.append(ReasonRow(key=key, label=str(label), count=item.get("count", 0), amount=_money(item.get("amount")),
                              previous_count=item.get("previous_count", 0),
                              url=drill_query(filters, **_closed_params(StageKind.LOST, period), lost_reason=key),
                              previous_url=drill_query(filters, **_closed_params(StageKind.LOST, previous),
                                                       lost_reason=key)))
    rows.sort(key=lambda row: (-row.count, -row.previous_count, row.label))
    if "" in found:  # lost before a reason was required: counted, but the list cannot select them
        item = found[""]
        rows.append(ReasonRow(key="", label=_("No reason given"), count=item["count"], amount=_money(item["amount"]),
                              previous_count=item["previous_count"]))
    return rows


# --- Funnel ------------------------------------------------------------------------------------------


@dataclass
class Step:
    stage: Stage
    reached: int = 0
    url: str = ""
    conversion: Decimal | None = None  # share of the previous step's deals that got this far
    moved_on: int = 0  # deals that left this stage (to any other)
    moved_on_url: str = ""
    days: Decimal | None = None  # average time those deals spent in it


@dataclass
class Funnel:
    pipeline: Pipeline | None
    entered: int = 0
    entered_amount: Decimal = ZERO
    entered_url: str = ""
    steps: list[Step] = field(default_factory=list)
    won: int = 0
    won_url: str = ""
    won_conversion: Decimal | None = None
    lost: int = 0
    lost_url: str = ""


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if whole else None


def _default_pipeline() -> Pipeline | None:
    """sales.services.default_pipeline() read from the cached pipelines: the default one, else the first active."""
    active = [pipeline for pipeline in lookups.get("pipelines") if pipeline.active]
    return min(active, key=lambda pipeline: (not pipeline.is_default, pipeline.position, pipeline.pk), default=None)


def funnel(user: User, filters: Filters, rates: list[Rate] | None = None) -> Funnel:
    """The deals that entered one pipeline in the period (created in it), and how far they got: for each
    open stage, how many reached it (sales/filters.py `reached_stage_condition`, shared with the list),
    the conversion from the step before, and the average days spent in it by the deals that moved on;
    then how many of them are won or lost by now. Two aggregations."""
    from sales.filters import reached_stage_condition

    chosen = filters.pipeline or _default_pipeline()
    result = Funnel(pipeline=chosen)
    if chosen is None:
        return result
    # The pipeline's stages from the cached lookup (sales/filters.py), in board order: no query.
    stages = sorted((stage for stage in lookups.get("stages") if stage.pipeline_id == chosen.pk),
                    key=lambda stage: (stage.position, stage.pk))
    open_stages = [stage for stage in stages if stage.kind == StageKind.OPEN]
    won_ids = [stage.pk for stage in stages if stage.kind == StageKind.WON]
    lost_ids = [stage.pk for stage in stages if stage.kind == StageKind.LOST]
    period = filters.period
    first, after = period.bounds()
    cohort = deals_in_view(user, filters).filter(pipeline=chosen, created_at__gte=first, created_at__lt=after)
    sums = {f"reached_{stage.pk}": Count("id", filter=reached_stage_condition(stage)) for stage in open_stages}
    amount = converted_amount(current_rates() if rates is None else rates)
    found = cohort.aggregate(entered=Count("id"), amount=Sum(amount),
                             won=Count("id", filter=Q(stage_id__in=won_ids)),
                             lost=Count("id", filter=Q(stage_id__in=lost_ids)), **sums)
    times = {row["from_stage"]: row for row in StageChange.objects
             .filter(opportunity__in=cohort.values("pk"), from_stage__in=[stage.pk for stage in open_stages])
             .values("from_stage").annotate(seconds=Sum("seconds_in_previous"),
                                            deals=Count("opportunity", distinct=True)).order_by()}
    base = {"pipeline": chosen.pk, "created_from": period.start, "created_to": period.last_day}
    result.entered, result.entered_amount = found["entered"], _money(found["amount"])
    result.entered_url = drill_query(filters, **base)
    previous = result.entered
    for stage in open_stages:
        reached = found[f"reached_{stage.pk}"]
        time: dict[str, Any] = dict(times.get(stage.pk, {}))
        moved = time.get("deals", 0)
        result.steps.append(Step(
            stage=stage, reached=reached, url=drill_query(filters, **base, reached_stage=stage.pk),
            conversion=_share(reached, previous), moved_on=moved,
            moved_on_url=drill_query(filters, **base, left_stage=stage.pk),
            days=Decimal((time.get("seconds") or 0) / moved / 86400).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            if moved else None))
        previous = reached
    result.won, result.lost = found["won"], found["lost"]
    result.won_conversion = _share(result.won, previous)
    result.won_url = drill_query(filters, **base, status=StageKind.WON)
    result.lost_url = drill_query(filters, **base, status=StageKind.LOST)
    return result


# --- Product families -------------------------------------------------------------------------------


@dataclass
class FamilyRow:
    key: str
    label: str
    deals: int = 0
    amount: Decimal = ZERO
    previous_deals: int = 0
    previous_amount: Decimal = ZERO
    url: str = ""
    previous_url: str = ""


def product_families(user: User, filters: Filters, rates: list[Rate] | None = None) -> list[FamilyRow]:
    """Won deals by the product families on their lines, this period and the previous one: the deals
    with a line of the family, and those lines' amounts (quantity × price − line discount, in the base
    currency). A deal with lines of several families counts in each. One aggregation over the lines."""
    period, previous = filters.period, filters.period.previous()
    _open_ids, won_ids, _lost_ids = _stage_ids(filters)
    first, after = period.bounds()
    before_first, _before_after = previous.bounds()
    rates = current_rates() if rates is None else rates
    line_amount = ExpressionWrapper(F("quantity") * F("unit_price") * (100 - F("discount_pct")) / 100,
                                    output_field=MONEY_FIELD)
    whens = [When(opportunity__currency=settings.DEFAULT_CURRENCY, then=line_amount)]
    whens += [When(opportunity__currency=rate.currency, then=ExpressionWrapper(
        line_amount * Value(rate.rate), output_field=MONEY_FIELD)) for rate in rates]
    # A currency without a rate any more: the deal's own conversion at its last save (amount_base / amount).
    saved_rate = F("opportunity__amount_base") / NullIf(F("opportunity__amount"), Value(0))
    amount = Case(*whens, default=ExpressionWrapper(line_amount * saved_rate, output_field=MONEY_FIELD),
                  output_field=MONEY_FIELD)
    now = Q(opportunity__closed_at__gte=first, opportunity__closed_at__lt=after)
    before = Q(opportunity__closed_at__gte=before_first, opportunity__closed_at__lt=first)
    deals = deals_in_view(user, filters).filter(stage_id__in=won_ids, closed_at__gte=before_first,
                                                closed_at__lt=after)
    found = (OpportunityLine.objects.filter(opportunity__in=deals.values("pk"))
             .annotate(group=Coalesce(Lower("product__family"), Value(""))).values("group")
             .annotate(label=Min("product__family"), deals=Count("opportunity", distinct=True, filter=now),
                       amount=Sum(amount, filter=now),
                       previous_deals=Count("opportunity", distinct=True, filter=before),
                       previous_amount=Sum(amount, filter=before)).order_by())
    rows = []
    for item in found:
        family = item["label"] or ""
        row = FamilyRow(key=item["group"] or "", label=family or _("No product family"), deals=item["deals"],
                        amount=_money(item["amount"]), previous_deals=item["previous_deals"],
                        previous_amount=_money(item["previous_amount"]))
        if family:
            row.url = drill_query(filters, **_closed_params(StageKind.WON, period), product_family=family)
            row.previous_url = drill_query(filters, **_closed_params(StageKind.WON, previous), product_family=family)
        rows.append(row)
    rows.sort(key=lambda row: (-row.amount, -row.previous_amount, row.label.lower()))
    return rows[:MAX_ROWS]
