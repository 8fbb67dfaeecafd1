"""Segments driven as a marketer would, in the system Chromium: build an audience in the form and
watch the live count follow each criterion, save it, and put everyone in it into a campaign."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.tests.factories import ContactFactory
from marketing.models import Segment
from marketing.tests.factories import CampaignFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def count_is(page, expected: str) -> None:
    """The live count after htmx has asked the server (a busy machine may take a few seconds)."""
    expect(page.locator("#segment-count")).to_have_text(expected, timeout=15_000)


def test_build_a_segment_see_its_count_and_fill_a_campaign(page, marketer, owner):
    factory = AccountFactory(owner=owner, name="Berlin Tools", industry="Manufacturing", is_vip=True)
    plant = AccountFactory(owner=owner, name="ООО «Уралмаш»", industry="Manufacturing")
    ContactFactory(owner=owner, first_name="Anna", last_name="Berg", account=factory, email_opt_in=True)
    ContactFactory(owner=owner, first_name="Иван", last_name="Петров", account=plant, email_opt_in=True)
    ContactFactory(owner=owner, first_name="Ольга", last_name="Сидорова", account=plant,
                   email_opted_out_at=timezone.now())
    ContactFactory(owner=owner, first_name="Free", last_name="Agent", account=None)
    CampaignFactory(owner=marketer, name="Autumn mailing", status="active")
    sign_in(page, marketer)

    page.goto("/marketing/")
    page.locator("#overview-segments").click()
    page.locator("#list-create").click()
    page.wait_for_load_state("load")  # htmx listens only once the page has loaded; typing earlier is lost
    count_is(page, "4")  # no criteria yet: everyone
    page.locator("#id_industries").fill("manufacturing")
    count_is(page, "3")
    page.locator("#id_consent").select_option("opted_in")
    count_is(page, "2")
    expect(page.locator("#segment-sample")).to_contain_text("Anna Berg")
    expect(page.locator("#segment-sample")).to_contain_text("Иван Петров")
    page.locator("#id_vip").select_option("yes")
    count_is(page, "1")
    page.locator("#id_vip").select_option("")
    count_is(page, "2")
    page.locator("#id_no_purchase_months").fill("0")  # bad input: no count, nothing saved
    expect(page.locator("#segment-preview")).to_contain_text("Correct the criteria", timeout=15_000)
    page.locator("#id_no_purchase_months").fill("")
    count_is(page, "2")

    page.locator("#id_name").fill("Производство: согласие на рассылку")
    page.locator("#segment-save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Производство: согласие на рассылку")
    count_is(page, "2")
    expect(page.locator("#segment-criteria")).to_contain_text("manufacturing")
    assert Segment.objects.get().criteria == {"industries": ["manufacturing"], "consent": "opted_in"}

    page.locator("#to-campaign").select_option(label="Autumn mailing")
    page.get_by_role("button", name="Add to the campaign").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Autumn mailing")
    expect(page.locator("#members-by-status [data-status=targeted]")).to_have_text("2")
    expect(page.locator("#member-rows")).to_contain_text("Иван Петров")
    assert page.console_errors == [] and page.failed_requests == []


def test_a_custom_field_condition_changes_the_live_count(page, marketer, owner):
    from crm.models import CustomField

    CustomField.objects.create(target="contacts.contact", key="city", label="Город", kind="text",
                               translations={"en": "City"})
    CustomField.objects.create(target="accounts.account", key="staff", label="Сотрудники", kind="number",
                               translations={"en": "Employees"})
    big = AccountFactory(owner=owner, name="ООО «Большой завод»", custom={"staff": "1200"})
    small = AccountFactory(owner=owner, name="Мастерская", custom={"staff": "12"})
    ContactFactory(owner=owner, first_name="Иван", last_name="Петров", account=big, custom={"city": "Москва"})
    ContactFactory(owner=owner, first_name="Анна", last_name="Смирнова", account=small, custom={"city": "москва"})
    ContactFactory(owner=owner, first_name="Олег", last_name="Ким", account=big, custom={"city": "Казань"})
    ContactFactory(owner=owner, first_name="No", last_name="City", account=None)
    sign_in(page, marketer)

    page.goto("/marketing/segments/new/")
    page.wait_for_load_state("load")
    count_is(page, "4")

    def settled(action):  # one live count at a time, as a person picking from lists gets
        with page.expect_response("**/segments/preview/"):
            action()

    settled(lambda: page.locator("#id_cf1_field").select_option(label="City"))
    expect(page.locator("#id_cf1_op option[value=gt]")).to_be_hidden()  # only the text operators are offered
    expect(page.locator("#id_cf1_value")).to_be_hidden()  # until a condition that needs a value is chosen
    settled(lambda: page.locator("#id_cf1_op").select_option("eq"))
    count_is(page, "4")  # a row still being filled in does not count yet
    page.locator("#id_cf1_value").fill("МОСКВА")
    count_is(page, "2")
    settled(lambda: page.locator("#id_cf2_field").select_option(label="Employees"))
    settled(lambda: page.locator("#id_cf2_op").select_option("gt"))
    page.locator("#id_cf2_value").fill("100")
    count_is(page, "1")
    expect(page.locator("#segment-sample")).to_contain_text("Иван Петров")
    page.locator("#id_cf2_value").fill("много")  # not a number: no count, the row says why
    expect(page.locator("#segment-preview")).to_contain_text("Correct the criteria", timeout=15_000)
    page.locator("#id_cf2_value").fill("10")
    count_is(page, "2")

    # typing the name asks for a count too; saving at once aborts it, which is no error (conftest.HTMX_ABORT_LOG)
    page.locator("#id_name").fill("Москва, от 10 сотрудников")
    page.locator("#segment-save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Москва, от 10 сотрудников")
    count_is(page, "2")
    expect(page.locator("#segment-criteria")).to_contain_text("Contact · City")
    expect(page.locator("#segment-criteria")).to_contain_text("Account · Employees")
    assert Segment.objects.get().criteria == {"custom": [
        {"on": "contact", "key": "city", "op": "eq", "value": "МОСКВА"},
        {"on": "account", "key": "staff", "op": "gt", "value": "10"}]}
    assert page.console_errors == [] and page.failed_requests == []
