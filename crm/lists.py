"""One list component. A list page is a declaration, a `ListPage` subclass in the module's own
lists.py; `ListView` renders any of them with the templates in templates/components/list/.

The declaration says what is listed (`queryset`, through `visible_to`), how it is filtered
(a django-filter FilterSet; `primary_filters` sit in the one-line bar, the rest in the "more
filters" drawer), shown (`columns`, each with its place on a phone card), sorted (`sorts`, each
ordering ending in the primary key), acted on (`bulk_actions`: writes on `editable_by` rows only,
the CSV export on `visible_to` rows only) and exported (`export_target`, the exports job), and
which saved views it offers. docs/architecture.md ("Lists") shows how to add one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied
from django.db.models import Expression, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.template import engines
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from crm import list_tools, lookups
from crm.models import SavedView
from crm.pagination import COUNT_LIMIT, TEXT_MATCH_LIMIT, Page, paginate
from crm.visibility import assignable_owner_list, assignable_owners, can_create, require_read
from crm.widget_html import FAST_RENDERER

PAGE_TEMPLATE = "components/list/page.html"
BASE = "__base__"  # the key of the base-currency sum among a page's sums
CARD_PLACES = ("title", "sub", "amount", "status", "date", "owner")


@dataclass(frozen=True)
class Link:
    """A cell kind: a link to the row's page, or to the page of `target` (a dotted attribute: "account").
    It shows `text` (a dotted attribute of the linked record; "" = the record itself), then, when
    they are set, `note` (an attribute of the linked record, small and grey: a contact's job title) and
    a badge (`badge` = (the row's attribute, label): a VIP account). With `when` (an attribute of the
    row), the link shows only where that is true; elsewhere `otherwise` (grey text; "" = nothing)."""

    text: str = ""
    target: str = ""
    note: str = ""
    badge: tuple[str, Any] | None = None
    when: str = ""
    otherwise: Any = ""

    def __call__(self, row) -> str:
        record = resolve(row, self.target) if self.target else row
        if record is None or (self.when and not resolve(row, self.when)):
            return format_html('<span class="text-body-secondary">{}</span>', self.otherwise) if self.otherwise else ""
        shown = resolve(record, self.text) if self.text else record
        html = format_html('<a href="{}">{}</a>', record.get_absolute_url(), shown)
        note = resolve(record, self.note) if self.note else None
        if note:
            html += format_html(' <small class="text-body-secondary">{}</small>', note)
        if self.badge and resolve(row, self.badge[0]):
            html += format_html(' <span class="badge text-bg-warning">{}</span>', self.badge[1])
        return html


_CHOICE_LABELS: dict[tuple[type, str, str], dict[Any, str]] = {}


def choice_label(model: type, name: str, value) -> str:
    """What `row.get_<name>_display()` gives, from a table made once per model field and language: the
    model's method rebuilds the field's choices (flattened, made hashable) and translates the label on
    every call, three times per row on the account list."""
    key = (model, name, get_language())
    labels = _CHOICE_LABELS.get(key)
    if labels is None:
        labels = {choice: str(label) for choice, label in model._meta.get_field(name).flatchoices}
        _CHOICE_LABELS[key] = labels
    label = labels.get(value, value)
    return "" if label is None else str(label)


@dataclass(frozen=True)
class Choice:
    """A cell kind: the label of the row's choice field `name` (`get_<name>_display`, per language cached)."""

    name: str

    def __call__(self, row) -> str:
        return choice_label(type(row), self.name, getattr(row, self.name))


def _phone(value) -> str:
    from crm.phones import format_phone

    return format_phone(value) if value else ""


FORMATS: dict[str, Callable[[Any], str]] = {
    "date": lambda value: date_filter(value, "SHORT_DATE_FORMAT"),  # the reader's short date
    "phone": _phone,  # +442079460101 → +44 20 7946 0101
}


@dataclass(frozen=True)
class Column:
    """One column. A cell shows `value` (a dotted attribute; callables are called; `format` "date" or
    "phone"), or calls `cell` (a Python function of the row returning escaped HTML, e.g. `Link()`),
    or renders `template` (a partial, e.g. "sales/list_cells.html#deal_stage", with `row` in its context).
    The first two are written without the template engine (docs/benchmarks.md, issue 16): prefer them."""

    header: Any
    value: str = ""
    template: str = ""
    sort: str = ""  # the key in ListPage.sorts this header sorts by ("" = not sortable)
    card: str = ""  # its place on a phone card (CARD_PLACES); "" = table only
    total: str = ""  # the attribute summed into the footer (money), by `currency`
    currency: str = "currency"
    format: str = ""  # "date" for a plain date cell, "phone" for a phone number
    numeric: bool = False  # right-aligned figures
    nowrap: bool = False
    cell: Callable[[Any], str] | None = None

    def __post_init__(self):
        if self.card and self.card not in CARD_PLACES:
            raise ImproperlyConfigured(f"Column {self.header!r}: card must be one of {CARD_PLACES}")
        if sum(map(bool, (self.value, self.template, self.cell))) != 1:
            raise ImproperlyConfigured(f"Column {self.header!r}: give one of value, template or cell")
        if self.format and self.format not in FORMATS:
            raise ImproperlyConfigured(f"Column {self.header!r}: format must be one of {tuple(FORMATS)}")


@dataclass(frozen=True)
class BoundColumn:
    """A column ready for one page: what all its cells share (header in the reader's language,
    the cell's classes, the partial already loaded) is worked out once, not once per row."""

    column: Column
    header: str
    cell_class: str
    partial: Any  # the loaded partial template, or None for a plain value cell

    @classmethod
    def bind(cls, column: Column) -> BoundColumn:
        classes = [f"card-{column.card}" if column.card else "card-none"]
        classes += ["text-end"] if column.numeric else []
        classes += ["text-nowrap"] if column.nowrap else []
        partial = engines["django"].engine.get_template(column.template) if column.template else None  # type: ignore[attr-defined]
        return cls(column=column, header=str(column.header), cell_class=" ".join(classes), partial=partial)

    def render(self, row, context) -> str:
        """The cell's escaped HTML (`context`: the page's template context, for a partial)."""
        column = self.column
        if column.cell is not None:
            return conditional_escape(column.cell(row))
        if self.partial is not None:
            with context.push(row=row):
                return self.partial.render(context)
        value = resolve(row, column.value)
        if value is None:
            return ""
        return conditional_escape(FORMATS[column.format](value) if column.format else value)


def render_rows(context, rows: Sequence, columns: Sequence[BoundColumn], ticks: bool) -> SafeString:
    """The table's rows, written in Python (a list page's largest template cost was its rows' cells):
    the same markup as the loop this replaced in components/list/table.html, byte for byte
    (crm/tests/test_lists.py compares them)."""
    tick = conditional_escape(gettext("Tick"))
    heads = [(conditional_escape(bound.cell_class), conditional_escape(bound.header)) for bound in columns]
    out = []
    for row in rows:
        out.append("\n    <tr>\n      ")
        if ticks:
            out.append(f'<td class="text-center list-tick"><input class="form-check-input" type="checkbox" '
                       f'name="ids" value="{row.pk}" aria-label="{tick}: {conditional_escape(row)}"></td>')
        out.append("\n      ")
        for bound, (cell_class, header) in zip(columns, heads, strict=True):
            out.append(f'<td class="{cell_class}" data-label="{header}">{bound.render(row, context)}</td>')
        out.append("\n    </tr>\n    ")
    return mark_safe("".join(out))  # noqa: S308 - every piece above is escaped  # nosec B308 B703


class BulkRefused(Exception):  # noqa: N818 - it is a refusal, not an error of ours
    """Raised by a bulk action for input it cannot use (no owner chosen): the message is shown,
    nothing changed, and no "read-only rows skipped" warning follows."""


@dataclass(frozen=True)
class BulkAction:
    """A write on the ticked rows. `run(request, rows)` gets only the rows the user may edit
    (`editable_by`), reports its own success message, and raises BulkRefused for bad input.
    `needs` names the extra input the bar shows for it: "owner", "tag" or "choice" (a select of
    `choices(user)`, posted as `choice-<key>`). An action that changes none of the ticked rows
    itself (marketing's "add to a static list" writes its own rows) says `rows="visible"` and gets
    every ticked row the user may see instead."""

    key: str
    label: Any
    run: Callable[[HttpRequest, QuerySet], None]
    needs: str = ""
    allowed: Callable[[Any], bool] = field(default=lambda user: True)
    choices: Callable[[Any], list[tuple[Any, str]]] | None = None
    rows: str = "editable"  # or "visible"


_REGISTERED_ACTIONS: dict[str, list[BulkAction]] = {}


def register_bulk_action(target: str, action: BulkAction) -> None:
    """A bulk action another module adds to a list it does not own, for the list's model label
    ("contacts.contact"): the contacts list offers marketing's "Add to a static list" without
    naming marketing. A re-import replaces the action, never doubles it."""
    others = [known for known in _REGISTERED_ACTIONS.get(target.lower(), []) if known.key != action.key]
    _REGISTERED_ACTIONS[target.lower()] = [*others, action]


@dataclass(frozen=True)
class ExportColumn:
    header: Any
    value: str  # a dotted attribute; callables are called, lists joined


@dataclass(frozen=True)
class TotalLine:
    """A footer line: its label, the currency, and per column the sum (None where the column has none)."""

    label: str
    currency: str
    cells: list
    note: str = ""  # a line under the label (how a converted total was converted)


@dataclass
class Chip:
    name: str
    label: str
    value: str
    remove_url: str


def both_ways(**keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Ascending and descending sorts ending in the pk: both_ways(name=("last_name", "first_name"))
    gives "name" → (last_name, first_name, id) and "-name" → (-last_name, -first_name, -id)."""
    sorts: dict[str, tuple[str, ...]] = {}
    for key, fields in keys.items():
        sorts[key] = (*fields, "id")
        sorts[f"-{key}"] = (*(f"-{name}" for name in fields), "-id")
    return sorts


def resolve(row, path: str):
    value = row
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
        if callable(value):
            value = value()
    return value


def bulk_owner(request):
    """The active person a bulk "assign" names, if the user may assign to them; else None."""
    owner_id = list_tools.to_int(request.POST.get("owner"))
    return assignable_owners(request.user).filter(is_active=True, pk=owner_id).first()


def _saved_view_users() -> dict[str, tuple[bool, frozenset[int]]]:
    """Per list (SavedView target): whether anyone shared a view of it, and who saved one. Most people have
    none: their list pages then skip the saved-views query. Dropped on every save or delete of a view."""
    shared: dict[str, bool] = {}
    users: dict[str, set[int]] = {}
    for target, user_id, is_shared in SavedView.objects.order_by().values_list("target", "user_id", "shared"):
        shared[target] = shared.get(target, False) or is_shared
        users.setdefault(target, set()).add(user_id)
    return {target: (shared[target], frozenset(users[target])) for target in users}


lookups.register("saved_view_users", _saved_view_users, models=("crm.savedview",))


class ListPage:
    """A list page, declared. Subclass it in the module's lists.py and route `ListView` to it."""

    model: ClassVar[type]
    filterset: ClassVar[type]
    title: ClassVar[Any] = ""
    url_name: ClassVar[str] = ""
    bulk_url_name: ClassVar[str] = ""
    bulk_from: ClassVar[str] = ""  # sent back by the bulk form (a list sharing another's bulk URL)
    table_id: ClassVar[str] = ""
    columns: ClassVar[Sequence[Column]] = ()
    sorts: ClassVar[dict[str, tuple[str, ...]]] = {}
    default_sort: ClassVar[str] = ""
    primary_filters: ClassVar[Sequence[str]] = ("q",)
    per_page: ClassVar[int] = 50
    bulk_actions: ClassVar[Sequence[BulkAction]] = ()
    export_columns: ClassVar[Sequence[ExportColumn]] = ()  # the "Export to CSV" bulk action
    export_filename: ClassVar[str] = ""
    export_ordering: ClassVar[tuple[str, ...]] = ("id",)
    export_target: ClassVar[str] = ""  # the exports job's target: "Export list" in the header
    saved_views: ClassVar[str] = ""  # the SavedView target ("" = no saved views)
    built_in_views: ClassVar[Sequence[tuple[Any, str]]] = ()
    noun_plural: ClassVar[Any] = ""  # "accounts": "With ticked accounts…"
    nothing_ticked: ClassVar[Any] = _("Tick at least one row first.")
    skipped: ClassVar[Any] = None  # ngettext_lazy(…, "count"): ticked rows the user may not change
    empty_icon: ClassVar[str] = "list"
    empty_text: ClassVar[Any] = ""
    empty_filtered_text: ClassVar[Any] = _("Nothing matches these filters.")
    create_url_name: ClassVar[str] = ""  # the primary action
    create_label: ClassVar[Any] = ""
    create_id: ClassVar[str] = "list-create"
    empty_action_template: ClassVar[str] = ""  # the empty state's action when it is not "create" (a partial)
    actions_template: ClassVar[str] = ""  # more header buttons (a partial)
    intro_template: ClassVar[str] = ""  # a line under the title (a partial)
    # A model field holding each row's money in DEFAULT_CURRENCY (a deal's `amount_base`): rows in several
    # currencies then also get one converted total, at the rate each row was saved with.
    base_total: ClassVar[str] = ""

    chip_labels: ClassVar[dict[str, Any]] = {"account": _("Account"), "opportunity": _("Opportunity")}

    registry: ClassVar[dict[str, type[ListPage]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for key, ordering in cls.sorts.items():
            if ordering[-1].lstrip("-") not in ("id", "pk"):
                raise ImproperlyConfigured(f"{cls.__name__}: sort {key!r} must end in the primary key")
        if cls.sorts and cls.default_sort not in cls.sorts:
            raise ImproperlyConfigured(f"{cls.__name__}: default_sort must be one of sorts")
        if cls.saved_views and cls.saved_views not in ListPage.registry:
            ListPage.registry[cls.saved_views] = cls

    def __init__(self, request: HttpRequest):
        self.request = request
        self.user = request.user

    # --- What a module overrides ---------------------------------------------------------
    def check(self) -> None:
        """Raise 404 when the user's role reads none of these rows (the same answer as a missing page)."""
        require_read(self.user, self.model)

    def queryset(self) -> QuerySet:
        return self.model.objects.visible_to(self.user)

    def decorate(self, rows: list) -> None:
        """Per-page touches on the shown rows (one query for all of them, never one per row)."""

    def context(self) -> dict:
        return {}

    def may_create(self) -> bool:
        return bool(self.create_url_name) and can_create(self.user, self.model)

    def export_rows(self, ids: list[int]) -> QuerySet:
        return self.model.objects.visible_to(self.user).filter(pk__in=ids).order_by(*self.export_ordering)

    def export_value(self, row, column: ExportColumn):
        value = resolve(row, column.value)
        return ", ".join(value) if isinstance(value, list) else value

    def chip_text(self, name: str, text: str) -> str:
        """What a chip shows for a filter's value: override for hidden id filters (an account's name)."""
        return text

    def back_url(self) -> str:
        return reverse(self.url_name)

    # --- The machinery ----------------------------------------------------------------------
    def sort_key(self) -> str:
        sort = self.request.GET.get("sort", self.default_sort)
        return sort if sort in self.sorts else self.default_sort

    def filter(self):
        filterset = self.filterset(self.request.GET, queryset=self.queryset(), request=self.request)
        small_controls(filterset.form)
        filterset.form.renderer = FAST_RENDERER  # the same markup as Django's widget templates, faster
        return filterset

    def page(self, filterset) -> Page:
        queryset = filterset.qs
        if self.sorts:
            queryset = queryset.order_by(*self.sorts[self.sort_key()])
        searching = bool(self.request.GET.get("q", "").strip())
        money = self.money_columns()
        page = paginate(queryset, self.request.GET.get("page"), per_page=self.per_page,
                        count_limit=TEXT_MATCH_LIMIT if searching else COUNT_LIMIT,
                        sum_group=money[0].currency if money else "", sums=self.sum_expressions() if money else None)
        self.decorate(page.rows)
        return page

    def chips(self, form) -> list[Chip]:
        """One chip per filter in force; its link is this page without that parameter."""
        chips = []
        cleaned = getattr(form, "cleaned_data", {})
        for bound in form:
            values = [value for value in self.request.GET.getlist(bound.name) if value.strip()]
            if not values:
                continue
            query = QueryDict(list_tools.clean_query(self.request.GET.urlencode()), mutable=True)
            query.pop(bound.name, None)
            query.pop("page", None)
            label = self.chip_labels.get(bound.name) or bound.label or bound.name
            chips.append(Chip(name=bound.name, label=str(label),
                              value=self.chip_text(bound.name, chip_value(bound, cleaned, values)),
                              remove_url="?" + query.urlencode()))
        return chips

    def money_columns(self) -> list[Column]:
        return [column for column in self.columns if column.total]

    def sum_expressions(self) -> dict[str, Expression | F]:
        """How each money column is summed in the database over every matching row: a model field of
        the same name by default. A list whose total is worked out in Python (the invoices' open
        balance) overrides this with the same rule as an expression."""
        expressions: dict[str, Expression | F] = {}
        for column in self.money_columns():
            try:
                self.model._meta.get_field(column.total)
            except FieldDoesNotExist:
                raise ImproperlyConfigured(f"{type(self).__name__}: say how to sum {column.total!r} "
                                           "(sum_expressions)") from None
            expressions[column.total] = F(column.total)
        if expressions and self.base_total:
            expressions[BASE] = F(self.base_total)
        return expressions

    def totals(self, page: Page) -> list[TotalLine]:
        """The footer: money summed per currency over every matching row (from the count query, when the
        count is exact) and, when there is more than one page, over the shown rows too."""
        money = self.money_columns()
        if not money or page.total < 2:
            return []

        def lines(label: str, by_currency: dict[str, dict[str, Decimal]]) -> list[TotalLine]:
            return [TotalLine(label=label, currency=currency,
                              cells=[sums.get(column.total) if column.total else None for column in self.columns])
                    for currency, sums in sorted(by_currency.items())]

        def converted(label: str, by_currency: dict[str, dict[str, Decimal]]) -> list[TotalLine]:
            """One line in the base currency, when the rows are in more than one currency."""
            if not self.base_total or len(by_currency) < 2:
                return []
            base = sum((sums.get(BASE) or Decimal(0) for sums in by_currency.values()), Decimal(0))
            cells = [base if column is money[0] else None for column in self.columns]
            currency = settings.DEFAULT_CURRENCY
            return [TotalLine(label=label % {"currency": currency}, currency=currency, cells=cells,
                              note=str(_("at the rate each row was saved with")))]

        shown: dict[str, dict[str, Decimal]] = {}
        for row in page.rows:
            by_column = shown.setdefault(str(resolve(row, money[0].currency) or ""), {})
            for column in money:
                by_column[column.total] = by_column.get(column.total, Decimal(0)) + (resolve(row, column.total) or 0)
            if self.base_total:
                by_column[BASE] = by_column.get(BASE, Decimal(0)) + (resolve(row, self.base_total) or 0)
        if len(page.rows) == page.total:
            return lines(str(_("Total")), shown) + converted(str(_("Total in %(currency)s")), shown)
        every = []
        if page.sums:
            every = (lines(str(_("Total, all pages")), page.sums)
                     + converted(str(_("Total in %(currency)s, all pages")), page.sums))
        return every + (lines(str(_("Total on this page")), shown) if len(page.rows) > 1 else [])

    def saved_view_links(self) -> list[list_tools.ViewLink]:
        links = [list_tools.ViewLink(name=str(name), query=query) for name, query in self.built_in_views]
        shared, users = lookups.get("saved_view_users").get(self.saved_views, (False, frozenset()))
        if not shared and self.user.pk not in users:
            return links  # no view of theirs and none shared for this list: no query
        saved = SavedView.objects.filter(Q(user=self.user) | Q(shared=True), target=self.saved_views)
        for view in saved:
            links.append(list_tools.ViewLink(name=view.name, query=view.query, pk=view.pk,
                                             mine=view.user_id == self.user.pk, shared=view.shared))
        return links

    def all_bulk_actions(self) -> list[BulkAction]:
        """The list's own bulk actions, then those other modules registered for its model."""
        return [*self.bulk_actions, *_REGISTERED_ACTIONS.get(self.model._meta.label_lower, [])]

    def actions_for(self) -> list[BulkAction]:
        return [action for action in self.all_bulk_actions() if action.allowed(self.user)]


def chip_value(bound, cleaned: dict, values: list[str]) -> str:
    field_ = bound.field
    value = cleaned.get(bound.name)
    if isinstance(field_, forms.ModelChoiceField) and value is not None:
        return str(value)
    choices = getattr(field_, "choices", None) or getattr(field_.widget, "choices", None)
    if choices and not isinstance(field_, forms.ModelChoiceField):
        labels = {str(key): label for key, label in choices}
        return ", ".join(str(labels.get(raw, raw)) for raw in values)
    if isinstance(field_.widget, forms.CheckboxInput):
        return str(_("Yes"))
    return ", ".join(values)


DASHES = "---------"  # Django's empty choice


def _plain_empty_labels() -> set[str]:
    from django_filters.conf import settings as filter_settings

    return {DASHES, str(filter_settings.EMPTY_CHOICE_LABEL)}


def name_empty_choice(bound) -> None:
    """A filter select's empty choice says which filter it is and that it takes everything ("Stage:
    all"), not "---------": in the one-line bar the label is read out, not shown."""
    field = bound.field
    text = _("%(label)s: all") % {"label": bound.label}
    plain = _plain_empty_labels()
    if str(getattr(field, "empty_label", "")) in plain:
        field.empty_label = text  # read when a query-running iterator lists the choices
        # The widget's iterator may still point to the class's field (a widget copies it shallowly).
        field.widget.choices = field.choices
    choices = field.widget.choices
    if isinstance(choices, list):  # choices already written out (cached lookups, plain choices)
        field.widget.choices = [(value, text if value == "" and str(label) in plain else label)
                                for value, label in choices]


def small_controls(form) -> None:
    """Bootstrap classes on the filter widgets, so one plain loop renders any filter set."""
    for bound in form:
        widget = bound.field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select form-select-sm"
            if not isinstance(widget, forms.SelectMultiple):
                name_empty_choice(bound)
        else:
            css = "form-control form-control-sm"
            if widget.input_type in ("text", "search"):
                widget.attrs.setdefault("placeholder", str(bound.label or ""))
        widget.attrs["class"] = css


def saved_view_list_url(target: str) -> str | None:
    page = ListPage.registry.get(target)
    return reverse(page.url_name) if page else None


class ListView(View):
    """Renders a ListPage (GET) or runs its bulk actions (POST, routed with bulk=True)."""

    page: type[ListPage] | None = None
    bulk = False

    def dispatch(self, request, *args, **kwargs):
        allowed = ["post"] if self.bulk else ["get", "head"]
        if request.method.lower() not in allowed:
            return HttpResponseNotAllowed([method.upper() for method in allowed])
        declaration = self.page(request)
        declaration.check()
        if self.bulk:
            return self.run_bulk(declaration)
        return self.render_list(declaration)

    def render_list(self, declaration: ListPage) -> HttpResponse:
        request = self.request
        filterset = declaration.filter()
        page = declaration.page(filterset)
        form = filterset.form
        primary = [name for name in declaration.primary_filters if name in form.fields]
        fields = list(form)
        chips = declaration.chips(form)
        columns = [BoundColumn.bind(column) for column in declaration.columns]
        context = {
            "list": declaration,
            "filter": filterset,
            "page": page,
            "sort": declaration.sort_key(),
            "primary_fields": [bound for bound in fields if bound.name in primary and not bound.is_hidden],
            "drawer_fields": [bound for bound in fields if bound.name not in primary and not bound.is_hidden],
            "hidden_fields": [bound for bound in fields if bound.is_hidden],
            "chips": chips,
            "drawer_in_force": sum(1 for chip in chips if chip.name not in primary),
            "columns": columns,
            "totals": [(line, list(zip(columns, line.cells, strict=True))) for line in declaration.totals(page)],
            "bulk_actions": declaration.actions_for() if declaration.bulk_url_name else [],
            "can_create": declaration.may_create(),
            "current_query": list_tools.clean_query(request.GET.urlencode()),
            "list_url": reverse(declaration.url_name),
            **declaration.context(),
        }
        context["bulk_needs"] = {action.needs for action in context["bulk_actions"]}
        context["bulk_choices"] = [(action, action.choices(request.user)) for action in context["bulk_actions"]
                                   if action.needs == "choice" and action.choices is not None]
        if "owner" in context["bulk_needs"]:
            # The cached list of active people, filtered as `assignable_owners` filters (no query); a posted
            # owner is still checked against that queryset (`bulk_owner`).
            context["owners"] = assignable_owner_list(request.user)[:500]
        if declaration.saved_views:
            context["saved_views"] = declaration.saved_view_links()
            context["view_target"] = declaration.saved_views
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.history_restore_request:
            return render(request, PAGE_TEMPLATE + "#list_body", context)
        return render(request, PAGE_TEMPLATE, context)

    def run_bulk(self, declaration: ListPage) -> HttpResponse:
        request = self.request
        ids = list_tools.selected_ids(request)
        back = declaration.back_url() + "?" + list_tools.clean_query(request.POST.get("query", ""))
        action_key = request.POST.get("action")
        if not ids:
            messages.error(request, declaration.nothing_ticked)
            return redirect(back)
        if action_key == "export" and declaration.export_columns:
            return list_tools.csv_response(
                declaration.export_filename, [str(column.header) for column in declaration.export_columns],
                ([declaration.export_value(row, column) for column in declaration.export_columns]
                 for row in declaration.export_rows(ids)))
        action = next((action for action in declaration.all_bulk_actions() if action.key == action_key), None)
        if action is None:
            messages.error(request, _("Choose an action."))
            return redirect(back)
        if not action.allowed(request.user):
            raise PermissionDenied
        if action.rows == "visible":
            rows, skipped = declaration.model.objects.visible_to(request.user).filter(pk__in=ids), 0
        else:
            rows = declaration.model.objects.editable_by(request.user).filter(pk__in=ids)
            skipped = len(set(ids)) - rows.count()
        try:
            action.run(request, rows)
        except BulkRefused as refusal:
            messages.error(request, str(refusal))
            return redirect(back)
        if skipped and declaration.skipped is not None:
            messages.warning(request, declaration.skipped % {"count": skipped})
        return redirect(back)
