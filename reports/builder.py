"""The report builder: a report definition (the builder form's query string) is checked against the
whitelist in reports/catalogue.py and run through the entity's visibility policy for the reader.

A definition names an entity, columns, filters (field, operator, value), up to two groupings (dates by
day, week, month, quarter or year), aggregates (count, sum, average, min, max), a sort and a chart type.
Every name is looked up in the whitelist; anything else (a forged field, a lookup with `__`, an unknown
operator or sort key) is refused with a message, and nothing runs. User input never becomes an ORM path:
each used field is bound to a fixed alias (`f0`, `f1`…) whose expression comes from the catalogue.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim, Trunc
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import formatting, visibility
from crm.models import User
from crm.translated import translated_name
from reports import catalogue
from reports.catalogue import BOOLEAN, CHOICE, DATE, MOMENT, MONEY, NUMBER, TEXT, Entity, Field
from reports.pipeline import current_rates

MONEY_FIELD = DecimalField(max_digits=30, decimal_places=10)
PAGE_ROWS = 500  # rows shown on the page; the export holds up to EXPORT_ROWS
EXPORT_ROWS = 20000
MAX_GROUPS = 1000
MAX_COLUMNS = 30
MAX_FILTERS = 20
MAX_AGGREGATES = 10

OPERATORS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "startswith": gettext_lazy("starts with"),
    "gt": gettext_lazy("more than / after"),
    "gte": gettext_lazy("at least / on or after"),
    "lt": gettext_lazy("less than / before"),
    "lte": gettext_lazy("at most / on or before"),
    "last_days": gettext_lazy("in the last N days"),
    "next_days": gettext_lazy("in the next N days"),
    "empty": gettext_lazy("is empty"),
    "notempty": gettext_lazy("is not empty"),
}
OPERATORS_BY_KIND = {
    TEXT: ("eq", "ne", "contains", "startswith", "empty", "notempty"),
    NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "empty", "notempty"),
    MONEY: ("eq", "ne", "gt", "gte", "lt", "lte", "empty", "notempty"),
    DATE: ("eq", "gt", "gte", "lt", "lte", "last_days", "next_days", "empty", "notempty"),
    MOMENT: ("eq", "gt", "gte", "lt", "lte", "last_days", "next_days", "empty", "notempty"),
    CHOICE: ("eq", "ne", "empty", "notempty"),
    BOOLEAN: ("eq",),
}
NO_VALUE = ("empty", "notempty")

PERIODS = {
    "day": gettext_lazy("by day"),
    "week": gettext_lazy("by week"),
    "month": gettext_lazy("by month"),
    "quarter": gettext_lazy("by quarter"),
    "year": gettext_lazy("by year"),
}
GROUPABLE = (TEXT, CHOICE, BOOLEAN, DATE, MOMENT, NUMBER)

FUNCTIONS = {
    "sum": (gettext_lazy("Sum"), Sum, (NUMBER, MONEY)),
    "avg": (gettext_lazy("Average"), Avg, (NUMBER, MONEY)),
    "min": (gettext_lazy("Minimum"), Min, (NUMBER, MONEY, DATE, MOMENT)),
    "max": (gettext_lazy("Maximum"), Max, (NUMBER, MONEY, DATE, MOMENT)),
}
CHARTS = {
    "table": gettext_lazy("Table only"),
    "bar": gettext_lazy("Bar chart"),
    "line": gettext_lazy("Line chart"),
    "pie": gettext_lazy("Pie chart"),
}


@dataclass
class Filter:
    field: Field
    op: str
    value: Any = None
    text: str = ""  # as typed, for the form


@dataclass
class Grouping:
    field: Field
    period: str = ""  # dates only

    @property
    def label(self) -> str:
        if self.period:
            return f"{self.field.label} ({PERIODS[self.period]})"
        return str(self.field.label)


@dataclass
class Aggregate:
    function: str  # count, sum, avg, min, max
    field: Field | None = None

    @property
    def key(self) -> str:
        return "count" if self.field is None else f"{self.function}:{self.field.key}"

    @property
    def label(self) -> str:
        if self.field is None:
            return _("Count")
        return f"{FUNCTIONS[self.function][0]}: {self.field.label}"

    @property
    def kind(self) -> str:
        if self.field is None:
            return NUMBER
        if self.function == "avg" and self.field.kind == NUMBER:
            return NUMBER
        return self.field.kind


@dataclass
class Definition:
    entity: Entity
    fields: dict[str, Field]
    columns: list[Field] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    groups: list[Grouping] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    chart: str = "table"
    sort: str = ""
    descending: bool = False

    @property
    def grouped(self) -> bool:
        return bool(self.groups)

    def sort_choices(self) -> list[tuple[str, str]]:
        if self.grouped:
            keys = [("g1", self.groups[0].label)]
            if len(self.groups) > 1:
                keys.append(("g2", self.groups[1].label))
            return keys + [(aggregate.key, aggregate.label) for aggregate in self.aggregates]
        return [(column.key, str(column.label)) for column in self.columns]


class ReportError(ValueError):
    """The definition names something outside the whitelist or a value that does not fit; `messages` say
    what, in the reader's language."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


