"""/api/contacts/ (contacts/api.py): CRUD through the services (phones, e-mails, consent), the
account a contact keeps, and the filters. The visibility matrix over every API model is in
crm/tests/test_api.py."""

import pytest

from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.tests.api_helpers import api_for

pytestmark = pytest.mark.django_db


def test_contact_crud_normalises_phones_and_records_consent(owner):
    api = api_for(owner)
    account = AccountFactory(owner=owner)
    response = api.post("/api/contacts/", {
        "first_name": "Ada", "last_name": "Lovelace", "account": account.pk,
        "phones": ["020 7946 0123", "+44 (20) 7946-0123", "0044 20 7946 0999"],
        "emails": ["Ada@Example.com", "ada@example.com"], "email_opt_in": True,
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["phones"] == ["+442079460123", "+442079460999"]
    assert body["emails"] == ["ada@example.com"]
    assert body["full_name"] == "Ada Lovelace"
    assert body["email_opt_in_at"] is not None  # the service stamps the consent

    contact_id = body["id"]
    response = api.patch(f"/api/contacts/{contact_id}/", {"email_opt_in": False}, format="json")
    assert response.json()["email_opted_out_at"] is not None
    response = api.patch(f"/api/contacts/{contact_id}/", {"phones": ["+44 20 7946 0123", "not a phone"]},
                         format="json")
    assert response.status_code == 400
    assert "not a phone" in str(response.json()["phones"])
    assert Contact.objects.get(pk=contact_id).phones == ["+442079460123", "+442079460999"]

    assert api.delete(f"/api/contacts/{contact_id}/").status_code == 204
    assert Contact.objects.get(pk=contact_id).deleted_at is not None


def test_a_contact_keeps_its_hidden_account_on_save(owner, outsider):
    contact = ContactFactory(owner=owner, account=AccountFactory(owner=outsider))
    api = api_for(owner)
    response = api.patch(f"/api/contacts/{contact.pk}/", {"account": contact.account_id, "title": "CFO"},
                         format="json")
    assert response.status_code == 200, response.content
    other_hidden = AccountFactory(owner=outsider)
    assert api.patch(f"/api/contacts/{contact.pk}/", {"account": other_hidden.pk}, format="json").status_code == 400


def test_filters(owner):
    api = api_for(owner)
    customer = AccountFactory(owner=owner, name="Umbrella", type="customer", phone="+44 20 7946 0555")

    def ids(url):
        response = api.get(url)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    contact = ContactFactory(owner=owner, account=customer, phones=["+442079460777"])
    assert ids("/api/contacts/?q=(020) 7946-0777") == [contact.pk]
    assert ids(f"/api/contacts/?account={customer.pk}") == [contact.pk]
