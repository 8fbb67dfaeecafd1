"""The product catalogue driven as a sales manager would, in the system Chromium: a product with a
datasheet and a price book entry, then the product on a deal through the picker, and its total."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from sales.models import OpportunityLine, PriceBookEntry, Product, ProductDocument
from sales.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pick(page, select_id: str, search: str, option_text: str) -> None:
    """Choose in a tom-select: type into its control, click the option the server answered."""
    page.locator(f"#{select_id}-ts-control").fill(search)
    option = page.locator(f"#{select_id}-ts-dropdown .option", has_text=option_text).first
    expect(option).to_be_visible()
    option.hover()
    page.keyboard.press("Enter")
    expect(page.locator(f"#{select_id}").locator("xpath=..").locator(".ts-control .item")).to_have_text(option_text)


def test_product_with_datasheet_and_price_becomes_a_deal_line(page, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    account = AccountFactory(owner=manager, name="Acme Ltd")
    deal = OpportunityFactory(owner=manager, account=account, name="Acme rollout", amount=Decimal("1000.00"))
    sign_in(page, manager)

    # The product.
    page.goto("/sales/products/")
    page.locator("#new-product").click()
    page.locator("#id_sku").fill("WID-100")
    page.locator("#id_name").fill("Widget Pro")
    page.locator("#id_family").fill("Hardware")
    page.locator("#id_unit").fill("box")
    page.locator("#id_default_price").fill("100.00")
    page.locator("#id_tax_rate").fill("20")
    page.locator("#id_description").fill("A sturdy widget.\nShips in boxes of ten.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Widget Pro")
    expect(page.locator("#default-price")).to_have_text("100.00 EUR")

    # A datasheet, and a refused fake one.
    page.locator("#id_title").fill("Datasheet")
    page.locator("#id_file").set_input_files({"name": "widget.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.locator("#upload-document").click()
    expect(page.locator("#product-documents")).to_contain_text("Datasheet")
    page.locator("#id_file").set_input_files({"name": "fake.pdf", "mimeType": "application/pdf",
                                              "buffer": b"<html>not a pdf</html>"})
    page.locator("#upload-document").click()
    expect(page.locator("#document-upload-form")).to_contain_text("is not really a PDF file")
    assert ProductDocument.objects.get().title == "Datasheet"
    with page.expect_download() as download:
        page.get_by_role("link", name="Datasheet").click()
    assert download.value.suggested_filename == "widget.pdf"

    # A standard price book with the product at a lower price.
    page.goto("/sales/price-books/")
    page.locator("#new-price-book").click()
    page.locator("#id_name").fill("Standard 2026")
    page.locator("#id_currency").fill("EUR")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Standard 2026")
    pick(page, "id_product", "WID", "Widget Pro (WID-100)")
    page.locator("#id_unit_price").fill("80.00")
    page.locator("#add-entry").click()
    expect(page.locator("#entry-table")).to_contain_text("Widget Pro")
    assert PriceBookEntry.objects.get().unit_price == Decimal("80.00")
    page.goto(Product.objects.get().get_absolute_url())
    expect(page.locator("#product-prices")).to_contain_text("80.00 EUR")

    # On the deal: the picker fills the price from the price book; the line and its total appear.
    page.goto(deal.get_absolute_url())
    lines = page.locator("#opportunity-lines-card")
    expect(lines).to_contain_text("No products on this deal yet")
    expect(page.locator("#id_line-price_book")).to_have_value(str(PriceBookEntry.objects.get().price_book_id))
    pick(page, "id_line-product", "widget", "Widget Pro (WID-100)")
    expect(page.locator("#id_line-unit_price")).to_have_value("80.00")
    expect(page.locator("#id_line-tax_rate")).to_have_value("20.00")
    page.locator("#id_line-quantity").fill("3")
    page.locator("#add-line").click()
    expect(lines.locator(".lines-notice")).to_contain_text("Widget Pro was added.")
    expect(lines.locator(".line-total")).to_have_text("240.00 EUR")
    expect(page.locator("#opportunity-lines-total")).to_have_text("288.00 EUR")  # 3 × 80 + 20 % tax
    line = OpportunityLine.objects.get(opportunity=deal)
    assert (line.unit, line.unit_price, line.quantity) == ("box", Decimal("80.00"), 3)

    # The lines' net total (before tax) becomes the deal amount.
    expect(page.locator("#opportunity-lines-net")).to_have_text("240.00 EUR")
    page.locator("#use-lines-total").click()
    expect(lines).to_contain_text("The deal amount is the lines' net total.")
    deal.refresh_from_db()
    assert deal.amount == Decimal("240.00")
    expect(page.locator("#toasts")).to_contain_text("The deal amount is now 240.00 EUR.")
    assert not page.console_errors, page.console_errors
    assert not page.failed_requests, page.failed_requests
