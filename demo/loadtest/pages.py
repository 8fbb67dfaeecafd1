"""What a simulated CRM user does under load (demo/loadtest/locustfile.py), kept free of Locust so the
test suite can check every URL without Locust's gevent patching (demo/tests/test_loadtest.py).

A user signs in, reads the first page of the account and contact lists (to learn record ids it may
open), then keeps choosing one of PAGES by weight: the lists, a list search, the global search, an
account or contact page, the opportunity list and the board: the pages of docs/benchmarks.md."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

PASSWORD = "demo-crm-2026"  # noqa: S105 - the seeded users' demo password (manage.py seed)
# Seeded sales managers (team scope), reps (own rows) and the executive (everything).
USERS = ["manager1@seed.crm", "manager10@seed.crm", "rep2@seed.crm", "rep3@seed.crm", "rep4@seed.crm",
         "executive@seed.crm"]
# Common and rare surnames of the seeded data, Latin and Cyrillic.
TERMS = ["Smith", "Jones", "Müller", "Dupont", "Иванов", "Петрова", "Taylor", "Schmidt", "Захаров", "Brown"]
LOGIN_URL = "/auth/login/"
ACCOUNT_LINK = re.compile(r'href="/accounts/(\d+)/"')
CONTACT_LINK = re.compile(r'href="/contacts/(\d+)/"')


@dataclass(frozen=True)
class PageKind:
    name: str  # the row in the report (one per kind, not per URL)
    weight: int
    needs: str = ""  # "account" or "contact": a record id learnt from the lists

    def url(self, rng: random.Random, known: dict[str, list[int]]) -> str | None:
        term = rng.choice(TERMS)
        if self.needs:
            ids = known.get(self.needs) or []
            if not ids:
                return None
            return f"/{self.needs}s/{rng.choice(ids)}/"
        return self.name.replace("{term}", term)


PAGES = [
    PageKind("/accounts/", 3),
    PageKind("/contacts/", 3),
    PageKind("/accounts/?q={term}", 2),
    PageKind("/contacts/?q={term}", 1),
    PageKind("/search/?q={term}", 2),
    PageKind("/accounts/<id>/", 2, needs="account"),
    PageKind("/contacts/<id>/", 2, needs="contact"),
    PageKind("/sales/opportunities/", 2),
    PageKind("/sales/board/", 1),
]


def learn_ids(accounts_html: str, contacts_html: str) -> dict[str, list[int]]:
    return {"account": sorted({int(pk) for pk in ACCOUNT_LINK.findall(accounts_html)}),
            "contact": sorted({int(pk) for pk in CONTACT_LINK.findall(contacts_html)})}


def pick(rng: random.Random, known: dict[str, list[int]]) -> tuple[str, str]:
    """(report name, URL) of the next page, chosen by weight."""
    while True:
        kind = rng.choices(PAGES, weights=[page.weight for page in PAGES])[0]
        url = kind.url(rng, known)
        if url is not None:
            return kind.name, url


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not found:
        raise RuntimeError("the sign-in page has no CSRF token")
    return found.group(1)
