"""The customer ranking driven as people would, in the system Chromium: an executive reads the customers dashboard
(charts drawn, a click on a bar opens exactly those accounts, the owner filter in the URL), a rep sees the class on
the account page and filters the account list by it, and a marketer builds a segment of the A customers."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from crm.models import Territory
from marketing.models import Segment
from marketing.tests.test_browser_segments import count_is
from reports import ranking
from reports.tests.test_browser_dashboard import BAR, INK
from reports.tests.test_customer_ranking import order
from sales.models import CurrencyRate, Invoice, OrderLine
from sales.tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customers(owner, outsider):
    CurrencyRate.objects.create(currency="RUB", rate=Decimal("0.0105"))
    today = timezone.localdate()
    big = AccountFactory(owner=owner, name="ООО «Северсталь-Сервис»")
    small = AccountFactory(owner=owner, name="ИП Петров")
    theirs = AccountFactory(owner=outsider, name="Berlin GmbH")
    order(big, "9000000.00", "RUB", on=today - datetime.timedelta(days=200))
    ranking.ranking_refresh(now=timezone.now() - datetime.timedelta(days=35))
    order(big, "4500000.00", "RUB", on=today - datetime.timedelta(days=3))
    order(small, "1200.00", on=today - datetime.timedelta(days=2))
    order(theirs, "80000.00", on=today - datetime.timedelta(days=20))
    ranking.ranking_refresh()
    Invoice.objects.create(owner=owner, team=owner.team, account=big, number="СЧ-1", currency="RUB",
                           total=Decimal("1000000.00"), due_date=today - datetime.timedelta(days=45),
                           issue_date=today - datetime.timedelta(days=60))
    return big, small, theirs


def test_executive_reads_the_customers_dashboard_and_clicks_a_bar(page, executive, customers):
    big, _small, theirs = customers
    sign_in(page, executive)
    page.goto("/reports/")
    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    expect(page.locator("#ranking-refreshed")).to_contain_text("refreshed every night")
    expect(page.locator("#currency-note")).to_contain_text("1 RUB = 0.0105 EUR")
    for chart in ("abc-chart", "rfm-chart", "ageing-chart"):
        page.locator(f"#{chart}").scroll_into_view_if_needed()
        assert page.evaluate(INK, chart) > 500, f"{chart} was not drawn"
    expect(page.locator('#abc-table tr[data-row="A"] td').first).to_have_text("2")
    expect(page.locator("#ageing-table").get_by_role("row", name="31–60 days")).to_contain_text("10,500.00")
    expect(page.locator("#clients-table")).to_contain_text("ООО «Северсталь-Сервис»")

    # A click on the A bar opens exactly the A accounts.
    page.locator("#abc-chart").scroll_into_view_if_needed()
    position = page.evaluate(BAR, ["abc-chart", 0])
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url("**/accounts/?*abc_class=A*")
    rows = page.locator("#account-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#account-table")).to_contain_text("Berlin GmbH")
    assert page.console_errors == [] and page.failed_requests == []

    # The owner filter goes into the URL and the figures follow it.
    page.go_back()
    page.get_by_label("Owner").select_option(str(big.owner_id))
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/reports/customers/?owner={big.owner_id}&months=*")
    expect(page.locator('#abc-table tr[data-row="A"] td').first).to_have_text("1")
    expect(page.locator("#figure-buyers")).to_have_text("2")
    assert page.console_errors == [] and page.failed_requests == []


SEGMENT = """([id, dataset, index]) => {
  const chart = Chart.getChart(id);
  const bar = chart.getDatasetMeta(dataset).data[index];
  const box = chart.canvas.getBoundingClientRect();
  return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
}"""


def test_executive_reads_purchases_by_month_region_and_family(page, executive, owner, outsider, customers):
    """The stacked bar's direct-orders part of this month opens exactly those orders; a family's count opens
    the orders with a line of that family; the period picker goes into the URL."""
    big, small, theirs = customers
    today = timezone.localdate()
    volga = Territory.objects.create(name="Поволжье")
    big.territory = volga
    big.save(update_fields=["territory"])
    lathe = ProductFactory(family="Станки", name="Токарный станок")
    for account, total in ((big, "250000.00"), (theirs, "1500.00")):
        made = order(account, total, on=today)
        OrderLine.objects.create(order=made, product=lathe, name=lathe.name, quantity=Decimal(2),
                                 unit_price=Decimal(total) / 2)
    sign_in(page, executive)
    page.goto("/reports/customers/?period=quarter")
    chart = page.locator("#purchases-chart")
    chart.scroll_into_view_if_needed()
    assert page.evaluate(INK, "purchases-chart") > 500, "the purchases chart was not drawn"
    month = (today.month - 1) % 3
    this_month = page.locator("#purchases-months tbody tr").nth(month)
    direct = this_month.locator("td").nth(1)
    expected = int(direct.inner_text())
    assert expected >= 2
    expect(page.locator("#purchases-regions")).to_contain_text("Поволжье")
    family = page.locator('#purchases-families tr[data-row="станки"]')
    expect(family.locator("td").nth(1)).to_have_text("2")

    # A click on the direct orders part of this month's bar opens exactly those orders.
    position = page.evaluate(SEGMENT, ["purchases-chart", 1, month])
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url("**/orders/?*purchase=true*")
    expect(page.locator("#order-table tbody tr")).to_have_count(expected)
    assert page.console_errors == [] and page.failed_requests == []

    # The family's count opens the two orders with a lathe on them.
    page.go_back()
    page.locator('#purchases-families tr[data-row="станки"] td').nth(1).get_by_role("link").click()
    page.wait_for_url("**/orders/?*product_family=*")
    expect(page.locator("#order-table tbody tr")).to_have_count(2)
    expect(page.locator("#order-table")).to_contain_text("Berlin GmbH")

    # The period picker goes into the URL: last year has no purchases of these.
    page.go_back()
    page.get_by_label("Period", exact=True).select_option("year")
    page.get_by_label("Any day in the period").fill(f"{today.year - 1}-06-01")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/reports/customers/?*period=year*")
    expect(page.locator("#purchases-heading")).to_contain_text(str(today.year - 1))
    assert page.console_errors == [] and page.failed_requests == []


def test_rep_sees_the_class_on_the_account_and_filters_the_list(page, owner, customers):
    big, small, _theirs = customers
    sign_in(page, owner)
    page.goto(big.get_absolute_url())
    badges = page.locator("#account-ranking")
    expect(badges).to_contain_text("A")
    badges.get_by_role("link").first.click()
    page.wait_for_url("**/accounts/?abc_class=A")
    expect(page.locator("#account-table tbody tr")).to_have_count(1)
    expect(page.locator("#account-table")).to_contain_text("ООО «Северсталь-Сервис»")
    expect(page.locator("#account-table")).not_to_contain_text("Berlin GmbH")
    assert page.console_errors == [] and page.failed_requests == []


def test_marketer_builds_a_segment_of_a_customers(page, marketer, owner, customers):
    big, small, _theirs = customers
    ContactFactory(owner=owner, account=big, first_name="Анна", last_name="Смирнова")
    ContactFactory(owner=owner, account=small, first_name="Пётр", last_name="Петров")
    sign_in(page, marketer)
    page.goto("/marketing/segments/new/")
    page.wait_for_load_state("load")  # htmx listens only once the page has loaded
    count_is(page, "2")
    page.locator("#id_abc_classes_0").check()  # A
    count_is(page, "1")
    expect(page.locator("#segment-sample")).to_contain_text("Анна Смирнова")
    page.locator("#id_name").fill("Клиенты класса A")
    page.locator("#segment-save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Клиенты класса A")
    expect(page.locator("#segment-criteria")).to_contain_text("A: the top 80 percent of revenue")
    assert Segment.objects.get().criteria == {"abc_classes": ["A"]}
    assert page.console_errors == [] and page.failed_requests == []
