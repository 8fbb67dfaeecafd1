"""Campaigns in the global search: found by name by every role that reads campaigns, never by support."""

import pytest

from crm.search import search
from marketing.tests.factories import CampaignFactory


@pytest.mark.parametrize("role", ["owner", "outsider", "manager", "executive", "marketer", "admin_user"])
def test_a_campaign_is_found_by_name_by_whoever_may_read_it(request, role, marketer):
    campaign = CampaignFactory(owner=marketer, name="Осенняя распродажа Зефир")
    CampaignFactory(owner=marketer, name="Весенний вебинар")
    assert search(request.getfixturevalue(role), "распродажа зеф").records("campaigns") == [campaign]


def test_support_finds_no_campaign(support_agent, marketer):
    CampaignFactory(owner=marketer, name="Осенняя распродажа")
    assert search(support_agent, "Осенняя распродажа").records("campaigns") == []


def test_a_deleted_campaign_is_not_found(marketer):
    from django.utils import timezone

    CampaignFactory(owner=marketer, name="Удалённая кампания", deleted_at=timezone.now())
    assert search(marketer, "Удалённая кампания").records("campaigns") == []