# --- Parsing -----------------------------------------------------------------------------------------------


def entity_for(user: User, key: str) -> Entity:
    entity = catalogue.ENTITIES.get(key)
    if entity is None or not visibility.can_read(user, entity.reader_model):
        raise ReportError([_("Choose what to report on from the list.")])
    return entity


def parse(data: QueryDict, user: User, fields: dict[str, Field] | None = None) -> Definition:
    """The definition in a builder query string, or ReportError with every problem found (`fields`: the
    entity's, when the caller has them already)."""
    entity = entity_for(user, data.get("entity", ""))
    fields = fields or catalogue.fields_of(entity)
    errors: list[str] = []
    definition = Definition(entity=entity, fields=fields)

    def known(key: str) -> Field | None:
        found = fields.get(key)
        if found is None:
            errors.append(_("“%(field)s” is not a field of %(entity)s you can report on.")
                          % {"field": key[:60], "entity": str(entity.label).lower()})
        return found

    for key in data.getlist("c")[:MAX_COLUMNS + 1]:
        column = known(key)
        if column is not None and column not in definition.columns:
            definition.columns.append(column)
    if len(data.getlist("c")) > MAX_COLUMNS:
        errors.append(_("A report shows at most %(count)s columns.") % {"count": MAX_COLUMNS})

    definition.filters = _parse_filters(data, known, errors)

    for level in ("g1", "g2"):
        key = data.get(level, "")
        if not key:
            continue
        grouped = known(key)
        if grouped is None:
            continue
        if grouped.kind not in GROUPABLE:
            errors.append(_("Reports cannot be grouped by “%(field)s”.") % {"field": grouped.label})
            continue
        period = data.get(f"{level}p", "")
        if grouped.kind in (DATE, MOMENT):
            period = period or "month"
            if period not in PERIODS:
                errors.append(_("Group dates by day, week, month, quarter or year."))
                continue
        else:
            period = ""
        definition.groups.append(Grouping(grouped, period))

    for token in data.getlist("a")[:MAX_AGGREGATES + 1]:
        aggregate = _parse_aggregate(token, known, errors)
        if aggregate is not None and aggregate.key not in [item.key for item in definition.aggregates]:
            definition.aggregates.append(aggregate)
    if definition.grouped and not any(item.field is None for item in definition.aggregates):
        definition.aggregates.insert(0, Aggregate("count"))

    chart = data.get("chart", "") or "table"
    if chart not in CHARTS:
        errors.append(_("Choose a chart type from the list."))
    elif chart != "table" and not definition.grouped:
        errors.append(_("A chart needs a grouping: choose what to group by."))
    elif chart == "pie" and len(definition.groups) > 1:
        errors.append(_("A pie chart shows one grouping; choose a bar or line chart for two."))
    else:
        definition.chart = chart

    if not definition.grouped and not definition.columns:
        definition.columns = [fields[key] for key in entity.default_columns if key in fields]

    sort = data.get("sort", "")
    allowed = dict(definition.sort_choices())
    # A field of the entity that is not in the report any more (the form still held the previous sort) falls
    # back to the first column; anything else is refused.
    if sort and sort not in allowed and sort not in fields:
        errors.append(_("The report cannot be sorted by “%(key)s”: sort by one of its columns.") % {"key": sort[:60]})
    definition.sort = sort if sort in allowed else next(iter(allowed), "")
    if data.get("dir", "") not in ("", "asc", "desc"):
        errors.append(_("Sort up or down."))
    definition.descending = data.get("dir") == "desc"
    if errors:
        raise ReportError(errors)
    return definition


