"""Shipments on the customers dashboard, driven as people would in the system Chromium: an executive sees the
shipments chart and its table, clicks the late orders of this month and a part of a bar and lands on exactly
those orders; a rep promises a delivery date on the order page."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from reports.pipeline import Period
from reports.tests.test_browser_dashboard import BAR, INK
from reports.tests.test_customer_ranking import order
from sales.models import OrderLine, OrderStatus, Shipment
from sales.tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def shipped_order(account, price, *, promised, shipped_on, product):
    made = order(account, price, on=shipped_on - datetime.timedelta(days=5), status=OrderStatus.SHIPPED)
    made.promised_on = promised
    made.save(update_fields=["promised_on"])
    OrderLine.objects.create(order=made, product=product, name=product.name, unit_price=Decimal(price),
                             line_total=Decimal(price))
    Shipment.objects.create(order=made, shipped_on=shipped_on, carrier="DHL")
    return made


def test_executive_reads_the_shipments_and_clicks_through_to_the_orders(page, executive, owner, outsider):
    today = timezone.localdate()
    month = today.replace(day=1)
    position = month.month - Period.containing("quarter", today).start.month
    machines = ProductFactory(family="Станки", name="Токарный станок")
    ours = AccountFactory(owner=owner, name="ООО «Станкомаш»")
    theirs = AccountFactory(owner=outsider, name="Berlin GmbH")
    kept = shipped_order(ours, "1000.00", promised=today, shipped_on=today, product=machines)
    late = shipped_order(ours, "2500.00", promised=today - datetime.timedelta(days=2), shipped_on=today,
                         product=machines)
    shipped_order(theirs, "400.00", promised=None, shipped_on=today, product=machines)

    sign_in(page, executive)
    page.goto("/reports/customers/")
    section = page.locator("#shipments")
    section.scroll_into_view_if_needed()
    expect(section.get_by_role("heading")).to_contain_text("Shipments in")
    expect(page.locator("#shipments-summary")).to_contain_text("50.0 % on time")
    page.locator("#shipments-chart").scroll_into_view_if_needed()
    assert page.evaluate(INK, "shipments-chart") > 500, "the shipments chart was not drawn"
    family = page.locator('#shipments-families tr[data-row="станки"]')
    expect(family.locator("td").nth(position)).to_have_text("3,900.00")
    row = page.locator(f'#shipments-months tr[data-row="{month.isoformat()}"]')
    expect(row.locator("td").nth(0)).to_have_text("3")
    expect(row.locator("td[data-share]")).to_have_text("50.0 %")

    # The late orders of this month: exactly the one shipped after its promise.
    row.locator('a[href*="punctuality=late"]').click()
    page.wait_for_url("**/sales/orders/?*punctuality=late*")
    rows = page.locator("#order-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(late.number)
    assert kept.number not in page.locator("#order-table").inner_text()
    assert page.console_errors == [] and page.failed_requests == []

    # A click on this month's part of the family's bar opens the three orders it adds up.
    page.go_back()
    page.locator("#shipments-chart").scroll_into_view_if_needed()
    point = page.evaluate(BAR, ["shipments-chart", position])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/sales/orders/?*product_family=*")
    expect(page.locator("#order-table tbody tr")).to_have_count(3)
    expect(page.locator("#order-table")).to_contain_text("Berlin GmbH")
    assert page.console_errors == [] and page.failed_requests == []


def test_a_rep_promises_a_delivery_date_on_the_order_page(page, owner):
    account = AccountFactory(owner=owner, name="ООО «Станкомаш»")
    made = order(account, "100.00", on=timezone.localdate())
    sign_in(page, owner)
    page.goto(f"/sales/orders/{made.pk}/")
    promised = timezone.localdate() + datetime.timedelta(days=14)
    page.get_by_label("Promised delivery date").fill(promised.isoformat())
    page.get_by_role("button", name="Save the promised date").click()
    expect(page.get_by_text("Delivery promised for")).to_be_visible()
    made.refresh_from_db()
    assert made.promised_on == promised and page.console_errors == []
    page.get_by_label("Promised delivery date").fill((made.ordered_on - datetime.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Save the promised date").click()
    expect(page.locator("#promise-form")).to_contain_text("cannot be before the order date")
    made.refresh_from_db()
    assert made.promised_on == promised  # refused: nothing changed
