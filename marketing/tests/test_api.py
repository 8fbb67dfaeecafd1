"""/api/campaigns/ (marketing/api.py): CRUD through the services for those who may, the figures computed
from the records, parents only among visible campaigns; support sees none, a rep edits only their own."""

from decimal import Decimal

import pytest

from crm.tests.api_helpers import api_for
from marketing import services
from marketing.models import Campaign
from marketing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_campaign_crud_with_figures(marketer):
    api = api_for(marketer)
    response = api.post("/api/campaigns/", {"name": "Выставка «Иннопром»", "type": "event", "currency": "RUB",
                                            "budget": "500000.00", "start_date": "2026-07-07"}, format="json")
    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert response.json()["owner"] == marketer.pk and response.json()["cost"] == "0.00"
    services.campaign_cost_add(campaign=campaign, actor=marketer, description="Стенд", amount=Decimal("150000"))
    body = api.get(f"/api/campaigns/{campaign.pk}/").json()
    assert body["cost"] == "150000.00" and body["leads"] == 0
    response = api.patch(f"/api/campaigns/{campaign.pk}/", {"status": "active", "end_date": "2026-07-01"},
                         format="json")
    assert response.status_code == 400 and "end_date" in response.json()  # before the start: refused
    response = api.patch(f"/api/campaigns/{campaign.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert [row["id"] for row in api.get("/api/campaigns/", {"status": "active"}).json()["results"]] == [campaign.pk]
    assert api.delete(f"/api/campaigns/{campaign.pk}/").status_code == 204
    assert api.get(f"/api/campaigns/{campaign.pk}/").status_code == 404


def test_who_sees_and_who_changes(owner, outsider, support_agent, marketer):
    theirs = CampaignFactory(owner=outsider, name="Чужая")
    mine = CampaignFactory(owner=owner, name="Моя")
    api = api_for(owner)
    assert {row["id"] for row in api.get("/api/campaigns/").json()["results"]} == {theirs.pk, mine.pk}
    assert api.patch(f"/api/campaigns/{theirs.pk}/", {"name": "x"}, format="json").status_code == 403
    assert api.patch(f"/api/campaigns/{mine.pk}/", {"parent": theirs.pk}, format="json").status_code == 200
    support = api_for(support_agent)
    assert support.get(f"/api/campaigns/{mine.pk}/").status_code in (403, 404)
    assert support.post("/api/campaigns/", {"name": "x"}, format="json").status_code == 404  # no campaigns at all
    Campaign.objects.filter(pk=theirs.pk).update(name="Чужая")
    assert Campaign.objects.get(pk=theirs.pk).name == "Чужая"


def test_a_campaign_cannot_be_its_own_parent(marketer):
    campaign = CampaignFactory(owner=marketer)
    response = api_for(marketer).patch(f"/api/campaigns/{campaign.pk}/", {"parent": campaign.pk}, format="json")
    assert response.status_code == 400