def _parse_filters(data: QueryDict, known: Any, errors: list[str]) -> list[Filter]:
    keys, ops, values = data.getlist("ff"), data.getlist("fo"), data.getlist("fv")
    if len(keys) > MAX_FILTERS:
        errors.append(_("A report has at most %(count)s filters.") % {"count": MAX_FILTERS})
        keys = keys[:MAX_FILTERS]
    filters = []
    for index, key in enumerate(keys):
        if not key:
            continue  # the form's empty row
        target = known(key)
        op = ops[index] if index < len(ops) else ""
        text = (values[index] if index < len(values) else "").strip()
        if target is None:
            continue
        if op not in OPERATORS_BY_KIND[target.kind]:
            errors.append(_("“%(op)s” is not an operator for “%(field)s”.") % {"op": op[:30], "field": target.label})
            continue
        if op in NO_VALUE:
            filters.append(Filter(target, op))
            continue
        try:
            value = _value(target, op, text)
        except ValueError as exc:
            errors.append(_("%(field)s: %(problem)s") % {"field": target.label, "problem": exc})
            continue
        filters.append(Filter(target, op, value, text))
    return filters


def _value(target: Field, op: str, text: str) -> Any:
    if op in ("last_days", "next_days"):
        if not text.isdigit() or not 0 < int(text) <= 3660:
            raise ValueError(_("enter a number of days from 1 to 3660."))
        return int(text)
    if target.kind == BOOLEAN:
        lowered = text.lower()
        if lowered in ("yes", "true", "1", _("yes").lower()):
            return True
        if lowered in ("no", "false", "0", _("no").lower()):
            return False
        raise ValueError(_("choose yes or no."))
    if not text:
        raise ValueError(_("enter a value."))
    if target.kind in (NUMBER, MONEY):
        try:
            number = Decimal(text.replace("\xa0", "").replace(" ", "").replace(",", "."))
        except InvalidOperation:
            raise ValueError(_("enter a number.")) from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
            raise ValueError(_("enter a number."))
        return number
    if target.kind in (DATE, MOMENT):
        day = _date(text)
        if day is None:
            raise ValueError(_("enter a date as YYYY-MM-DD."))
        return day
    if target.kind == CHOICE:
        for key, _label in target.choices:
            if str(key) == text:
                return key
        raise ValueError(_("choose one of the listed values."))
    if len(text) > 200:
        raise ValueError(_("enter at most 200 characters."))
    return text


def _date(text: str) -> datetime.date | None:
    try:
        day = parse_date(text)
    except ValueError:
        return None
    if day is None:
        for pattern in ("%d.%m.%Y", "%d/%m/%Y"):
            try:
                day = datetime.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar day, no time
                break
            except ValueError:
                continue
    return day if day and 1900 <= day.year <= 2200 else None


def _parse_aggregate(token: str, known: Any, errors: list[str]) -> Aggregate | None:
    if token == "count":  # noqa: S105 - an aggregate name, not a secret
        return Aggregate("count")
    function, _sep, key = token.partition(":")
    if function not in FUNCTIONS:
        errors.append(_("“%(function)s” is not a way to add up: use count, sum, average, minimum or maximum.")
                      % {"function": function[:30]})
        return None
    target = known(key)
    if target is None:
        return None
    if target.kind not in FUNCTIONS[function][2]:
        errors.append(_("%(function)s cannot be taken of “%(field)s”.")
                      % {"function": FUNCTIONS[function][0], "field": target.label})
        return None
    return Aggregate(function, target)


# --- Running -------------------------------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    kind: str
    choices: dict[Any, Any] = field(default_factory=dict)
    period: str = ""


@dataclass
class Result:
    definition: Definition
    columns: list[Column]
    rows: list[list[Any]]
    more: bool = False  # rows beyond the limit exist
    totals: list[Any] | None = None
    currency: str = settings.DEFAULT_CURRENCY
    rates: list[Any] = field(default_factory=list)
    as_of: datetime.datetime | None = None  # summed from the kept figures of that time (None: counted live)

    def chart(self) -> dict[str, Any] | None:
        definition = self.definition
        if definition.chart == "table" or not definition.grouped or not self.rows:
            return None
        levels = len(definition.groups)
        measure_index = levels + (1 if len(definition.aggregates) > 1 and definition.aggregates[0].field is None
                                  else 0)
        measure = self.columns[measure_index]
        currency = self.currency if measure.kind == MONEY else ""
        if levels == 1:
            labels = [display(row[0], self.columns[0]) for row in self.rows]
            datasets = [{"label": measure.label, "values": [_number(row[measure_index]) for row in self.rows]}]
        else:
            labels, series = [], {}
            for row in self.rows:
                first, second = display(row[0], self.columns[0]), display(row[1], self.columns[1])
                if first not in labels:
                    labels.append(first)
                series.setdefault(second, {})[first] = _number(row[measure_index])
            datasets = [{"label": name, "values": [values.get(label, 0) for label in labels]}
                        for name, values in list(series.items())[:12]]
        return {"type": definition.chart, "labels": labels, "currency": currency, "datasets": datasets,
                "urls": [], "title": measure.label}


