"""Churn risk on the customers dashboard: the accounts that bought before and not in the last N months, against
a plain Python count over the ranking's stored last purchase, each link listing exactly those accounts, N in
the URL (6 by default, bad values refused), per role."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from reports.customers import months_before
from reports.tests.drill_down import assert_lists_match, figure_links
from reports.tests.test_customers_dashboard import world  # noqa: F401 (the generated purchases, ranked)


def at_risk(reader, months):
    since = months_before(timezone.localdate(), months)
    return [account for account in Account.objects.visible_to(reader).filter(deleted_at__isnull=True)
            if account.last_purchase_on and account.last_purchase_on < since]


def test_months_before():
    assert months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert months_before(datetime.date(2026, 1, 15), 6) == datetime.date(2025, 7, 15)
    assert months_before(datetime.date(2026, 1, 15), -1) == datetime.date(2026, 2, 15)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "manager", "owner"])
@pytest.mark.parametrize("months", [None, 1, 3])
def test_churn_risk_matches_a_plain_count_and_its_links(client, world, request, who, months):  # noqa: F811
    reader = request.getfixturevalue(who)
    client.force_login(reader)
    response = client.get(reverse("reports_customers"), {"months": months} if months else {})
    churn = response.context["dashboard"].churn
    expected = at_risk(reader, months or 6)
    assert churn.months == (months or 6)
    assert churn.accounts == len(expected)
    assert churn.revenue == sum((account.revenue_12m for account in expected), 0)
    if months == 1:
        assert expected, "the generated purchases leave some accounts lapsed"
    found = {url: count for url, count in figure_links(response.content.decode()) if "last_purchase" in url}
    assert (churn.url in found) == bool(expected) or churn.accounts == 0
    assert_lists_match(client, found.items())
    assert sum(count for url, count in found.items() if url != churn.url) == churn.accounts


@pytest.mark.django_db
def test_bad_months_are_refused_and_the_default_kept(client, world, executive):  # noqa: F811
    client.force_login(executive)
    for bad in ("0", "abc", "1000"):
        response = client.get(reverse("reports_customers"), {"months": bad})
        assert response.status_code == 200 and 'id="dashboard-errors"' in response.content.decode()
        assert response.context["dashboard"].churn.months == 6


@pytest.mark.django_db
def test_churn_adds_no_query_per_account(client, world, executive):  # noqa: F811
    client.force_login(executive)
    client.get(reverse("reports_customers"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("reports_customers"), {"months": 2})
    assert len(queries) <= 15
