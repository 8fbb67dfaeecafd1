"""The list component in Chromium: the one-line filter bar (drawer, chip, removal) on a desktop,
cards on a phone."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_filter_from_the_drawer_then_remove_its_chip(page, owner):
    AccountFactory(owner=owner, name="Key Steel", tier="key")
    AccountFactory(owner=owner, name="Small Food", tier="small")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, owner)
    page.goto("/accounts/")
    page.locator("#more-filters").click()
    drawer = page.locator("#filter-drawer")
    expect(drawer).to_be_visible()
    drawer.get_by_label("Tier").select_option("key")
    drawer.get_by_role("button", name="Show results").click()
    chip = page.locator('#filter-chips [data-filter="tier"]')
    expect(chip).to_contain_text("Tier: Key")
    expect(page.locator("#account-table")).to_contain_text("Key Steel")
    expect(page.locator("#account-table")).not_to_contain_text("Small Food")
    assert "tier=key" in page.url  # the URL holds the filters
    expect(page.locator(".offcanvas-backdrop")).to_have_count(0)

    chip.get_by_role("link").click()
    expect(page.locator("#filter-chips")).to_have_count(0)
    expect(page.locator("#account-table")).to_contain_text("Small Food")
    assert "tier=key" not in page.url
    # The header stays put while the table scrolls with the page: one scrollbar.
    assert page.evaluate("getComputedStyle(document.querySelector('#account-table thead th')).position") == "sticky"
    assert not page.console_errors


def test_rows_are_cards_on_a_phone(page, owner):
    for index in range(3):
        AccountFactory(owner=owner, name=f"Phone Co {index}", type="customer")
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, owner)
    page.goto("/accounts/")
    first = page.locator("#account-table tbody tr").first
    expect(first).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('#account-table tbody tr')).display") == "grid"
    expect(page.locator("#account-table thead")).to_be_hidden()
    expect(first.locator(".card-title")).to_contain_text("Phone Co")
    expect(first.locator(".card-owner")).to_be_visible()
    for cell in first.locator(".card-none").all():  # the phone and ranking columns stay on desktop
        expect(cell).to_be_hidden()
    assert first.locator(".card-none").count() >= 1
    box = first.bounding_box()
    assert box["y"] + box["height"] < 740, box  # the filter bar does not push the rows below the fold
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone


LIST_URLS = ["/accounts/", "/contacts/", "/sales/leads/", "/sales/leads/queue/", "/sales/opportunities/",
             "/sales/quotes/", "/sales/orders/", "/sales/invoices/", "/sales/products/"]


def test_every_list_fits_a_phone(page, manager):
    """The filter bar scrolls inside itself; nothing on any list (a hidden label, a wide select)
    may widen the page. The leads list once did, by 75 px."""
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, manager)
    for url in LIST_URLS:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, url


def test_money_totals_on_a_desktop_and_a_phone(page, owner):
    """A seller reads the sum of the deals the filters match; on a phone the total is one card with one
    figure (an invoice list's total and balance once printed on top of each other)."""
    from decimal import Decimal

    from sales.tests.billing_helpers import invoice_for
    from sales.tests.factories import OpportunityFactory, PipelineFactory

    pipeline = PipelineFactory(is_default=True)
    for _index in range(52):
        OpportunityFactory(owner=owner, pipeline=pipeline, amount=Decimal("125000.50"), currency="RUB")
    invoice_for(owner)
    invoice_for(owner)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, owner)
    page.goto("/sales/opportunities/")
    footer = page.locator("#list-totals")
    expect(footer.locator("tr").first).to_contain_text("Total, all pages")
    expect(footer.locator("tr").first).to_contain_text("6,500,026.00 RUB")  # 52 deals, two pages
    expect(footer.locator("tr").nth(1)).to_contain_text("Total on this page")
    expect(footer.locator("tr").nth(1)).to_contain_text("6,250,025.00 RUB")  # the 50 shown
    expect(page.locator("#opportunity-table thead")).to_be_visible()
    # The header stays at the window's top while the page (not the table's box) scrolls.
    page.mouse.wheel(0, 1500)
    expect(page.locator("#opportunity-table thead th").first).to_be_in_viewport()
    assert page.evaluate("document.querySelector('.list-wrap').scrollHeight "
                         "<= document.querySelector('.list-wrap').clientHeight")

    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/sales/invoices/")
    total = page.locator("#list-totals tr")
    expect(total).to_have_count(1)
    expect(total).to_contain_text("Total")
    amounts = total.locator("td").filter(has_text="EUR")
    shown = [cell for cell in amounts.all() if cell.is_visible()]
    assert len(shown) == 1, "one figure on the phone's total card"
    label_box = total.locator(".card-title").bounding_box()
    amount_box = shown[0].bounding_box()
    assert label_box["x"] + label_box["width"] <= amount_box["x"]  # side by side, not on top of each other
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(page.locator("nav[aria-label='Pages'] .pagination")).to_have_count(0)  # one page: no page buttons
    assert not page.console_errors


def test_a_long_table_scrolls_with_the_page_not_in_its_own_box(page, owner):
    """An invoice with forty lines: the lines table grows with the page (one scrollbar), it does not
    become a box with a scrollbar of its own."""
    from sales.tests.billing_helpers import invoice_for

    invoice = invoice_for(owner, lines=[(f"Позиция {index}", "1", "100.00", "0", "20") for index in range(40)])
    page.set_viewport_size({"width": 1366, "height": 700})
    sign_in(page, owner)
    page.goto(invoice.get_absolute_url())
    wrap = page.locator(".table-wrap").first
    expect(wrap).to_contain_text("Позиция 39")
    assert wrap.evaluate("box => box.scrollHeight <= box.clientHeight + 1"), "the table scrolls inside its box"
    assert page.evaluate("document.documentElement.scrollHeight > window.innerHeight")  # the page scrolls instead


@pytest.mark.parametrize("url", ["/accounts/", "/sales/opportunities/"])
def test_more_filters_is_in_sight_on_a_phone(page, manager, url):
    """The filter strip scrolls sideways on a phone; its "More filters" button comes right after the
    search box, inside the screen, and opens the drawer."""
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, manager)
    page.goto(url)
    button = page.locator("#more-filters")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    button.click()
    expect(page.locator("#filter-drawer")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not page.console_errors