# Names an admin may give per language (crm/translated.py): shown, grouped and filtered in the reader's.
_TRANSLATED_NAMES = ("pipeline__name", "stage__name", "territory__name")


def _translated(path: str) -> bool:
    return any(path == name or path.endswith(f"__{name}") for name in _TRANSLATED_NAMES)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float | Decimal) else 0.0


def _expression(target: Field, user: User, rates: list[Any]) -> Any:
    path = target.path
    if target.person:
        name = NullIf(Trim(Concat(F(f"{path}__first_name"), Value(" "), F(f"{path}__last_name"))), Value(""))
        expression: Any = Coalesce(name, F(f"{path}__email"), output_field=CharField())
    elif path.startswith("custom__"):
        key = path.removeprefix("custom__")
        text = KT(f"custom__{key}")
        casts = {NUMBER: MONEY_FIELD, DATE: DateField(), BOOLEAN: BooleanField()}
        expression = Cast(text, casts[target.kind]) if target.kind in casts else text
    elif target.kind == MONEY:
        base = settings.DEFAULT_CURRENCY
        whens = [When(**{target.currency: base}, then=F(path))]
        whens += [When(**{target.currency: rate.currency},
                       then=ExpressionWrapper(F(path) * Value(rate.rate), output_field=MONEY_FIELD))
                  for rate in rates]
        default = F(target.fallback) if target.fallback else Value(None, output_field=MONEY_FIELD)
        expression = Case(*whens, default=default, output_field=MONEY_FIELD)
    elif _translated(path):
        expression = translated_name(path.removesuffix("__name"))
    else:
        expression = F(path)
    if target.guard:
        fk, model = target.guard
        linked = model._default_manager.visible_to(user).filter(pk=OuterRef(fk))  # type: ignore[attr-defined]
        expression = Case(When(Exists(linked), then=expression), default=Value(None))
    return expression


def _textual(target: Field) -> bool:
    """Stored as text, where "" means empty too (a ticket's priority is a number, choices or not)."""
    return target.kind == TEXT or (target.kind == CHOICE and all(isinstance(key, str) for key, _l in target.choices))


def _condition(alias: str, item: Filter) -> Q:
    kind, op, value = item.field.kind, item.op, item.value
    if op == "empty":
        return Q(**{f"{alias}__isnull": True}) | (Q(**{alias: ""}) if _textual(item.field) else Q(pk__in=[]))
    if op == "notempty":
        condition = Q(**{f"{alias}__isnull": False})
        return condition & ~Q(**{alias: ""}) if _textual(item.field) else condition
    if op in ("last_days", "next_days"):
        today = timezone.localdate()
        span = datetime.timedelta(days=value)
        first, last = (today - span, today) if op == "last_days" else (today, today + span)
        lookup = f"{alias}__date" if kind == MOMENT else alias
        return Q(**{f"{lookup}__gte": first, f"{lookup}__lte": last})
    lookup = f"{alias}__date" if kind == MOMENT else alias
    if kind == TEXT and op in ("eq", "ne"):
        lookup = f"{alias}__iexact"
    if op == "ne":
        return ~Q(**{lookup: value}) | Q(**{f"{alias}__isnull": True})
    suffix = {"eq": "", "contains": "__icontains", "startswith": "__istartswith", "gt": "__gt", "gte": "__gte",
              "lt": "__lt", "lte": "__lte"}[op]
    if kind == TEXT and op == "eq":
        suffix = ""
    return Q(**{f"{lookup}{suffix}": value})


