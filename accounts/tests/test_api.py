"""/api/accounts/ (accounts/api.py): CRUD through the services, custom fields, owners, the
hierarchy and the filters. The visibility matrix over every API model is in
crm/tests/test_api.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm.history import history_for
from crm.models import CustomField
from crm.tests.api_helpers import api_for

pytestmark = pytest.mark.django_db


def test_account_crud(owner):
    api = api_for(owner)
    response = api.post("/api/accounts/", {"name": "Initech", "type": "customer", "phone": "020 7946 0001",
                                           "tags": ["vip", "VIP", " north "]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    account = Account.objects.get(pk=body["id"])
    assert response["Location"].endswith(f"/api/accounts/{account.pk}/")
    assert body["owner"] == owner.pk and body["team"] == owner.team_id  # the service set the team
    assert body["phone_e164"] == "+442079460001"
    assert body["tags"] == ["vip", "north"]

    assert api.get(f"/api/accounts/{account.pk}/").json()["name"] == "Initech"
    assert [row["id"] for row in api.get("/api/accounts/").json()["results"]] == [account.pk]

    response = api.patch(f"/api/accounts/{account.pk}/", {"industry": "Software"}, format="json")
    assert response.status_code == 200 and response.json()["industry"] == "Software"
    response = api.put(f"/api/accounts/{account.pk}/", {"name": "Initech Ltd", "type": "partner"}, format="json")
    assert response.status_code == 200, response.json()
    account.refresh_from_db()
    assert (account.name, account.type, account.industry) == ("Initech Ltd", "partner", "Software")
    # The audit history names the token's user.
    assert any(entry.user == owner for entry in history_for(account, user=owner))

    assert api.delete(f"/api/accounts/{account.pk}/").status_code == 204
    account.refresh_from_db()
    assert account.deleted_at is not None  # soft delete: restorable, still in the history
    assert api.get(f"/api/accounts/{account.pk}/").status_code == 404
    assert api.get("/api/accounts/").json()["results"] == []


def test_custom_fields(owner):
    CustomField.objects.create(target="accounts.account", key="erp_id", label="ERP id", kind="number", required=True)
    CustomField.objects.create(target="accounts.account", key="segment", label="Segment", kind="choice",
                               choices="Retail\nWholesale")
    api = api_for(owner)
    response = api.post("/api/accounts/", {"name": "Needs ERP"}, format="json")
    assert response.status_code == 400 and "erp_id" in response.json()["custom"]
    response = api.post("/api/accounts/", {"name": "Bad", "custom": {"erp_id": 5, "nope": 1, "segment": "Mall"}},
                        format="json")
    assert response.status_code == 400
    assert set(response.json()["custom"]) == {"nope", "segment"}
    response = api.post("/api/accounts/", {"name": "Good", "custom": {"erp_id": "120.50", "segment": "Retail"}},
                        format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["custom"] == {"erp_id": "120.5", "segment": "Retail"}
    account_id = response.json()["id"]
    assert [row["id"] for row in api.get("/api/accounts/?cf_segment=Retail").json()["results"]] == [account_id]
    response = api.patch(f"/api/accounts/{account_id}/", {"custom": {"segment": None}}, format="json")
    assert response.json()["custom"] == {"erp_id": "120.5"}
    assert api.get("/api/accounts/?cf_segment=Retail").json()["results"] == []


def test_manager_assigns_within_the_team_only(manager, teammate, outsider):
    api = api_for(manager)
    response = api.post("/api/accounts/", {"name": "For the team", "owner": teammate.pk}, format="json")
    assert response.status_code == 201 and response.json()["owner"] == teammate.pk
    response = api.post("/api/accounts/", {"name": "Elsewhere", "owner": outsider.pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()


def test_account_cannot_become_its_own_ancestor(owner):
    api = api_for(owner)
    parent = AccountFactory(owner=owner)
    child = AccountFactory(owner=owner, parent=parent)
    response = api.patch(f"/api/accounts/{parent.pk}/", {"parent": child.pk}, format="json")
    assert response.status_code == 400 and "parent" in response.json()


def test_filters(owner, teammate):
    api = api_for(owner)
    customer = AccountFactory(owner=owner, name="Umbrella", type="customer", phone="+44 20 7946 0555")
    AccountFactory(owner=owner, name="Cyberdyne", type="prospect", phone="")
    AccountFactory(owner=teammate, name="Hidden Umbrella", type="customer")

    def ids(url):
        response = api.get(url)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("/api/accounts/?q=umbrella") == [customer.pk]
    assert ids("/api/accounts/?q=020%207946%200555") == [customer.pk]  # a phone in another format
    assert ids("/api/accounts/?type=customer") == [customer.pk]
    assert ids(f"/api/accounts/?owner={teammate.pk}") == []
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert ids(f"/api/accounts/?updated_after={later.replace('+', '%2B')}") == []
    assert api.get("/api/accounts/?updated_after=yesterday").status_code == 400
