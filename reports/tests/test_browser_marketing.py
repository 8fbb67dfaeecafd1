"""The marketing dashboard driven as a marketer would, in the system Chromium: both charts are drawn with no
console error, a click on a campaign's bar opens that campaign, a mailing's row opens that mailing with the same
counts, and the lead count opens exactly the campaign's leads of the period."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from contacts.tests.factories import ContactFactory
from marketing.models import (
    CampaignCost,
    Delivery,
    DeliveryStatus,
    LeadAttribution,
    Mailing,
    MailingStatus,
    StaticList,
)
from marketing.tests.factories import CampaignFactory
from reports.tests.test_browser_dashboard import BAR, INK
from sales.tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def audience(marketer):
    return StaticList.objects.get_or_create(owner=marketer, team=marketer.team, name="Гости")[0]


@pytest.fixture
def campaign(marketer):
    campaign = CampaignFactory(owner=marketer, name="Весенняя выставка")
    CampaignCost.objects.create(campaign=campaign, description="Стенд", amount=1500, created_by=marketer)
    for number in range(3):
        LeadAttribution.objects.create(
            lead=LeadFactory(owner=marketer, last_name=f"Выставкин {number}"), campaign=campaign
        )
    LeadFactory(owner=marketer, last_name="Без кампании")
    mailing = Mailing.objects.create(
        owner=marketer,
        team=marketer.team,
        campaign=campaign,
        static_list=audience(marketer),
        subject="Приглашение",
        body="Текст",
        status=MailingStatus.SENT,
        started_at=timezone.now(),
    )
    for number, contact in enumerate(ContactFactory.create_batch(4, owner=marketer)):
        Delivery.objects.create(
            mailing=mailing,
            contact=contact,
            email=f"guest{number}@example.com",
            status=DeliveryStatus.SENT,
            sent_at=timezone.now(),
            opened_at=timezone.now() if number < 2 else None,
            clicked_at=timezone.now() if number == 0 else None,
        )
    return campaign


def test_marketer_reads_the_marketing_dashboard_and_opens_its_records(page, marketer, campaign):
    sign_in(page, marketer)
    page.goto("/reports/builder/")
    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Marketing").click()
    page.wait_for_url("**/reports/marketing/")
    expect(page.get_by_role("heading", name="Marketing", exact=True)).to_be_visible()
    row = page.locator(f'#campaigns-table tr[data-row="{campaign.pk}"]')
    expect(row.locator("td").nth(1)).to_have_text("3")
    expect(page.locator("#mailings-table tbody tr td").nth(2)).to_have_text("4 100.0 %")
    expect(page.locator("#mailings-table tbody tr td").nth(3)).to_have_text("2 50.0 %")
    for chart in ("campaigns-chart", "mailings-chart"):
        assert page.evaluate(INK, chart) > 500, f"{chart} was not drawn"
    assert page.console_errors == [] and page.failed_requests == []

    row.locator("td").nth(1).get_by_role("link").click()
    page.wait_for_url(f"**/sales/leads/?*campaign={campaign.pk}*")
    expect(page.locator("table tbody tr")).to_have_count(3)
    page.go_back()

    position = page.evaluate(BAR, ["campaigns-chart", 0])
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url(f"**/marketing/campaigns/{campaign.pk}/")
    expect(page.get_by_role("heading", name="Весенняя выставка")).to_be_visible()
    page.go_back()

    page.locator("#mailings-chart").scroll_into_view_if_needed()
    position = page.evaluate(BAR, ["mailings-chart", 0])
    page.mouse.click(position["x"], position["y"])
    page.wait_for_url("**/marketing/mailings/*/")
    expect(page.get_by_text("Приглашение").first).to_be_visible()
    assert page.console_errors == [] and page.failed_requests == []
