"""Fuzzing every list, search, autocomplete and API list (issue 14, "The attack matrix, in CI").

The targets come from the URL configuration: every pattern without parameters whose view reads query
parameters and answers GET. The parameters of each come from the code, not from a hand-kept list: the
FilterSet of its ListPage (crm/lists.py) or of its API view set, the fields of any form it binds to
request.GET, and every `request.GET.get("...")` in its source, plus q, sort/ordering and page.

Each target gets, with every parameter at once: NUL bytes, 10,000-character strings, impossible dates,
NaN, Infinity, a number too large for any column, a negative page and an unknown sort field, by an
admin (who reaches every code path); the other roles get the long string (a role that reads nothing of
a list took another path in issue 14's EmptyResultSet). The answer is never a 500, and a GET
writes nothing.
"""

import inspect
import re
import time
from urllib.parse import urlencode

import pytest
from django.urls import resolve, reverse

from crm.tests.test_attack_matrix import (
    Tally,
    _quiet_refusals,  # noqa: F401 - the autouse fixture, shared
    all_routes,
    api_caller,
    build_world,
    expect,
    portal_caller,
    report,
    staff_caller,
    writes,
    written,
)

pytestmark = pytest.mark.django_db

BASE_PARAMETERS = {"q", "sort", "page"}
API_PARAMETERS = {"q", "ordering", "cursor", "page_size"}
SORT_PARAMETERS = {"sort", "ordering"}
# Pages that read query parameters but are not lists: each with the reason it is left out.
NOT_FUZZED = {
    "api:schema": "the OpenAPI document; drf-spectacular reads only lang/version, and building it takes seconds",
    "portal:login": "the sign-in form; its next= is checked by crm/redirects (the lead's tests)",
    "set_language": "POST only (Django's view); next= is checked by Django",
}

LONG = "x" * 10_000
PAYLOADS = {
    "NUL byte": "a\x00b",
    "10,000 characters": LONG,
    "impossible date": "2026-02-31T25:61",
    "NaN": "NaN",
    "Infinity": "-Infinity",
    "too large": "99999999999999999999999",
    "unknown sort field": "-no_such_field__pk",
}
ROLE_PAYLOADS = ("10,000 characters",)
OTHER_ROLES = ("owner", "manager", "executive", "support_agent", "marketer")


def _forms_bound_to_get(source: str, module) -> set[str]:
    names = set()
    for form_name in re.findall(r"(\w+Form)\(\s*request\.GET", source):
        form = getattr(module, form_name, None)
        names |= set(getattr(form, "base_fields", {}))
    return names


def parameters_of(url: str) -> tuple[set[str], bool]:
    """The query parameters the view at `url` reads, and whether it is an API view."""
    callback = resolve(url).func
    found: set[str] = set()
    page = (getattr(callback, "view_initkwargs", None) or {}).get("page")
    if page is not None:
        found |= set(page.filterset.base_filters) | BASE_PARAMETERS
    viewset = getattr(callback, "cls", None)
    is_api = viewset is not None and url.startswith("/api/")
    if is_api:
        filterset = getattr(viewset, "filterset_class", None)
        found |= set(filterset.base_filters if filterset else ()) | API_PARAMETERS
    target = inspect.unwrap(getattr(callback, "view_class", None) or viewset or callback)
    try:
        source = inspect.getsource(target)
    except (OSError, TypeError):
        source = ""
    found |= set(re.findall(r"request\.(?:GET|query_params)\.get(?:list)?\(\s*[\"'](\w+)", source))
    found |= _forms_bound_to_get(source, inspect.getmodule(target))
    return found, is_api


def fuzz_targets() -> list[tuple[str, str, set[str], bool]]:
    targets = []
    for route in all_routes():
        if route.params or not route.name or route.name in NOT_FUZZED:
            continue
        url = reverse(route.name)
        parameters, is_api = parameters_of(url)
        if parameters:
            targets.append((route.name, url, parameters, is_api))
    return targets


def query(parameters: set[str], payload: str) -> dict:
    return {name: payload for name in sorted(parameters)}


def test_the_fuzz_targets_cover_every_kind_of_list():
    names = {name for name, *_ in fuzz_targets()}
    for expected in ("accounts:list", "contacts:list", "sales:opportunity_list", "service:ticket_list", "search",
                     "autocomplete_accounts", "autocomplete_contacts", "sales:product_autocomplete",
                     "api:account-list", "api:ticket-list", "portal:help", "sales:forecast", "calendar"):
        assert expected in names, f"{expected} is not fuzzed"
    parameters = dict((name, found) for name, _url, found, _api in fuzz_targets())
    assert {"created_after", "owner", "q", "sort"} <= parameters["accounts:list"]
    assert {"ordering", "close_from", "amount_min"} <= parameters["api:opportunity-list"]


@pytest.mark.parametrize("group", ["api", "pages"])
def test_no_query_parameter_makes_a_list_fail_or_write(cast, group):
    started = time.perf_counter()
    world = build_world(cast)
    staff = {name: staff_caller(name, cast[name]) for name in ("admin", *OTHER_ROLES)}
    api = {name: api_caller(name, cast[name]) for name in ("admin", *OTHER_ROLES)}
    portal_user = portal_caller("portal user", world["portal_user"])
    tally = Tally()
    anything_but_a_500 = expect(set(range(200, 500)), secret_hidden=False)
    targets = [target for target in fuzz_targets() if target[3] == (group == "api")]
    routes = {route.name: route for route in all_routes()}

    for name, url, parameters, is_api in targets:
        before, route_started = writes(), time.perf_counter()
        portal_page = url.startswith("/portal/")
        for label, payload in PAYLOADS.items():
            values = query(parameters, payload)
            if label == "unknown sort field":
                values = {key: value for key, value in values.items() if key in SORT_PARAMETERS} or values
            roles = ["admin"] if portal_page else ["admin", *(OTHER_ROLES if label in ROLE_PAYLOADS else ())]
            for role in roles:
                caller = portal_user if portal_page else (api if is_api else staff)[role]
                full = f"{url}?{urlencode(values)}"
                want = expect({400}) if label == "NUL byte" else anything_but_a_500
                tally.check(routes[name], caller, "GET", full, want)
        tally.seconds[name] = time.perf_counter() - route_started
        changed = written(before, writes())
        if changed:
            tally.failures.append(f"{name}: a GET wrote to {changed}")

    report(f"fuzzing {group} ({len(PAYLOADS)} payloads)", tally, started)
    tally.assert_clean()
