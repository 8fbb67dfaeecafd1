from django.urls import reverse

from accounts.duplicates import account_duplicates
from accounts.models import Account
from accounts.tests.factories import AccountFactory


def test_account_matches_by_tax_number_phone_and_similar_name(owner, outsider):
    theirs = AccountFactory(owner=outsider, name="Globex Corporation", tax_number="DE123456789",
                            phone="+49 30 1234567")
    by_tax = account_duplicates(user=owner, tax_number="DE123456789")
    assert [m.pk for m in by_tax] == [theirs.pk] and by_tax[0].hidden and by_tax[0].owner == str(outsider)
    assert account_duplicates(user=owner, phone_e164="+49301234567")[0].reasons == ["same phone"]
    similar = account_duplicates(user=owner, name="Globex Corp")
    assert similar and "similar name" in similar[0].reasons
    assert account_duplicates(user=owner, name="Initech") == []


def test_account_form_warns_and_then_saves_on_confirmation(client, owner, outsider):
    AccountFactory(owner=outsider, name="Globex Corporation")
    client.force_login(owner)
    response = client.post(reverse("accounts:create"), {"name": "Globex Corporation", "type": "customer"})
    assert "Possible duplicates" in response.content.decode()
    assert Account.objects.count() == 1
    client.post(reverse("accounts:create"), {"name": "Globex Corporation", "type": "customer",
                                             "confirm_duplicates": "on"})
    assert Account.objects.count() == 2


def test_editing_without_touching_identity_does_not_nag(client, owner):
    AccountFactory(owner=owner, name="Acme Ltd")
    twin = AccountFactory(owner=owner, name="Acme Limited")
    client.force_login(owner)
    response = client.post(reverse("accounts:edit", args=[twin.pk]), {"name": "Acme Limited", "type": "partner"})
    assert response.status_code == 302
