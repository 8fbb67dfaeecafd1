"""The experience pieces driven as a person would: record pages hide empty fields until asked, the
calendar sizes meetings by their duration, the targets grid opens on the current period, search
results are walked with the arrow keys, and an executive's day opens on figures."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from activities.models import Activity
from conftest import sign_in
from sales.models import SalesTarget, TargetPeriod
from sales.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_record_page_shows_filled_fields_and_all_on_request(page, owner):
    account = AccountFactory(owner=owner, team=owner.team, name="Acme Corp", phone="+442079460100", tax_number="")
    sign_in(page, owner)
    page.goto(account.get_absolute_url())
    facts = page.locator("#account-facts")
    expect(facts.get_by_text("Phone")).to_be_visible()
    expect(facts.get_by_text("Tax number")).to_be_hidden()
    page.get_by_role("button", name="Show all fields").click()
    expect(facts.get_by_text("Tax number")).to_be_visible()
    page.get_by_role("button", name="Show filled fields only").click()
    expect(facts.get_by_text("Tax number")).to_be_hidden()


@pytest.mark.parametrize("width", [1366, 375])
def test_contact_and_lead_pages_hide_empty_fields_until_asked(page, owner, width):
    from contacts.tests.factories import ContactFactory
    from sales.tests.factories import LeadFactory

    contact = ContactFactory(owner=owner, first_name="Анна", last_name="Петрова", phones=["+74951234567"],
                             birthday=None, address="")
    lead = LeadFactory(owner=owner, first_name="Олег", last_name="Сидоров", phone="", website="")
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, owner)
    Activity.objects.create(kind="call", subject="Звонок", owner=owner, team=owner.team, contact=contact,
                            occurred_at=timezone.now() - timedelta(hours=3))
    page.goto(contact.get_absolute_url())
    expect(page.locator("#figure-last-contact")).to_contain_text("3 hours ago")  # the header's figure
    expect(page.locator("#figure-last-contact")).to_contain_text("Call")
    facts = page.locator("#contact-facts")
    expect(facts.get_by_text("Phones")).to_be_visible()
    expect(facts.get_by_text("+7 495 123-45-67")).to_be_visible()
    expect(facts.get_by_text("Birthday")).to_be_hidden()
    page.get_by_role("button", name="Show all fields").click()
    expect(facts.get_by_text("Birthday")).to_be_visible()
    expect(facts.get_by_text("Address")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.goto(lead.get_absolute_url())
    facts = page.locator("#lead-facts")
    expect(facts.get_by_text("E-mail")).to_be_visible()
    expect(facts.get_by_text("Website")).to_be_hidden()
    page.get_by_role("button", name="Show all fields").click()
    expect(facts.get_by_text("Website")).to_be_visible()
    page.get_by_role("button", name="Show filled fields only").click()
    expect(facts.get_by_text("Website")).to_be_hidden()
    assert not page.console_errors


def test_contact_form_in_sections_on_a_phone(page, owner):
    """The new-contact form reads as sections (person, work, phones and e-mails, address, more, consent,
    owner); the consent details appear only once consent is ticked; it fits a phone and saves."""
    from contacts.models import Contact

    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, owner)
    page.goto("/contacts/new/")
    legends = page.locator("#contact-form legend").all_inner_texts()
    assert [legend.strip().lower() for legend in legends] == [
        "person", "work", "phones and e-mails", "address", "more about them", "marketing consent", "owner and team"]
    expect(page.locator("#section-person #id_last_name")).to_be_visible()
    expect(page.locator("#section-reach #id_phones")).to_be_visible()
    expect(page.locator("#id_email_opt_in_source")).to_be_hidden()
    expect(page.locator("#id_email_opt_in_wording")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.locator("#id_first_name").fill("Мария")
    page.locator("#id_last_name").fill("Кузнецова")
    page.locator("#id_phones").fill("+7 912 345-67-89")
    page.locator("#id_emails").fill("maria@example.ru")
    page.get_by_label("Agreed to marketing e-mail").check()
    expect(page.locator("#id_email_opt_in_source")).to_be_visible()
    page.locator("#id_email_opt_in_source").fill("Выставка, Москва")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Мария Кузнецова")
    contact = Contact.objects.get(last_name="Кузнецова")
    assert contact.email_opt_in and contact.email_opt_in_source == "Выставка, Москва"
    assert not page.console_errors


def test_calendar_meetings_are_as_tall_as_they_last(page, owner):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    starts = timezone.make_aware(timezone.datetime.combine(monday, timezone.datetime.min.time())) + timedelta(hours=9)
    for subject, minutes in (("Short sync", 30), ("Long workshop with the whole buying committee", 120)):
        Activity.objects.create(owner=owner, team=owner.team, kind="meeting", subject=subject, occurred_at=starts,
                                ends_at=starts + timedelta(minutes=minutes))
        starts += timedelta(days=1)
    sign_in(page, owner)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"/calendar/?view=week&date={monday.isoformat()}")
    short = page.locator(".cal-item", has_text="Short sync").bounding_box()
    long = page.locator(".cal-item", has_text="Long workshop").bounding_box()
    assert long["height"] > 3.5 * short["height"]  # two hours against half an hour
    # Its title wraps inside the item instead of being cut to "Long wo…".
    cut = page.locator(".cal-item", has_text="Long workshop").evaluate("item => item.scrollWidth > item.clientWidth")
    assert not cut


def test_targets_grid_opens_on_the_current_month(page, manager, owner):
    today = timezone.localdate()
    SalesTarget.objects.create(user=owner, period=TargetPeriod.MONTH, period_start=today.replace(day=1),
                               amount=Decimal("1000"), set_by=manager)
    sign_in(page, manager)
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto("/sales/targets/")
    current = page.locator("#targets-grid thead th[aria-current='date']")
    expect(current).to_have_count(1)
    wrap = page.locator("#targets-grid").locator("xpath=ancestor::div[contains(@class,'table-wrap')]")
    box, column = wrap.bounding_box(), current.bounding_box()
    assert box["x"] <= column["x"] and column["x"] + column["width"] <= box["x"] + box["width"] + 1


def test_search_results_have_context_and_arrow_keys(page, owner):
    account = AccountFactory(owner=owner, team=owner.team, name="Acme Corp")
    OpportunityFactory(owner=owner, account=account, name="Acme fleet renewal", amount=Decimal("72000"),
                       currency="EUR")
    sign_in(page, owner)
    page.goto("/search/?q=Acme")
    hits = page.locator("main a.search-hit")
    expect(hits.filter(has_text="Acme fleet renewal").locator(".search-hit-context")).to_contain_text("72,000.00 EUR")
    hits.first.focus()
    page.keyboard.press("ArrowDown")
    expect(hits.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(hits.first).to_be_focused()


def test_executive_day_opens_on_company_figures(page, executive, owner):
    OpportunityFactory(owner=owner, amount=Decimal("5000"), expected_close_date=timezone.localdate())
    sign_in(page, executive)
    expect(page.locator("#figure-company-pipeline")).to_contain_text("5,000 EUR")
    expect(page.get_by_role("link", name="Schedule one")).to_have_count(0)
    expect(page.get_by_role("link", name="Log a call")).to_have_count(0)


def test_deactivating_a_user_is_a_quiet_action_that_still_works(page, admin_user, owner):
    """"Deactivate" on every user row is grey (the status badges lead the eye), asks first, and works."""
    sign_in(page, admin_user)
    page.goto("/admin-tools/users/")
    row = page.locator("tr", has_text=owner.email)
    button = row.get_by_role("button", name="Deactivate")
    colour = button.evaluate("b => getComputedStyle(b).color")
    border = button.evaluate("b => getComputedStyle(b).borderTopColor")
    assert colour != "rgb(220, 53, 69)" and border in ("rgba(0, 0, 0, 0)", "transparent"), (colour, border)
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(row).to_contain_text("Deactivated")
    owner.refresh_from_db()
    assert not owner.is_active


def _paste_refused(control) -> bool:
    return control.evaluate("""input => {
        const data = new DataTransfer();
        data.setData("text/plain", "Север");
        const paste = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
        return !input.dispatchEvent(paste);
    }""")


def test_pasting_into_a_chosen_search_select_searches_instead_of_being_refused(page, owner):
    """A search-as-you-type select with a choice made (the deal's account; the deal's product line
    picker) takes a pasted name into its search box; tom-select on its own cancels the paste (and
    Lighthouse counts that against the page)."""
    account = AccountFactory(owner=owner, team=owner.team, name="ООО «Север»")
    deal = OpportunityFactory(owner=owner, team=owner.team, account=account, name="Поставка")
    sign_in(page, owner)
    page.goto(f"/sales/opportunities/{deal.pk}/edit/")
    expect(page.locator("#id_account-ts-control")).to_be_attached()
    assert _paste_refused(page.locator("#id_account-ts-control")) is False
    expect(page.locator("#id_account ~ .ts-wrapper")).not_to_have_class(re.compile("input-hidden"))
    page.goto(f"/sales/opportunities/{deal.pk}/")
    expect(page.locator("#id_line-product-ts-control")).to_be_attached()
    assert _paste_refused(page.locator("#id_line-product-ts-control")) is False
    assert page.console_errors == []
