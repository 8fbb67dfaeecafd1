"""Campaign records, their figures (computed from the records) and attribution."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.tests.factories import ContactFactory
from marketing import services
from marketing.figures import campaign_figures
from marketing.models import CampaignMember, DealAttribution, LeadAttribution, MemberStatus
from marketing.tests.factories import CampaignFactory
from sales import lead_services
from sales import services as sales_services
from sales.models import CurrencyRate, LeadStatus
from sales.tests.factories import LeadFactory, OpportunityFactory, PipelineFactory, stage


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Новый бизнес", is_default=True)


def test_create_sets_team_and_refuses_end_before_start(marketer, owner):
    campaign = services.campaign_create(actor=marketer, owner=owner, name="Весенний вебинар", type="webinar",
                                        budget=Decimal("150000.00"), currency="RUB")
    assert campaign.team == owner.team and campaign.owner == owner
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        services.campaign_create(actor=marketer, name="Backwards", start_date=today, end_date=today - timedelta(days=1))


def test_figures_cost_leads_roi_in_roubles(marketer, owner, pipeline):
    """ROI = (won revenue − cost) / cost, cost per lead = cost / leads, all from the records."""
    CurrencyRate.objects.create(currency="RUB", rate=Decimal("0.01"))  # 100 RUB = 1 EUR
    campaign = CampaignFactory(owner=marketer, name="Выставка ИнноПром", currency="RUB", budget=Decimal("300000"))
    services.campaign_cost_add(campaign=campaign, actor=marketer, description="Стенд", amount=Decimal("150000.00"))
    services.campaign_cost_add(campaign=campaign, actor=marketer, description="Печать", amount=Decimal("50000.00"))
    leads = [LeadFactory(owner=owner, last_name=name) for name in ("Павлов", "Зайцева", "Егоров", "Орлов")]
    for lead in leads:
        services.lead_attribute(lead=lead, campaign=campaign, actor=owner)
    won = OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Won"), amount=Decimal("5000"),
                             amount_base=Decimal("5000"))
    open_deal = OpportunityFactory(owner=owner, pipeline=pipeline, amount=Decimal("9000"), amount_base=Decimal("9000"))
    for deal in (won, open_deal):
        services.deal_attribute(opportunity=deal, campaign=campaign, actor=owner)
    contacts = [ContactFactory(owner=owner) for _ in range(3)]
    services.campaign_members_add(campaign=campaign, actor=marketer, contacts=contacts)
    services.campaign_member_set_status(member=CampaignMember.objects.get(contact=contacts[0]), actor=marketer,
                                        status=MemberStatus.RESPONDED)

    figures = campaign_figures(campaign)
    assert figures.cost == Decimal("200000.00") and figures.currency == "RUB"
    assert figures.leads == 4 and figures.cost_per_lead == Decimal("50000.00")
    assert figures.deals == 2 and figures.won_deals == 1 and figures.won_revenue == Decimal("5000")
    assert figures.cost_in_base == Decimal("2000.00")
    assert figures.roi == Decimal("150.0")  # (5000 − 2000) / 2000
    assert figures.members == {"targeted": 2, "responded": 1} and figures.responses == 1
    assert figures.remaining_budget == Decimal("100000.00") and not figures.over_budget


def test_no_roi_without_costs_or_without_a_rate(marketer):
    campaign = CampaignFactory(owner=marketer, currency="UAH")
    assert campaign_figures(campaign).roi is None and not campaign_figures(campaign).no_rate
    services.campaign_cost_add(campaign=campaign, actor=marketer, description="Реклама", amount=Decimal("1000"))
    figures = campaign_figures(campaign)
    assert figures.roi is None and figures.no_rate  # no UAH rate: never a made-up ROI


def test_deleted_leads_and_deals_do_not_count(marketer, owner, pipeline):
    campaign = CampaignFactory(owner=marketer)
    lead = LeadFactory(owner=owner)
    services.lead_attribute(lead=lead, campaign=campaign, actor=owner)
    lead.deleted_at = timezone.now()
    lead.save(update_fields=["deleted_at"])
    assert campaign_figures(campaign).leads == 0


def test_a_contact_is_a_member_once(marketer, owner):
    campaign = CampaignFactory(owner=marketer)
    contact = ContactFactory(owner=owner)
    assert services.campaign_members_add(campaign=campaign, actor=marketer, contacts=[contact]) == 1
    assert services.campaign_members_add(campaign=campaign, actor=marketer, contacts=[contact]) == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignMember.objects.create(campaign=campaign, contact=contact)
    assert CampaignMember.objects.filter(campaign=campaign).count() == 1


def test_attribution_can_change_and_clear(marketer, owner):
    first, second = CampaignFactory(owner=marketer), CampaignFactory(owner=marketer)
    lead = LeadFactory(owner=owner)
    services.lead_attribute(lead=lead, campaign=first, actor=owner)
    services.lead_attribute(lead=lead, campaign=second, actor=owner)
    assert LeadAttribution.objects.get(lead=lead).campaign == second
    services.lead_attribute(lead=lead, campaign=None, actor=owner)
    assert not LeadAttribution.objects.filter(lead=lead).exists()


def test_conversion_carries_the_campaign_to_the_deal_and_the_contact(marketer, owner, pipeline):
    campaign = CampaignFactory(owner=marketer, name="Вебинар весна")
    lead = LeadFactory(owner=owner, first_name="Никита", last_name="Павлов", company="ООО «СибЛес»",
                       email="n.pavlov@example.com", status=LeadStatus.QUALIFIED)
    services.lead_attribute(lead=lead, campaign=campaign, actor=owner)
    plan = lead_services.OpportunityPlan(name="СибЛес: пилот", stage=stage(pipeline, "Qualification"),
                                         amount=Decimal("250000"), currency="RUB",
                                         expected_close_date=timezone.localdate() + timedelta(days=20))
    CurrencyRate.objects.create(currency="RUB", rate=Decimal("0.01"))
    lead_services.lead_convert(lead=lead, actor=owner, opportunity=plan)
    lead.refresh_from_db()
    deal = lead.converted_opportunity
    assert DealAttribution.objects.get(opportunity=deal).campaign == campaign
    member = CampaignMember.objects.get(campaign=campaign)
    assert member.contact == lead.converted_contact and member.status == MemberStatus.CONVERTED

    sales_services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Won"), actor=owner,
                                    expected_version=deal.lock_version)
    figures = campaign_figures(campaign)
    assert figures.converted_leads == 1 and figures.won_deals == 1 and figures.won_revenue == Decimal("2500.00")


def test_a_lead_without_campaign_converts_as_before(owner, pipeline):
    lead = LeadFactory(owner=owner, status=LeadStatus.QUALIFIED)
    lead_services.lead_convert(lead=lead, actor=owner)
    assert not DealAttribution.objects.exists() and not CampaignMember.objects.exists()
