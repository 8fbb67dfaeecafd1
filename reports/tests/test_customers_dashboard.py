"""The customers dashboard (/reports/customers/): each figure against an independent computation, every link
lists exactly the records its figure counts, visibility per role, the owner filter, bad input, the reader's
language and a constant number of queries."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from reports import ranking
from reports.tests.drill_down import assert_lists_match, figure_links
from reports.tests.test_customer_ranking import RATES, generate, order
from sales.models import CurrencyRate, Invoice, InvoiceStatus
from sales.tests.factories import PipelineFactory


@pytest.fixture
def world(db, owner, teammate, outsider):
    for currency, rate in RATES.items():
        CurrencyRate.objects.create(currency=currency, rate=rate)
    pipeline = PipelineFactory(name="Продажи")
    today = timezone.localdate()
    accounts = generate(pipeline, [owner, teammate, outsider], today, accounts=24)
    ranking.ranking_refresh(now=timezone.now() - datetime.timedelta(days=40))  # last month's ranking…
    generate(pipeline, [owner, teammate, outsider], today, seed=8, accounts=6)
    ranking.ranking_refresh()  # …and this month's, after more purchases
    for number, account in enumerate(accounts[:12]):
        due = today + datetime.timedelta(days=20 - number * 17)
        invoice = Invoice.objects.create(owner=account.owner, team=account.team, account=account,
                                         number=f"INV-{number}", currency=["EUR", "RUB", "UAH", "USD"][number % 4],
                                         total=Decimal(1000 + number * 250), due_date=due,
                                         issue_date=due - datetime.timedelta(days=14))
        if number % 3 == 0:
            Invoice.objects.filter(pk=invoice.pk).update(amount_paid=Decimal(200), status=InvoiceStatus.PARTLY_PAID)
    return accounts


def links(response) -> list[tuple[str, int]]:
    return figure_links(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["executive", "manager", "owner"])
def test_every_link_lists_exactly_what_its_figure_counts(client, world, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(reverse("reports_customers"))
    assert response.status_code == 200
    found = links(response)
    assert len(found) > 10
    assert_lists_match(client, found)


@pytest.mark.django_db
def test_figures_match_an_independent_computation(client, world, manager):
    client.force_login(manager)
    dashboard = client.get(reverse("reports_customers")).context["dashboard"]
    visible = Account.objects.visible_to(manager)
    for row in dashboard.abc:
        assert row.count == sum(1 for account in visible if account.abc_class == row.key)
        assert row.previous == sum(1 for account in visible if account.abc_previous == row.key)
        assert row.revenue == sum((a.revenue_12m for a in visible if a.abc_class == row.key), Decimal(0))
    buyers = [account for account in visible if account.purchases_12m >= 1]
    repeat = [account for account in buyers if account.purchases_12m >= 2]
    assert dashboard.repeat_rate == (Decimal(len(repeat) * 100) / len(buyers)).quantize(Decimal("0.1"))
    assert sum(count for (_b, _n), (count, _u) in dashboard.rfm_movement.cells.items()) == visible.count()
    today = timezone.localdate()
    owed = Decimal(0)
    overdue = Decimal(0)
    for invoice in Invoice.objects.visible_to(manager).filter(status__in=["issued", "partly_paid"]):
        if invoice.currency not in ("EUR", *RATES):
            continue
        balance = (invoice.total - invoice.amount_paid) * RATES.get(invoice.currency, Decimal(1))
        owed += balance
        overdue += balance if invoice.due_date < today else 0
    receivables = dashboard.receivables
    assert receivables.outstanding == owed.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert receivables.overdue == overdue.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert sum(bucket.amount for bucket in receivables.ageing) == receivables.outstanding
    assert receivables.unconverted == Invoice.objects.visible_to(manager).filter(currency="USD").count() > 0


@pytest.mark.django_db
def test_a_rep_sees_only_their_accounts_and_the_owner_filter_narrows(client, world, owner, executive):
    client.force_login(owner)
    mine = client.get(reverse("reports_customers")).context["dashboard"]
    assert sum(row.count for row in mine.abc) == Account.objects.filter(owner=owner).count()
    client.force_login(executive)
    everyone = client.get(reverse("reports_customers")).context["dashboard"]
    narrowed = client.get(reverse("reports_customers"), {"owner": owner.pk})
    assert sum(row.count for row in narrowed.context["dashboard"].abc) == sum(row.count for row in mine.abc)
    assert sum(row.count for row in everyone.abc) == Account.objects.count()
    assert all(f"owner={owner.pk}" in url for url, _count in links(narrowed))


@pytest.mark.django_db
def test_a_hidden_owner_is_refused_with_a_message(client, world, owner, outsider):
    client.force_login(owner)
    response = client.get(reverse("reports_customers"), {"owner": outsider.pk})
    assert response.status_code == 200 and 'id="dashboard-errors"' in response.content.decode()
    assert sum(row.count for row in response.context["dashboard"].abc) == Account.objects.filter(owner=owner).count()


@pytest.mark.django_db
def test_roles_that_read_no_sales_data_get_404(client, support_agent, marketer):
    for user in (support_agent, marketer):
        client.force_login(user)
        assert client.get(reverse("reports_customers")).status_code == 404


@pytest.mark.django_db
def test_constant_number_of_queries(client, world, executive, owner):
    client.force_login(executive)
    client.get(reverse("reports_customers"))
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("reports_customers"))
    for number in range(40):
        order(AccountFactory(owner=owner, name=f"Ещё {number}"), "500", on=timezone.localdate())
    ranking.ranking_refresh()
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("reports_customers"))
    assert len(large) == len(small) <= 15


@pytest.mark.django_db
def test_in_russian(client, world, executive):
    executive.language = "ru"
    executive.save(update_fields=["language"])
    client.force_login(executive)
    page = client.get(reverse("reports_customers")).content.decode()
    assert "Повторные покупки" in page and "Чемпионы" in page
    assert re.search(r"\d[\s\xa0\u202f]\d{3},\d{2}", page)  # 12 345,67
