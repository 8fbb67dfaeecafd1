"""Billing driven as a person would, in the system Chromium: accept a quote, make the order, ship
it, invoice it, download the PDF, record a partial payment and read the account's receivables."""

import datetime
import io
import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from conftest import sign_in
from sales import billing_services
from sales.models import Invoice, InvoiceStatus, Order, OrderStatus, QuoteStatus
from sales.tests.billing_helpers import accepted_quote

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def _quote_pages_installed() -> bool:
    try:
        reverse("sales:quote_accept", args=[1])
    except NoReverseMatch:
        return False
    return True


def test_quote_to_order_to_invoice_to_partial_payment_and_receivables(page, owner):
    sign_in(page, owner)
    if _quote_pages_installed():
        quote = accepted_quote(owner, status=QuoteStatus.SENT)
        page.goto(reverse("sales:quote_detail", args=[quote.pk]))
        page.locator("#accept-quote").click()
        page.locator("#create-order").click()
    else:  # the quote pages are not there: accept it as the service would
        quote = accepted_quote(owner)
        order = billing_services.order_create_from_quote(quote=quote, actor=owner)
        page.goto(order.get_absolute_url())

    order = Order.objects.get(quote=quote)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {order.number}")
    expect(page.locator("#document-total")).to_have_text("516.00 EUR")
    page.locator("#order-to-confirmed").click()
    expect(page.locator("#order-status")).to_have_text("Confirmed")
    page.get_by_label("Carrier").fill("DHL")
    page.get_by_label("Tracking number").fill("JD014600003")
    page.get_by_role("button", name="Record shipment").click()
    expect(page.locator("#order-status")).to_have_text("Shipped")
    expect(page.locator("#order-shipments")).to_contain_text("JD014600003")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED

    page.locator("#create-invoice").click()
    invoice = Invoice.objects.get(order=order)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Invoice {invoice.number}")

    pdf_url = page.locator("#invoice-pdf").get_attribute("href")
    response = page.request.get(pdf_url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert invoice.number in text and "516.00 EUR" in text

    page.get_by_label("Amount").fill("200")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#invoice-balance")).to_have_text("316.00 EUR")
    expect(page.locator("#invoice-status")).to_have_text("Partly paid")
    expect(page.locator("#invoice-payments")).to_contain_text("200.00 EUR")
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PARTLY_PAID

    # Forty-five days later the rest is still unpaid: it sits in the 31–60 bucket.
    Invoice.objects.filter(pk=invoice.pk).update(due_date=timezone.localdate() - datetime.timedelta(days=45))
    page.get_by_role("link", name="Account receivables").click()
    ageing = page.locator("#account-ageing tbody tr")
    expect(ageing).to_have_count(1)
    cells = ageing.first.locator("td")
    expect(cells.nth(0)).to_have_text("316.00 EUR")   # outstanding
    expect(cells.nth(1)).to_have_text("316.00 EUR")   # overdue
    expect(cells.nth(3)).to_have_text("0.00 EUR")     # 0–30
    expect(cells.nth(4)).to_have_text("316.00 EUR")   # 31–60
    expect(page.locator("#open-invoices")).to_contain_text(invoice.number)
    expect(page.locator("#open-invoices")).to_contain_text("45")

    page.get_by_role("link", name=re.compile(quote.account.name)).first.click()
    expect(page.locator("#receivables-card")).to_contain_text("316.00 EUR")
    assert not page.console_errors, page.console_errors


def test_a_phone_order_is_entered_directly_without_a_quote(page, owner):
    from accounts.tests.factories import AccountFactory
    from sales.models import Product
    from sales.tests.test_browser_products import pick

    AccountFactory(owner=owner, name="Ромашка ООО", shipping_address="Москва, ул. Ленина, 1")
    Product.objects.create(sku="PAP-A4", name="Бумага A4", currency="RUB", default_price="450.00", tax_rate="20")
    sign_in(page, owner)
    page.goto(reverse("sales:order_list"))
    page.locator("#new-order").click()
    page.wait_for_load_state("load")
    pick(page, "id_account", "Ромаш", "Ромашка ООО")
    page.locator("#id_currency").fill("RUB")
    pick(page, "id_lines-0-product", "Бумага", "Бумага A4 (PAP-A4)")
    page.locator("#id_lines-0-quantity").fill("10")
    page.locator("#id_lines-1-name").fill("Доставка курьером")
    page.locator("#id_lines-1-unit_price").fill("500")
    page.get_by_role("button", name="Create the order").click()
    expect(page.locator(".toast")).to_contain_text("was created")
    order = Order.objects.get()
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
    assert order.quote is None and order.currency == "RUB" and order.owner == owner
    assert [(line.name, line.unit_price) for line in order.lines.order_by("position")] == [
        ("Бумага A4", 450), ("Доставка курьером", 500)]
    assert order.total == 450 * 10 * 1.2 + 500  # the product's tax, the typed line without
    assert order.shipping_address == "Москва, ул. Ленина, 1"
    # It goes on like any order: an invoice from it
    page.get_by_role("button", name=re.compile("Create invoice")).click()
    expect(page.locator(".toast")).to_contain_text("INV-")
