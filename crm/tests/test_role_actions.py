"""Actions follow the role: no page offers a link its reader would be refused (a 403), and an executive's
"my day" opens on the company's figures instead of an offer to schedule a meeting."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from sales.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="(/[^"#]*)')
# Links that leave the signed-in pages or only answer a POST (forms are not links).
NOT_FOLLOWED = ("/auth/logout/", "/static/", "/django-admin/", "/api/", "/calendar/feed/")


@pytest.fixture
def records(owner):
    account = AccountFactory(owner=owner, team=owner.team, name="Acme Corp")
    ContactFactory(owner=owner, account=account, first_name="Ada", last_name="Buyer")
    deal = OpportunityFactory(owner=owner, account=account, amount=Decimal("5000.00"),
                              expected_close_date=timezone.localdate())
    return {"account": account, "deal": deal}


@pytest.mark.parametrize("role", ["owner", "manager", "executive", "support_agent", "marketer"])
def test_no_page_offers_a_link_its_reader_is_refused(client, cast, records, role):
    user = cast[role]
    client.force_login(user)
    pages = ["/", "/calendar/", "/accounts/", "/sales/", records["account"].get_absolute_url(),
             records["deal"].get_absolute_url()]
    refused = []
    seen = set()
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        for href in HREF.findall(response.content.decode()):
            href = href.replace("&amp;", "&")
            if href in seen or href.startswith(NOT_FOLLOWED):
                continue
            seen.add(href)
            if client.get(href).status_code == 403:
                refused.append(f"{url} → {href}")
    assert not refused, f"{role} is offered links that answer 403: {refused}"


def test_executives_day_shows_company_figures_not_a_meeting_offer(client, executive, owner, records):
    client.force_login(executive)
    html = client.get("/").content.decode()
    assert 'id="figure-company-pipeline"' in html and "5,000 EUR" in html
    assert "kind=meeting" not in html and 'id="figure-my-pipeline"' not in html
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert 'id="figure-my-pipeline"' in html and 'id="figure-company-pipeline"' not in html
