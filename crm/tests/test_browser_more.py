"""More capabilities driven in Chromium: vCard round trip, saved views and bulk tags,
custom fields, data-subject erasure, profile language, password change."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import CustomField

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_vcard_export_then_import(page, owner, tmp_path):
    ContactFactory(owner=owner, first_name="Vera", last_name="Card", emails=["vera@example.com"])
    sign_in(page, owner)
    page.goto("/contacts/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export this page (vCard)").click()
    exported = download_info.value.path().read_text(encoding="utf-8")
    assert "FN:Vera Card" in exported
    Contact.objects.all().delete()

    card = tmp_path / "vera.vcf"
    card.write_text(exported.replace("Vera", "Vesna"), encoding="utf-8")
    page.goto("/contacts/import/vcard/")
    page.locator("#vcard-import-form input[type=file]").set_input_files(str(card))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#vcard-created")).to_have_text("1")
    assert Contact.objects.get().full_name == "Vesna Card"


def test_save_a_view_and_tag_ticked_accounts(page, owner):
    AccountFactory(owner=owner, name="Steel One", type="partner")
    AccountFactory(owner=owner, name="Food Two", type="customer")
    sign_in(page, owner)
    page.goto("/accounts/?type=partner")
    page.locator("#view-name").fill("Partners")
    page.get_by_role("button", name="Save view").click()
    page.goto("/accounts/")
    page.locator("#views-menu").click()
    page.get_by_role("link", name="Partners").click()
    expect(page.locator("#account-table")).to_contain_text("Steel One")
    expect(page.locator("#account-table")).not_to_contain_text("Food Two")

    page.get_by_label("Tick all on this page").check()
    page.locator("#bulk-action").select_option("add_tag")
    page.locator("#bulk-tag").fill("fair-2026")
    page.get_by_role("button", name="Apply").last.click()
    expect(page.locator(".toast")).to_contain_text("1 account changed")
    assert Account.objects.get(name="Steel One").tags == ["fair-2026"]


def test_admin_adds_a_custom_field_a_rep_fills_it(page, admin_user, owner):
    sign_in(page, admin_user)
    page.goto("/admin-tools/custom-fields/")
    page.get_by_label("For").select_option("accounts.account")
    page.locator("#id_label").fill("Fleet size")
    page.get_by_label("Key").fill("fleet")
    page.get_by_label("Kind").select_option("number")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("table")).to_contain_text("Fleet size")
    assert CustomField.objects.filter(key="fleet").exists()

    page.context.clear_cookies()
    sign_in(page, owner)
    page.goto("/accounts/new/")
    page.locator("#id_name").fill("Truckers Ltd")
    page.locator("#id_cf_fleet").fill("42")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Truckers Ltd")
    expect(page.locator("dl.facts")).to_contain_text("Fleet size")
    expect(page.locator("dl.facts")).to_contain_text("42")


def test_admin_erases_a_contacts_personal_data(page, admin_user, owner):
    contact = ContactFactory(owner=owner, first_name="Greta", last_name="Lind")
    sign_in(page, admin_user)
    page.goto(contact.get_absolute_url())
    page.get_by_role("link", name="Erase personal data").click()
    page.get_by_label(f"Type {contact.pk} to confirm").fill(str(contact.pk))
    page.get_by_role("button", name="Erase").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Erased contact #{contact.pk}")
    expect(page.locator("#consent")).to_contain_text("Do not call")


def test_profile_language_and_password_change(page, owner):
    sign_in(page, owner)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="My profile").click()
    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("nav.app-navbar")).to_contain_text("Контакты")

    page.goto("/auth/password/change/")
    page.locator("#id_old_password").fill("secret-pass-123")
    page.locator("#id_new_password1").fill("a-brand-new-pass-2026")
    page.locator("#id_new_password2").fill("a-brand-new-pass-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/password/change/done/")
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-pass-2026")