def queryset(definition: Definition, user: User) -> tuple[QuerySet[Any], dict[str, str], list[Any]]:
    """The reader's rows with every used field bound to an alias, filtered; and {field key: alias}. Aggregated
    fields are annotated (Django aggregates annotations, not aliases)."""
    rows = definition.entity.queryset(user)
    rates = current_rates()
    used: list[Field] = [*definition.columns, *(item.field for item in definition.filters),
                         *(group.field for group in definition.groups),
                         *(aggregate.field for aggregate in definition.aggregates if aggregate.field)]
    aliases: dict[str, str] = {}
    aggregated = {aggregate.field.key for aggregate in definition.aggregates if aggregate.field}
    for target in used:
        if target.key not in aliases:
            aliases[target.key] = f"f{len(aliases)}"
            bind = rows.annotate if target.key in aggregated else rows.alias
            rows = bind(**{aliases[target.key]: _expression(target, user, rates)})
    for item in definition.filters:
        rows = rows.filter(_condition(aliases[item.field.key], item))
    return rows, aliases, rates


def run(definition: Definition, user: User, *, limit: int = PAGE_ROWS) -> Result:
    kept = _run_kept(definition, user, limit=min(limit, MAX_GROUPS))
    if kept is not None:
        return kept
    rows, aliases, rates = queryset(definition, user)
    if definition.grouped:
        return _run_grouped(definition, rows, aliases, rates, limit=min(limit, MAX_GROUPS))
    columns = [Column(item.key, str(item.label), item.kind, item.choice_labels) for item in definition.columns]
    names = [aliases[item.key] for item in definition.columns]
    rows = rows.annotate(**{f"c_{name}": F(name) for name in names})
    order = aliases[definition.sort]
    ordering = [F(order).desc(nulls_last=True) if definition.descending else F(order).asc(nulls_last=True), "pk"]
    fetched = list(rows.order_by(*ordering).values_list(*[f"c_{name}" for name in names])[:limit + 1])
    return Result(definition, columns, [list(row) for row in fetched[:limit]], more=len(fetched) > limit,
                  rates=rates)


def _person_name(path: str) -> Any:
    return Coalesce(NullIf(Trim(Concat(F(f"{path}first_name"), Value(" "), F(f"{path}last_name"))), Value("")),
                    F(f"{path}email"), output_field=CharField())


def _run_kept(definition: Definition, user: User, *, limit: int) -> Result | None:
    """Activities counted by owner and/or kind, for a reader of every activity, with no filter: the same groups
    summed from the kept ActivityDay rows (reports/aggregates.py) instead of counting millions of activities."""
    from activities.models import Activity
    from reports import aggregates
    from reports.models import ActivityDay

    if (definition.entity.key != "activities" or not definition.grouped or definition.filters
            or any(aggregate.field is not None for aggregate in definition.aggregates)
            or any(group.period or group.field.key not in ("owner", "kind") for group in definition.groups)
            or visibility.read_q(user, Activity) is not None):
        return None
    state = aggregates.state(aggregates.ACTIVITIES)
    if state is None:
        return None
    # The owner as the live report names it (catalogue `owner`: the person's name, else e-mail), on a join.
    rows = ActivityDay.objects.filter(dated__gt=0).alias(f_owner=_person_name("owner__"), f_kind=F("kind"))
    result = _run_grouped(definition, rows, {"owner": "f_owner", "kind": "f_kind"}, [], limit=limit,
                          count=Sum("dated"))
    result.as_of = state.refreshed_at
    return result


def _run_grouped(definition: Definition, rows: QuerySet[Any], aliases: dict[str, str], rates: list[Any], *,
                 limit: int, count: Any = None) -> Result:
    group_names, columns = [], []
    for index, group in enumerate(definition.groups, start=1):
        expression: Any = F(aliases[group.field.key])
        if group.period:
            expression = Trunc(expression, group.period, output_field=DateField())
        rows = rows.annotate(**{f"g{index}": expression})
        group_names.append(f"g{index}")
        columns.append(Column(f"g{index}", group.label, DATE if group.period else group.field.kind,
                              group.field.choice_labels, group.period))
    measures = {}
    for aggregate in definition.aggregates:
        if aggregate.field is None:
            measures["count"] = count if count is not None else Count("pk")
        else:
            function = FUNCTIONS[aggregate.function][1]
            measures[aggregate.key] = function(aliases[aggregate.field.key])
        columns.append(Column(aggregate.key, aggregate.label, aggregate.kind))
    names = {aggregate.key: f"m{index}" for index, aggregate in enumerate(definition.aggregates)}
    grouped = rows.values(*group_names).annotate(**{names[key]: measure for key, measure in measures.items()})
    order = definition.sort if definition.sort in group_names else names.get(definition.sort, "g1")
    ordering = [F(order).desc(nulls_last=True) if definition.descending else F(order).asc(nulls_last=True)]
    ordering += [F(name).asc(nulls_last=True) for name in group_names if name != order]
    fetched = list(grouped.order_by(*ordering)[:limit + 1])
    totals_row = rows.aggregate(**{names[key]: measure for key, measure in measures.items()})
    values = [[row[name] for name in group_names] + [row[names[a.key]] for a in definition.aggregates]
              for row in fetched[:limit]]
    totals = [None] * len(group_names) + [totals_row[names[a.key]] for a in definition.aggregates]
    return Result(definition, columns, values, more=len(fetched) > limit, totals=totals, rates=rates)


