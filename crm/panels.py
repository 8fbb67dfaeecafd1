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

Slots: MAIN (the wide column, under the key facts), SIDE (the narrow column), ACTIONS (buttons in
the page header) and FIGURES (key figures at the top of the page).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
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


@dataclass(frozen=True)
class Panel:
    target: str  # the record's model label, lower case: "accounts.account"
    slot: str
    order: int
    function: PanelFunction

    @property
    def key(self) -> str:
        return f"{self.function.__module__}.{self.function.__name__}"


_PANELS: dict[str, list[Panel]] = defaultdict(list)


def register(target: str, *, slot: str = MAIN, order: int = 100) -> Callable[[PanelFunction], PanelFunction]:
    if slot not in SLOTS:
        raise ValueError(f"Unknown panel slot {slot!r}; use one of {SLOTS}")

    def decorator(function: PanelFunction) -> PanelFunction:
        panel = Panel(target=target.lower(), slot=slot, order=order, function=function)
        existing = [p for p in _PANELS[panel.target] if p.key != panel.key]  # a re-import replaces, never doubles
        _PANELS[panel.target] = sorted([*existing, panel], key=lambda p: (p.order, p.key))
        return function

    return decorator


def registered(target: str) -> list[Panel]:
    return list(_PANELS.get(target.lower(), []))


def render(request: HttpRequest, record: Model, page: dict[str, Any] | None = None, *,
           target: str | None = None) -> dict[str, list[SafeString]]:
    """Every registered panel of the record's model, rendered, by slot: {"main": [html, ...], ...}.
    Templates print them with `{% for html in panels.main %}{{ html }}{% endfor %}`. A page that
    is not a record page names its own target (HOME: "my day", whose record is the user)."""
    shared = {} if page is None else page
    out: dict[str, list[SafeString]] = {slot: [] for slot in SLOTS}
    for panel in registered(target or record._meta.label_lower):
        rendered = panel.function(request, record, shared)
        if rendered is not None:
            context = {"record": record, **rendered.context}
            html = render_to_string(rendered.template, context, request=request)
            out[panel.slot].append(SafeString(html))  # escaped by the engine  # nosec B703
    return out
