"""Merging duplicates, driven as a person would, in the system Chromium."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities.models import Activity, ActivityKind
from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def duplicates(owner):
    primary = ContactFactory(owner=owner, first_name="Maria", last_name="Keller", title="Buyer",
                             emails=["maria@keller.example"], phones=["+442079460101"])
    other = ContactFactory(owner=owner, first_name="Maria", last_name="Kelller", title="Head of Purchasing",
                           emails=["m.keller@keller.example"], phones=["+442079460102"])
    for contact, subject in ((primary, "Call about the price list"), (other, "Meeting at the trade fair")):
        Activity.objects.create(owner=owner, team=owner.team, kind=ActivityKind.CALL, subject=subject,
                                contact=contact)
    return primary, other


def test_merge_two_duplicates_choosing_a_value_from_the_second(page, owner):
    primary, other = duplicates(owner)
    sign_in(page, owner)
    page.goto(f"/contacts/{primary.pk}/merge/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge duplicates into Maria Keller")
    expect(page.locator("#merge-candidates")).to_contain_text("Maria Kelller")  # offered by duplicate detection

    # Search-as-you-type: pick the duplicate with the keyboard.
    page.get_by_role("combobox", name="Other contacts to merge").fill("Kelller")
    option = page.locator(".ts-dropdown .option", has_text="Maria Kelller")
    expect(option).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator(".ts-control .item", has_text="Maria Kelller")).to_be_visible()
    page.get_by_role("button", name="Compare").click()

    table = page.get_by_role("table", name="One column per record")
    expect(table).to_be_visible()
    expect(page.get_by_label("All combined (e-mails)")).to_be_checked()
    expect(page.get_by_label("Buyer — job title, Maria Keller")).to_be_checked()
    page.get_by_label("Head of Purchasing — job title, Maria Kelller").check()
    page.get_by_role("button", name="Merge 1 record into Maria Keller").click()

    page.wait_for_url(f"**/contacts/{primary.pk}/")
    expect(page.locator(".toast")).to_contain_text("1 record was merged into Maria Keller")
    expect(page.get_by_role("heading", level=1)).to_have_text("Maria Keller")
    expect(page.get_by_text("Head of Purchasing").first).to_be_visible()
    timeline = page.locator("#timeline-items")
    expect(timeline).to_contain_text("Call about the price list")
    expect(timeline).to_contain_text("Meeting at the trade fair")
    expect(page.locator("#history")).to_contain_text("merged with Maria Kelller")
    expect(page.get_by_role("link", name="m.keller@keller.example")).to_be_visible()  # e-mails combined
    assert page.console_errors == [], page.failed_requests  # no CSP violation, no script error
    assert page.goto(f"/contacts/{other.pk}/").status == 404


def test_compare_screen_works_at_phone_width_with_the_keyboard(page, owner):
    primary, other = duplicates(owner)
    Contact.objects.filter(pk=other.pk).update(email_opt_in=True, email_opt_in_at=timezone.now())
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, owner)
    page.goto(f"/contacts/{primary.pk}/merge/?ids={other.pk}")
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > 376 && !e.closest('.table-responsive'))
        .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, wide

    # "Use all its values" picks the second record in every row but consent, which stays explicit.
    page.get_by_role("button", name="Use all its values (Maria Kelller)").click()
    expect(page.get_by_label("Head of Purchasing — job title, Maria Kelller")).to_be_checked()
    # Consent is only ever chosen one by one: the safe default (no consent) stays.
    expect(page.locator(f"#choice_email_opt_in_{primary.pk}")).to_be_checked()

    title = page.get_by_label("Buyer — job title, Maria Keller")
    title.focus()
    page.keyboard.press("Space")
    expect(title).to_be_checked()
    page.get_by_role("button", name="Merge 1 record into Maria Keller").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/contacts/{primary.pk}/")
    expect(page.get_by_text("Buyer").first).to_be_visible()
    expect(page.locator("#consent")).to_contain_text("No consent to marketing e-mail recorded.")
    assert page.console_errors == [], page.failed_requests