# --- Drill-down ---------------------------------------------------------------------------------------------------


def drill_params(definition: Definition, values: list[Any]) -> list[tuple[str, str]] | None:
    """The builder parameters that list the records behind a group: the report's filters, plus one filter per
    group level (`values`: the group's values, level by level), no grouping. None when a value cannot be a
    filter (a text longer than a filter takes)."""
    entity = definition.entity
    columns = [key for key in entity.default_columns if key in definition.fields]
    for group in definition.groups:
        if group.field.key not in columns:
            columns.append(group.field.key)
    params: list[tuple[str, str]] = [("entity", entity.key), *(("c", key) for key in columns)]
    for item in definition.filters:
        params += [("ff", item.field.key), ("fo", item.op), ("fv", item.text)]
    for group, value in zip(definition.groups, values, strict=False):
        conditions = _group_conditions(group, value)
        if conditions is None:
            return None
        for op, text in conditions:
            params += [("ff", group.field.key), ("fo", op), ("fv", text)]
    return params


def _group_conditions(group: Grouping, value: Any) -> list[tuple[str, str]] | None:
    if value is None or value == "":
        return [("empty", "")]
    if group.period:
        first = value.date() if isinstance(value, datetime.datetime) else value
        return [("gte", first.isoformat()), ("lte", period_end(first, group.period).isoformat())]
    if group.field.kind == BOOLEAN:
        return [("eq", "yes" if value else "no")]
    text = str(value)
    return None if len(text) > 200 else [("eq", text)]


def period_end(first: datetime.date, period: str) -> datetime.date:
    """The last day of the day, week, month, quarter or year that starts on `first`."""
    if period == "day":
        return first
    if period == "week":
        return first + datetime.timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    year, month = divmod(first.month - 1 + months, 12)
    return datetime.date(first.year + year, month + 1, 1) - datetime.timedelta(days=1)


# --- Display ----------------------------------------------------------------------------------------------------


def display(value: Any, column: Column) -> str:
    """A cell for the page and the PDF, in the reader's language (exports keep raw values)."""
    if value is None or value == "":
        return "—" if column.kind not in (TEXT, CHOICE) or value is None else ""
    if column.period:
        return period_label(value, column.period)
    if column.choices:
        return str(column.choices.get(value, value))
    if column.kind == BOOLEAN:
        return _("Yes") if value else _("No")
    if column.kind == MONEY:
        return formatting.money(value, settings.DEFAULT_CURRENCY)
    if column.kind == NUMBER:
        value = Decimal(str(value)) if isinstance(value, float) else value
        decimals = 0 if isinstance(value, int) or value == value.to_integral_value() else 2
        return formatting.number(value, decimals)
    if isinstance(value, datetime.datetime):
        return formatting.moment(value)
    if isinstance(value, datetime.date):
        return formatting.day(value)
    return str(value)


def period_label(value: datetime.date, period: str) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if period == "year":
        return str(value.year)
    if period == "quarter":
        return _("Q%(quarter)s %(year)s") % {"quarter": (value.month - 1) // 3 + 1, "year": value.year}
    if period == "month":
        return date_format(value, "YEAR_MONTH_FORMAT")
    if period == "week":
        return _("week of %(day)s") % {"day": formatting.day(value)}
    return formatting.day(value)


def export_value(value: Any, column: Column) -> Any:
    """A cell for CSV/XLSX: numbers stay numbers, choices and periods in words, dates ISO."""
    if value is None:
        return ""
    if column.period:
        return period_label(value, column.period)
    if column.choices:
        return str(column.choices.get(value, value))
    if column.kind == BOOLEAN:
        return _("Yes") if value else _("No")
    if column.kind == MONEY and isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
