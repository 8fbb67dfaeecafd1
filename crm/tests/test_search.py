"""The search registry (crm/search.py): parsing, grouping, the typo fallback, the caller lookup.
The modules' providers have their own tests (contacts/tests/test_search.py, sales/tests/test_search.py)."""

import pytest
from django.urls import reverse

from crm import search
from crm.search import CallerHit, Hit, Kind, Query


@pytest.mark.parametrize(("typed", "kind", "attribute", "value"), [
    ("Anna.Keller@Example.com", Kind.EMAIL, "email", "anna.keller@example.com"),
    ("+44 20 7946 0001", Kind.PHONE, "e164", "+442079460001"),
    ("123456", Kind.PHONE, "e164", ""),  # digits, but no valid number: a tax number perhaps
    ("inv-2026-00", Kind.NUMBER, "number", "INV-2026-00"),
    ("Q-2026-0007/2", Kind.NUMBER, "number", "Q-2026-0007/2"),
    ("  Northwind   Traders ", Kind.WORDS, "text", "Northwind Traders"),
])
def test_query_kinds(typed, kind, attribute, value):
    query = Query.parse(typed)
    assert query.kind == kind and getattr(query, attribute) == value


class Recorder(search.SearchProvider):
    """A provider that answers what it is told and counts its calls."""

    def __init__(self, key, order, hits=(), typo_hits=(), caller=()):
        self.key, self.label, self.icon, self.order = key, key.title(), "star", order
        self.hits, self.typo_hits, self.caller = list(hits), list(typo_hits), list(caller)
        self.matches_phone, self.caller_order = bool(caller), -order
        self.calls = []

    def search(self, user, query, limit):
        self.calls.append(("search", query.kind))
        return self.hits[:limit]

    def typo_search(self, user, query, limit):
        self.calls.append(("typo", query.kind))
        return self.typo_hits[:limit]

    def caller_hits(self, user, e164, limit):
        return self.caller


@pytest.fixture
def registry(monkeypatch):
    providers = {}
    monkeypatch.setattr(search, "_providers", providers)
    return providers


def add(registry, provider):
    registry[provider.key] = provider
    return provider


def test_groups_come_in_provider_order_and_empty_groups_are_left_out(registry, owner):
    add(registry, Recorder("second", 20, hits=[Hit("B", "", "/b/")]))
    add(registry, Recorder("first", 10, hits=[Hit("A", "sub", "/a/")] * 12))
    add(registry, Recorder("empty", 5))
    results = search.search(owner, "anything")
    assert [group.key for group in results.groups] == ["first", "second"]
    assert len(results.groups[0].hits) == search.PER_GROUP  # at most PER_GROUP per provider


def test_the_typo_search_runs_only_when_nothing_matched(registry, owner):
    found = add(registry, Recorder("found", 10, hits=[Hit("A", "", "/a/")], typo_hits=[Hit("X", "", "/x/")]))
    other = add(registry, Recorder("other", 20))
    search.search(owner, "anything")
    assert ("typo", Kind.WORDS) not in found.calls + other.calls
    found.hits = []
    results = search.search(owner, "anythin")
    assert ("typo", Kind.WORDS) in found.calls and ("typo", Kind.WORDS) in other.calls
    assert [hit.title for hit in results.groups[0].hits] == ["X"]
    search.search(owner, "someone@example.com")  # no typo search for an e-mail or a phone
    assert ("typo", Kind.EMAIL) not in found.calls


def test_short_terms_ask_no_provider(registry, owner):
    provider = add(registry, Recorder("any", 10))
    assert search.search(owner, " ab ").too_short and provider.calls == []


def test_the_page_renders_groups_generically(registry, client, owner):
    add(registry, Recorder("gadgets", 10, hits=[Hit("Sprocket <b>", "small print", "/gadgets/1/")]))
    client.force_login(owner)
    page = client.get(reverse("search"), {"q": "sprocket"}).content.decode()
    assert "Gadgets" in page and "bi-star" in page and 'href="/gadgets/1/"' in page
    assert "Sprocket &lt;b&gt;" in page and "small print" in page  # escaped
    registry["gadgets"].hits.clear()
    assert "Nothing you may see matches" in client.get(reverse("search"), {"q": "zzz"}).content.decode()


def test_caller_lookup_uses_the_phone_providers_in_caller_order(registry, client, owner):
    add(registry, Recorder("companies", 10, caller=[CallerHit("Acme", {"account": (7, "Acme")})]))
    add(registry, Recorder("people", 20, caller=[CallerHit("Ann · Acme", {"contact": (3, "Ann"),
                                                                         "account": (7, "Acme")})]))
    add(registry, Recorder("no phones", 30))
    client.force_login(owner)
    lookup = client.get(reverse("lookup_phone"), {"phone": "+44 20 7946 0001"}).json()
    assert lookup["results"] == [
        {"text": "Ann · Acme", "contact": 3, "contact_text": "Ann", "account": 7, "account_text": "Acme"},
        {"text": "Acme", "contact": None, "contact_text": "", "account": 7, "account_text": "Acme"},
    ]
