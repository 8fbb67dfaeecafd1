"""Record pages are composed of panels that other modules contribute.

The page owner (the account page, say) knows only its own model. A module that has something to
show there registers a panel for that model's label from its own `panels.py`, loaded by its
AppConfig.ready():

    from crm import panels

    @panels.register("accounts.account", slot=panels.MAIN, order=20)
    def open_deals(request, account, page):
        deals = Opportunity.objects.visible_to(request.user).open().filter(account=account)
        rows = list(deals.order_by("expected_close_date", "id")[:PANEL_ROWS + 1])
        if not rows:
            return None  # an empty panel is not shown
        return panels.Rendered("sales/panels/open_deals.html", {"deals": rows[:PANEL_ROWS], ...})

A panel function receives the request, the record (already checked visible by the page) and a
dict the page shares with its panels (e.g. the record's history, read once); it returns
`Rendered` or None. Each panel reads through `visible_to` in a bounded number of queries: the
page's query budget is the sum of its panels'.

"My day" is composed the same way: register for the target `panels.HOME` (the record is the user).

A panel with nothing to show should cost (nearly) nothing. A panel may declare a `probe`: a function of
(request, record) returning the queryset (or a list of querysets) whose rows the panel would show, or
None when it has no cheap answer. Before the panels run, `render` asks every probe of the page in ONE
query (`SELECT EXISTS (…), EXISTS (…), …`); the panel then reads `panels.has_rows(page, probe)` and,
when it is False, shows its empty state without a query of its own:

    def open_deals_probe(request, account):
        return Opportunity.objects.visible_to(request.user).open().filter(account=account)

    @panels.register("accounts.account", slot=panels.MAIN, order=20, probe=open_deals_probe)
    def open_deals(request, account, page):
        rows = list(...) if panels.has_rows(page, open_deals_probe) else []

A panel may name several probes (`probe=(first, second)`), each answered on its own. A probe must answer
True whenever the panel's own query would find a row (the same `visible_to` and filters, or wider).
`has_rows` is True when the probe gave no answer (it returned None, or the page did not run the probes),
so a panel without the probe's answer behaves exactly as before (crm/tests/test_panel_probes.py renders every
record page both ways, for every role, and compares them).

Slots: MAIN (the wide column, under the key facts), SIDE (the narrow column), ACTIONS (buttons in
the page header) and FIGURES (key figures at the top of the page).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

HOME = "home"  # the target of "my day": modules add blocks there the same way
PROFILE = "profile"  # the user's own profile page (the record is the user): personal settings of modules

MAIN = "main"
SIDE = "side"
ACTIONS = "actions"
FIGURES = "figures"
SLOTS = (FIGURES, ACTIONS, MAIN, SIDE)


@dataclass(frozen=True)
class Rendered:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


PanelFunction = Callable[[HttpRequest, Model, dict[str, Any]], Rendered | None]
# The rows a panel would show, as one queryset or several (any of them having a row counts); None: no answer.
Probe = Callable[[HttpRequest, Model], QuerySet[Any] | list[QuerySet[Any]] | None]
PROBED = "panels.probed"  # page key: {probe key: whether it found a row}


@dataclass(frozen=True)
class Panel:
    target: str  # the record's model label, lower case: "accounts.account"
    slot: str
    order: int
    function: PanelFunction
    probes: tuple[Probe, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.function.__module__}.{self.function.__name__}"


_PANELS: dict[str, list[Panel]] = defaultdict(list)


def register(target: str, *, slot: str = MAIN, order: int = 100,
             probe: Probe | tuple[Probe, ...] = ()) -> Callable[[PanelFunction], PanelFunction]:
    if slot not in SLOTS:
        raise ValueError(f"Unknown panel slot {slot!r}; use one of {SLOTS}")

    def decorator(function: PanelFunction) -> PanelFunction:
        probes = probe if isinstance(probe, tuple) else (probe,)
        panel = Panel(target=target.lower(), slot=slot, order=order, function=function, probes=probes)
        existing = [p for p in _PANELS[panel.target] if p.key != panel.key]  # a re-import replaces, never doubles
        _PANELS[panel.target] = sorted([*existing, panel], key=lambda p: (p.order, p.key))
        return function

    return decorator


def registered(target: str) -> list[Panel]:
    return list(_PANELS.get(target.lower(), []))


def _probe_key(probe: Probe) -> str:
    return f"{probe.__module__}.{probe.__qualname__}"


def has_rows(page: dict[str, Any], probe: Probe) -> bool:
    """Whether the probe found a row for this page's record; True when it was not asked (no answer)."""
    return bool(page.get(PROBED, {}).get(_probe_key(probe), True))


def run_probes(request: HttpRequest, record: Model, panel_list: list[Panel]) -> dict[str, bool]:
    """Every probe of the page's panels in one query, `SELECT EXISTS (…), EXISTS (…), …`: each queryset
    compiled as `QuerySet.exists()` compiles it. A probe shared by several panels is asked once. Written out
    rather than as annotations on the record's row: resolving a dozen subquery annotations cost a third more
    CPU than compiling the subqueries themselves."""
    asked: dict[str, list[QuerySet[Any]]] = {}
    for probe in (probe for panel in panel_list for probe in panel.probes):
        if (key := _probe_key(probe)) in asked:
            continue
        found = probe(request, record)
        if found is not None:
            asked[key] = list(found) if isinstance(found, list | tuple) else [found]
    querysets = [queryset for found in asked.values() for queryset in found]
    if not querysets:
        return {key: False for key in asked}
    connection = connections[querysets[0].db]
    parts, params = [], []
    for queryset in querysets:
        sql, part_params = queryset.query.exists().get_compiler(connection=connection).as_sql()
        parts.append(f"EXISTS ({sql})")
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)  # compiled querysets; every value is a parameter
        values = iter(cursor.fetchone())
    return {key: any([next(values) for _queryset in found]) for key, found in asked.items()}  # every column read


def render(request: HttpRequest, record: Model, page: dict[str, Any] | None = None, *,
           target: str | None = None) -> dict[str, list[SafeString]]:
    """Every registered panel of the record's model, rendered, by slot: {"main": [html, ...], ...}.
    Templates print them with `{% for html in panels.main %}{{ html }}{% endfor %}`. A page that
    is not a record page names its own target (HOME: "my day", whose record is the user).
    The panels' probes are asked first, in one query (`run_probes`)."""
    shared = {} if page is None else page
    out: dict[str, list[SafeString]] = {slot: [] for slot in SLOTS}
    panel_list = registered(target or record._meta.label_lower)
    shared[PROBED] = run_probes(request, record, panel_list)
    for panel in panel_list:
        rendered = panel.function(request, record, shared)
        if rendered is not None:
            context = {"record": record, **rendered.context}
            html = render_to_string(rendered.template, context, request=request)
            out[panel.slot].append(SafeString(html))  # escaped by the engine  # nosec B703
    return out
