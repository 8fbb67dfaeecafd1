import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory


def form_data(**overrides):
    data = {"first_name": "Ivan", "middle_name": "Petrovich", "last_name": "Sidorov",
            "emails": "Ivan.Sidorov@Example.com", "phones": "+7 (495) 123-45-67"}
    data.update(overrides)
    return data


def test_create_normalises_phones_and_emails(client, owner):
    client.force_login(owner)
    response = client.post(reverse("contacts:create"), form_data(phones="+7 495 123 45 67\n+7-495-765-43-21"))
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert contact.full_name == "Ivan Petrovich Sidorov"
    assert contact.emails == ["ivan.sidorov@example.com"]
    assert contact.phones[0] == "+74951234567"
    assert contact.owner == owner and contact.team == owner.team


def test_invalid_phone_is_refused_next_to_the_field(client, owner):
    client.force_login(owner)
    response = client.post(reverse("contacts:create"), form_data(phones="12"))
    assert response.status_code == 200
    assert "is not a valid phone number" in response.content.decode()
    assert not Contact.objects.exists()


def test_forged_account_id_is_rejected(client, owner, outsider):
    hidden = AccountFactory(owner=outsider)
    client.force_login(owner)
    response = client.post(reverse("contacts:create"), form_data(account=hidden.pk))
    assert "Select a valid choice" in response.content.decode()
    assert not Contact.objects.exists()


def test_duplicate_phone_in_another_format_warns_before_saving(client, owner, outsider):
    ContactFactory(owner=outsider, first_name="Olga", last_name="Petrova", phones=["+74951234567"], emails=[])
    client.force_login(owner)
    response = client.post(reverse("contacts:create"), form_data(phones="+7(495)123-4567", emails=""))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Possible duplicates" in body
    assert str(outsider) in body  # who owns it
    assert "Petrova" not in body  # but not what the user may not open
    assert Contact.objects.count() == 1

    response = client.post(reverse("contacts:create"), form_data(phones="+7(495)123-4567", emails="",
                                                                   confirm_duplicates="on"))
    assert response.status_code == 302
    assert Contact.objects.count() == 2


def test_duplicate_check_endpoint_names_visible_matches(client, owner):
    ContactFactory(owner=owner, first_name="Anna", last_name="Karenina", emails=["anna@example.com"], phones=[])
    client.force_login(owner)
    response = client.post(reverse("duplicates_check"), {"entity": "contact", "first_name": "Ana",
                                                        "last_name": "Karenina", "emails": "ANNA@example.com"})
    body = response.content.decode()
    assert "Anna Karenina" in body and "same e-mail" in body


def test_consent_dates_follow_the_checkbox(client, owner):
    client.force_login(owner)
    client.post(reverse("contacts:create"), form_data(email_opt_in="on", email_opt_in_source="Web form",
                                                      email_opt_in_wording="Send me news"))
    contact = Contact.objects.get()
    assert contact.email_opt_in_at is not None and contact.email_opted_out_at is None
    client.post(reverse("contacts:edit", args=[contact.pk]), form_data())
    contact.refresh_from_db()
    assert not contact.email_opt_in and contact.email_opted_out_at is not None
    assert "Opted out" in client.get(contact.get_absolute_url()).content.decode()


def test_list_search_by_phone_in_any_format(client, owner):
    ContactFactory(owner=owner, last_name="Findme", phones=["+442079460555"])
    ContactFactory(owner=owner, last_name="Notme", phones=["+442079460556"])
    client.force_login(owner)
    body = client.get(reverse("contacts:list"), {"q": "020 7946 0555"}).content.decode()
    assert "Findme" in body and "Notme" not in body


@pytest.mark.parametrize("rows", [1, 50, 500])
def test_list_query_count_is_constant(client, owner, django_assert_max_num_queries, rows):
    account = AccountFactory(owner=owner)
    ContactFactory.create_batch(rows, owner=owner, account=account)
    client.force_login(owner)
    client.get(reverse("contacts:list"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("contacts:list")).status_code == 200


def test_script_in_notes_is_escaped(client, owner):
    contact = ContactFactory(owner=owner, description="<img src=x onerror=alert(1)>")
    client.force_login(owner)
    body = client.get(contact.get_absolute_url()).content.decode()
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_a_very_common_name_shows_a_bounded_sorted_page(client, owner):
    from contacts.models import Contact
    from crm.pagination import TEXT_MATCH_LIMIT

    Contact.objects.bulk_create(
        Contact(owner=owner, team=owner.team, first_name=f"P{i:05d}", last_name="Smith", full_name=f"P{i:05d} Smith")
        for i in range(TEXT_MATCH_LIMIT + 10))
    ContactFactory(owner=owner, first_name="Zed", last_name="Quixote")
    client.force_login(owner)
    body = client.get(reverse("contacts:list"), {"q": "smith"}).content.decode()
    assert "of 2000+" in body and "narrow the search" in body and "Quixote" not in body
    names = [line for line in body.split("\n") if "Smith</a>" in line]
    assert len(names) == 50
    few = client.get(reverse("contacts:list"), {"q": "Zed"}).content.decode()
    assert "1–1 of 1" in few


def test_contact_form_puts_every_field_in_one_section(client, owner):
    """Custom fields join "More about them"; no field is left out or shown twice."""
    from crm.models import CustomField

    CustomField.objects.create(target="contacts.contact", key="shoe", label="Shoe size")
    client.force_login(owner)
    form = client.get(reverse("contacts:create")).context["form"]
    sections = {key: [bound.name for bound in fields] for key, _title, fields in form.sections()}
    placed = [name for names in sections.values() for name in names]
    assert sorted(placed) == sorted(name for name in form.fields if name != "confirm_duplicates")
    assert sections["person"][:3] == ["first_name", "middle_name", "last_name"]
    assert sections["more"][-1] == "cf_shoe"
    body = client.get(reverse("contacts:create")).content.decode()
    assert 'data-revealed-by="id_email_opt_in"' in body  # the consent details wait for the tick
