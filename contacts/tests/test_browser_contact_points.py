"""A Russian rep gives a contact a mobile and a work number, a web address and a postal address, and
downloads the vCard with them (issue 17), in the system Chromium."""

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from contacts.models import Contact
from contacts.tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_a_russian_rep_records_what_each_number_is_for(page, owner):
    owner.language, owner.phone_region = "ru", "RU"
    owner.save(update_fields=["language", "phone_region"])
    contact = ContactFactory(owner=owner, first_name="Ольга", last_name="Смирнова", phones=[], emails=[])
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, owner)
    page.goto(f"/contacts/{contact.pk}/edit/")
    page.get_by_label("Телефоны", exact=True).fill("8 (912) 345-67-89 (мобильный)\n8 495 123-45-67 (раб.)")
    page.get_by_label("Адреса e-mail").fill("olga@firma.ru (рабочий)")
    page.get_by_label("Сайт").fill("https://firma.ru")
    page.get_by_label("Улица, дом").fill("ул. Тверская, д. 7")
    page.get_by_label("Город").fill("Москва")
    page.get_by_label("Почтовый индекс").fill("125009")
    page.get_by_label("Страна").fill("Россия")
    page.get_by_role("button", name="Сохранить").click()

    expect(page.locator("#contact-address")).to_have_text("ул. Тверская, д. 7125009 МоскваРоссия")
    facts = page.locator("#contact-facts")
    expect(facts.get_by_text("мобильный")).to_be_visible()
    expect(facts.get_by_text("рабочий").first).to_be_visible()
    expect(facts.get_by_role("link", name="https://firma.ru")).to_be_visible()
    saved = Contact.objects.get(pk=contact.pk)
    assert saved.phone_kinds == {"+79123456789": "mobile", "+74951234567": "work"}

    card = page.request.get(f"/contacts/export/vcard/?ids={contact.pk}&version=3.0").text()
    assert "TYPE=cell" in card and "TYPE=work" in card and "URL:https://firma.ru" in card
    assert "ADR:;;ул. Тверская\\, д. 7;Москва;;125009;Россия" in card
