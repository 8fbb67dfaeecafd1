"""Global search: one box over every module, through providers each module registers.

The core knows no module. A module declares a `SearchProvider` subclass in its `search.py`
and decorates it with `@register`; `CrmConfig.ready()` imports every app's `search` module.
`search(user, text)` parses the text once into a `Query` (an e-mail, a phone number in any
format, a document number, or words) and asks each provider for at most PER_GROUP rows the
user may see; the page shows them grouped, in provider order.

Budget: at most one query per provider (none when the kind of query cannot match its rows),
and the slower typo-tolerant search (`typo_search`) only when no provider found anything.
Terms shorter than MIN_LENGTH answer with a hint instead of a slow query.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Model, Q, QuerySet
from django.db.models.functions import Greatest

from crm.phones import looks_like_phone, phone_candidates, phone_tail, search_regions

MIN_LENGTH = 3
PER_GROUP = 8
CANDIDATES = 200  # rows ranked per provider: a common name ("Smith") may match 70,000
MAX_LENGTH = 100

# Q-2026-0001, SO-2026-0012, INV-2026-0003/2, SKU-100: one word, letters first, then a dash and
# letters, digits and dashes with at least one digit; a quote's version after a slash.
DOCUMENT_NUMBER = re.compile(r"^[A-Za-z]{1,6}-(?=[A-Za-z0-9-]*\d)[A-Za-z0-9-]*(/\d*)?$")


class Kind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"  # digits and phone punctuation; `e164` is empty when no valid number
    NUMBER = "number"  # a document number (or its beginning): Q-2026-00
    WORDS = "words"


@dataclass(frozen=True)
class Query:
    text: str  # whitespace collapsed, at most MAX_LENGTH characters
    kind: Kind
    email: str = ""  # lower-cased, for Kind.EMAIL
    e164: str = ""  # for Kind.PHONE, when the digits are a valid number: its best reading
    number: str = ""  # upper-cased, for Kind.NUMBER
    # For Kind.PHONE: every number the digits can be, read in the user's country first, then in
    # PHONE_SEARCH_REGIONS' ("8 916 638-38-11" is Russian whoever types it).
    e164s: tuple[str, ...] = ()
    tail: str = ""  # for Kind.PHONE: 6-8 digits, the end of a number ("638-38-11")

    @classmethod
    def parse(cls, raw: str, regions: list[str] | tuple[str, ...] | None = None) -> "Query":
        """`regions`: where a number typed without a country code is read, best first."""
        text = " ".join(raw.split())[:MAX_LENGTH]
        if "@" in text:
            return cls(text=text, kind=Kind.EMAIL, email=text.lower())
        if looks_like_phone(text):
            numbers = tuple(phone_candidates(text, tuple(regions or ())))
            return cls(text=text, kind=Kind.PHONE, e164=numbers[0] if numbers else "", e164s=numbers,
                       tail=phone_tail(text))
        if DOCUMENT_NUMBER.match(text):
            return cls(text=text, kind=Kind.NUMBER, number=text.upper())
        return cls(text=text, kind=Kind.WORDS)


@dataclass(frozen=True)
class Hit:
    """One row of the results: what the page shows. `record` is the row itself (tests, callers)."""

    title: str
    subtitle: str
    url: str
    record: Model | None = None


@dataclass(frozen=True)
class CallerHit:
    """A caller-lookup match: the records it fills in on the call form, by form field name
    ({"contact": (pk, text), "account": (pk, text)}). Hidden linked records are left out."""

    text: str
    links: dict[str, tuple[int, str]]


class SearchProvider:
    """One group of results. Subclasses set the class attributes and implement `search`;
    `typo_search` and `caller_hits` are optional."""

    key: str = ""
    label: str = ""  # translated lazily: gettext_lazy
    icon: str = "search"  # a Bootstrap Icons name, without "bi-"
    order: int = 100
    matches_phone: bool = False  # `caller_hits` answers the caller lookup
    caller_order: int = 100  # the caller lookup's order: people before companies

    def search(self, user: Any, query: Query, limit: int) -> list[Hit]:
        """At most `limit` rows the user may see, best first; one query at most."""
        raise NotImplementedError

    def typo_search(self, user: Any, query: Query, limit: int) -> list[Hit]:
        """Runs only when no provider found anything: the similarity (typo) search."""
        return []

    def caller_hits(self, user: Any, e164: str | Sequence[str], limit: int) -> list[CallerHit]:
        """Rows with this E.164 number, or with any of these (a list: `phone_numbers(e164)`)."""
        return []


_providers: dict[str, SearchProvider] = {}


def register(provider_class: type[SearchProvider]) -> type[SearchProvider]:
    """Class decorator: `@search.register class AccountSearch(SearchProvider): ...`."""
    provider = provider_class()
    if not provider.key:
        raise ValueError(f"{provider_class.__name__} needs a key.")
    _providers[provider.key] = provider
    return provider_class


def providers() -> list[SearchProvider]:
    return sorted(_providers.values(), key=lambda provider: (provider.order, provider.key))


@dataclass
class Group:
    key: str
    label: str
    icon: str
    hits: list[Hit]


@dataclass
class SearchResults:
    query: str
    too_short: bool = False
    groups: list[Group] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(group.hits for group in self.groups)

    def records(self, key: str) -> list[Model]:
        """The rows one provider found (for tests and callers)."""
        return [hit.record for group in self.groups if group.key == key for hit in group.hits
                if hit.record is not None]


def search(user: Any, raw: str, per_group: int = PER_GROUP) -> SearchResults:
    text = " ".join(raw.split())
    # A number with its country code (+44…, 0044…) is read as written: no need for the user's country.
    national = looks_like_phone(text) and not text.startswith(("+", "00"))
    query = Query.parse(raw, search_regions(user) if national else None)
    if len(query.text) < MIN_LENGTH:
        return SearchResults(query=query.text, too_short=True)
    found = [(provider, provider.search(user, query, per_group)) for provider in providers()]
    if not any(hits for _, hits in found) and query.kind in (Kind.WORDS, Kind.NUMBER):
        # Nothing contains the term: perhaps a typo. The slower similarity search runs only now.
        found = [(provider, provider.typo_search(user, query, per_group)) for provider in providers()]
    return SearchResults(query=query.text, groups=[
        Group(key=provider.key, label=str(provider.label), icon=provider.icon, hits=hits)
        for provider, hits in found if hits])


def phone_numbers(e164: str | Sequence[str]) -> list[str]:
    """One E.164 number or several, as a list (providers take either)."""
    return [e164] if isinstance(e164, str) else [number for number in e164 if number]


def caller_lookup(user: Any, e164: str | Sequence[str], per_provider: int = 10) -> list[CallerHit]:
    """Who has this number (or any of these readings of one): every provider that can match a
    phone, in provider order."""
    matching = sorted((provider for provider in providers() if provider.matches_phone),
                      key=lambda provider: provider.caller_order)
    return [hit for provider in matching for hit in provider.caller_hits(user, e164, per_provider)]


# --- Helpers for providers ---------------------------------------------------------


def ranked(queryset: QuerySet[Any], fields: str | tuple[str, ...], text: str, condition: Q, limit: int,
           tie_break: Sequence[str]) -> list[Any]:
    """Best matches first, from a bounded set of candidates: a common term ("Smith") may match
    70,000 rows, so only the first CANDIDATES found through the trigram index are ranked by
    similarity (the best of `fields`). One query: the candidates are a subquery."""
    fields = (fields,) if isinstance(fields, str) else fields
    similarities = [TrigramWordSimilarity(text, name) for name in fields]
    rank = similarities[0] if len(similarities) == 1 else Greatest(*similarities)
    candidates = queryset.filter(condition).order_by().values("pk")[:CANDIDATES]
    return list(queryset.filter(pk__in=candidates).annotate(rank=rank).order_by("-rank", *tie_break)[:limit])


def joined(*parts: object) -> str:
    """A subtitle from its non-empty parts: "London · +44 20 7946 0001 · Olivia"."""
    return " · ".join(str(part) for part in parts if part not in (None, ""))
