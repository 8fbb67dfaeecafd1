"""What each number and address is for, the web address and the postal address (issue 17)."""

import pytest
from django.urls import reverse

from contacts.models import Contact
from contacts.tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db]


def edit(client, contact, **fields):
    data = {"first_name": contact.first_name, "last_name": contact.last_name, **fields}
    return client.post(reverse("contacts:edit", args=[contact.pk]), data)


def test_a_russian_rep_types_kinds_in_russian_and_sees_them_on_the_page(client, owner):
    owner.language, owner.phone_region = "ru", "RU"
    owner.save(update_fields=["language", "phone_region"])
    contact = ContactFactory(owner=owner, last_name="Смирнова", first_name="Ольга", phones=[], emails=[])
    client.force_login(owner)
    response = edit(client, contact,
                    phones="8 (912) 345-67-89 (мобильный)\n+7 495 123-45-67 (Рабочий)\n8 495 765 43 21",
                    emails="olga@firma.ru (рабочий)\nolga@mail.ru (home)", website="https://firma.ru",
                    address="ул. Тверская, д. 7", city="Москва", postal_code="125009", country="Россия")
    assert response.status_code == 302, response.context["form"].errors
    contact.refresh_from_db()
    assert contact.phones == ["+79123456789", "+74951234567", "+74957654321"]
    assert contact.phone_kinds == {"+79123456789": "mobile", "+74951234567": "work"}
    assert contact.email_kinds == {"olga@firma.ru": "work", "olga@mail.ru": "home"}
    page = client.get(contact.get_absolute_url()).content.decode()
    assert "мобильный" in page and "рабочий" in page and 'href="https://firma.ru"' in page
    assert '<dd id="contact-address">ул. Тверская, д. 7<br>125009 Москва<br>Россия</dd>' in page
    form = client.get(reverse("contacts:edit", args=[contact.pk])).content.decode()
    assert "+79123456789 (мобильный)" in form and "olga@mail.ru (домашний)" in form  # shown back as typed


def test_an_unknown_kind_is_refused_with_the_kinds_to_use_and_nothing_changes(client, owner):
    contact = ContactFactory(owner=owner, phones=["+442079460000"])
    client.force_login(owner)
    response = edit(client, contact, phones="+44 20 7946 0001 (pager)")
    body = response.content.decode()
    assert response.status_code == 200 and "“pager” is not a kind" in body and "mobile, work, home, fax, other" in body
    contact.refresh_from_db()
    assert contact.phones == ["+442079460000"]


def test_brackets_with_digits_are_part_of_the_number(client, owner):
    owner.phone_region = "RU"
    owner.save(update_fields=["phone_region"])
    contact = ContactFactory(owner=owner)
    client.force_login(owner)
    edit(client, contact, phones="8 (912) 345-67-89")
    contact.refresh_from_db()
    assert contact.phones == ["+79123456789"] and contact.phone_kinds == {}


def test_the_contacts_own_country_reads_a_national_number(client, owner):
    """A UK rep enters a Russian contact: with the contact's country set, 8 (912) … is a Russian number."""
    contact = ContactFactory(owner=owner)
    client.force_login(owner)
    assert edit(client, contact, phones="8 (912) 345-67-89").status_code == 200  # read as a UK number: refused
    assert edit(client, contact, phones="8 (912) 345-67-89", country="Россия").status_code == 302
    contact.refresh_from_db()
    assert contact.phones == ["+79123456789"]


def test_a_script_as_website_is_refused(client, owner):
    contact = ContactFactory(owner=owner)
    client.force_login(owner)
    response = edit(client, contact, website="javascript:alert(1)")
    assert response.status_code == 200 and Contact.objects.get(pk=contact.pk).website == ""
