"""Campaigns driven as a marketer would, in the system Chromium: plan an e-mail campaign with a
budget, record its costs, attribute a lead to it from the lead's page, and, once the converted
lead's deal is won, read the campaign's leads, won revenue, cost per lead and ROI."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import sign_in
from marketing.models import Campaign, LeadAttribution
from sales import lead_services
from sales import services as sales_services
from sales.models import LeadStatus
from sales.tests.factories import LeadFactory, PipelineFactory, stage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def pick(page, select_id: str, search: str, option_text: str) -> None:
    """Choose in a tom-select: type into its control, click the option the server answered."""
    page.locator(f"#{select_id}-ts-control").fill(search)
    option = page.locator(f"#{select_id}-ts-dropdown .option", has_text=option_text).first
    expect(option).to_be_visible()
    option.hover()
    page.keyboard.press("Enter")


def test_campaign_from_plan_to_roi(page, marketer):
    pipeline = PipelineFactory(name="New business", is_default=True)
    lead = LeadFactory(owner=marketer, first_name="Hannah", last_name="Fischer", company="Brightline Media",
                       status=LeadStatus.QUALIFIED)
    sign_in(page, marketer)

    # Plan the campaign from the Marketing section.
    page.get_by_role("link", name="Marketing", exact=True).click()
    page.locator("#overview-create").click()
    page.locator("#id_name").fill("Spring webinar")
    page.locator("#id_type").select_option("email")
    page.locator("#id_status").select_option("active")
    page.locator("#id_start_date").fill("2026-03-01")
    page.locator("#id_end_date").fill("2026-02-01")  # before the start: refused, nothing saved
    page.locator("#id_budget").fill("2000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The campaign cannot end before it starts.")).to_be_visible()
    assert not Campaign.objects.exists()
    page.locator("#id_end_date").fill("2026-03-31")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spring webinar")
    expect(page.locator("#figure-cost")).to_contain_text("of 2,000.00 EUR budget")

    # Its costs.
    page.locator("#id_description").fill("Webinar platform")
    page.locator("#id_amount").fill("600")
    page.get_by_role("button", name="Add cost").click()
    page.locator("#id_description").fill("Ads")
    page.locator("#id_amount").fill("400")
    page.get_by_role("button", name="Add cost").click()
    expect(page.locator("#cost-total")).to_have_text("1,000.00 EUR")
    expect(page.locator("#budget-left")).to_contain_text("1,000.00 EUR left")
    expect(page.locator("#figure-roi")).to_contain_text("-100.0%")  # spent, nothing won yet

    # The lead it brought in, attributed from the lead's page.
    page.goto(lead.get_absolute_url())
    expect(page.locator("#lead-campaign-current")).to_have_text("Not attributed to a campaign.")
    pick(page, "lead-campaign-campaign", "Spring", "Spring webinar")
    page.locator("#lead-campaign").get_by_role("button", name="Save").click()
    expect(page.locator("#lead-campaign-current")).to_contain_text("Spring webinar")
    assert LeadAttribution.objects.get(lead=lead).campaign.name == "Spring webinar"

    # Sales converts the lead and wins its deal.
    plan = lead_services.OpportunityPlan(name="Brightline rollout", stage=stage(pipeline, "Qualification"),
                                         amount=Decimal("4000"), currency="EUR",
                                         expected_close_date=timezone.localdate() + timedelta(days=30))
    lead_services.lead_convert(lead=lead, actor=marketer, opportunity=plan)
    lead.refresh_from_db()
    deal = lead.converted_opportunity
    sales_services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Won"), actor=marketer,
                                    expected_version=deal.lock_version)

    # The campaign's page: every figure comes from the records.
    page.get_by_role("link", name="Marketing", exact=True).click()
    page.locator("#running").get_by_role("link", name="Spring webinar").click()
    expect(page.locator("#figure-leads")).to_contain_text("1")
    expect(page.locator("#figure-leads")).to_contain_text("1 converted")
    expect(page.locator("#figure-cost-per-lead")).to_contain_text("1,000.00 EUR")
    expect(page.locator("#figure-won")).to_contain_text("4,000.00 EUR")
    expect(page.locator("#figure-won")).to_contain_text("1 won of 1 deal")
    expect(page.locator("#figure-roi")).to_contain_text("300.0%")  # (4000 − 1000) / 1000
    expect(page.locator("#figure-members")).to_contain_text("of 1 member")  # the converted contact
    expect(page.locator("#members-by-status [data-status=converted]")).to_have_text("1")
    expect(page.locator("#campaign-leads")).to_contain_text("Hannah Fischer")
    assert page.console_errors == [] and page.failed_requests == []


def test_members_are_added_and_move_through_statuses(page, marketer, owner):
    from contacts.tests.factories import ContactFactory
    from marketing.tests.factories import CampaignFactory

    campaign = CampaignFactory(owner=marketer, name="Вебинар весна", currency="RUB", budget=Decimal("250000"))
    ContactFactory(owner=owner, first_name="Татьяна", last_name="Зайцева")
    sign_in(page, marketer)
    page.goto("/marketing/campaigns/")
    page.get_by_role("link", name="Вебинар весна").click()
    expect(page.locator("#member-rows")).to_contain_text("Nobody is in this campaign yet.")
    pick(page, "id_contact", "Зайц", "Татьяна Зайцева")
    page.locator("#member-form").get_by_role("button", name="Add").click()
    expect(page.locator("#member-rows")).to_contain_text("Татьяна Зайцева")
    expect(page.locator("#members-by-status [data-status=targeted]")).to_have_text("1")
    row = page.locator("#member-rows li", has_text="Татьяна Зайцева")
    row.get_by_label("Status").select_option("responded")
    row.get_by_role("button", name="Set").click()
    expect(page.locator("#members-by-status [data-status=responded]")).to_have_text("1")
    expect(page.locator("#figure-members")).to_contain_text("1")
    assert campaign.members.get().status == "responded"
    assert page.console_errors == [] and page.failed_requests == []
