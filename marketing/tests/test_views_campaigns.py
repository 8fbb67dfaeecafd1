"""Campaign pages: create/edit with bad input refused, cost lines, members, attribution from the
lead and deal pages (panels), the overview, and constant query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from marketing import services
from marketing.models import Campaign, CampaignCost, CampaignMember, DealAttribution, LeadAttribution, MemberStatus
from marketing.tests.factories import CampaignFactory
from sales.tests.factories import LeadFactory, OpportunityFactory


def campaign_data(**overrides):
    data = {"name": "Весенний вебинар", "type": "webinar", "status": "planned", "start_date": "2026-03-01",
            "end_date": "2026-03-31", "currency": "rub", "budget": "150000", "expected_revenue": "900000",
            "description": ""}
    data.update(overrides)
    return data


def test_marketer_creates_a_campaign(client, marketer):
    client.force_login(marketer)
    response = client.post(reverse("marketing:campaign_create"), campaign_data())
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == campaign.get_absolute_url()
    assert campaign.owner == marketer and campaign.currency == "RUB" and campaign.budget == Decimal("150000")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("end_date", "2026-02-01", "The campaign cannot end before it starts."),
    ("currency", "R1B", "Use a three-letter currency code such as EUR."),
    ("budget", "-5", "Ensure this value is greater than or equal to 0."),
])
def test_bad_input_is_refused_and_changes_nothing(client, marketer, field, value, message):
    client.force_login(marketer)
    response = client.post(reverse("marketing:campaign_create"), campaign_data(**{field: value}))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Campaign.objects.exists()


def test_bad_input_in_russian(client, marketer):
    marketer.language = "ru"
    marketer.save(update_fields=["language"])
    client.force_login(marketer)
    response = client.post(reverse("marketing:campaign_create"), campaign_data(end_date="2026-02-01"),
                           HTTP_ACCEPT_LANGUAGE="ru")
    assert "Кампания не может закончиться раньше, чем началась." in response.content.decode()


def test_a_campaign_cannot_become_part_of_its_own_part(client, marketer):
    top = CampaignFactory(owner=marketer, name="Запуск продукта")
    part = CampaignFactory(owner=marketer, name="Вебинар", parent=top)
    client.force_login(marketer)
    response = client.post(reverse("marketing:campaign_edit", args=[top.pk]),
                           campaign_data(name=top.name, parent=part.pk))
    assert response.status_code == 200
    assert "A campaign cannot be part of itself or of one of its own parts." in response.content.decode()
    top.refresh_from_db()
    assert top.parent is None


def test_cost_lines_add_and_remove(client, marketer):
    campaign = CampaignFactory(owner=marketer, currency="RUB")
    client.force_login(marketer)
    client.post(reverse("marketing:cost_add", args=[campaign.pk]),
                {"description": "Аренда зала", "amount": "45000.50", "incurred_on": "2026-03-02"})
    cost = CampaignCost.objects.get()
    assert cost.amount == Decimal("45000.50") and cost.created_by == marketer
    response = client.post(reverse("marketing:cost_add", args=[campaign.pk]),
                           {"description": "Минус", "amount": "-1", "incurred_on": "2026-03-02"}, follow=True)
    assert "The cost line was not added" in response.content.decode()
    assert CampaignCost.objects.count() == 1
    client.post(reverse("marketing:cost_remove", args=[campaign.pk, cost.pk]))
    assert not CampaignCost.objects.exists()


def test_read_only_users_cannot_change_costs_or_members(client, marketer, owner, outsider, support_agent):
    campaign = CampaignFactory(owner=owner)
    contact = ContactFactory(owner=outsider)
    for user, status in ((outsider, 403), (support_agent, 404)):
        client.force_login(user)
        assert client.post(reverse("marketing:cost_add", args=[campaign.pk]),
                           {"description": "x", "amount": "1"}).status_code == status
        assert client.post(reverse("marketing:member_add", args=[campaign.pk]),
                           {"contact": contact.pk, "status": "targeted"}).status_code == status
    assert not CampaignCost.objects.exists() and not CampaignMember.objects.exists()


def test_members_add_status_and_remove(client, marketer, owner):
    campaign = CampaignFactory(owner=marketer)
    contact = ContactFactory(owner=owner, first_name="Татьяна", last_name="Зайцева")
    client.force_login(marketer)
    client.post(reverse("marketing:member_add", args=[campaign.pk]), {"contact": contact.pk, "status": "sent"})
    member = CampaignMember.objects.get()
    assert member.status == MemberStatus.SENT
    client.post(reverse("marketing:member_status", args=[campaign.pk, member.pk]), {"status": "bogus"})
    member.refresh_from_db()
    assert member.status == MemberStatus.SENT
    client.post(reverse("marketing:member_status", args=[campaign.pk, member.pk]), {"status": "responded"})
    member.refresh_from_db()
    assert member.status == MemberStatus.RESPONDED
    body = client.get(campaign.get_absolute_url()).content.decode()
    assert "Татьяна Зайцева" in body
    client.post(reverse("marketing:member_remove", args=[campaign.pk, member.pk]))
    assert not CampaignMember.objects.exists()


def test_a_hidden_contact_cannot_be_added(client, owner, outsider):
    """A rep may run their own campaign but only add people they may see: a forged id is refused."""
    campaign = CampaignFactory(owner=owner)
    hidden = ContactFactory(owner=outsider)
    client.force_login(owner)
    response = client.post(reverse("marketing:member_add", args=[campaign.pk]),
                           {"contact": hidden.pk, "status": "targeted"}, follow=True)
    assert "Choose a contact to add." in response.content.decode()
    assert not CampaignMember.objects.exists()


def test_member_names_show_only_to_those_who_may_see_them(client, marketer, owner, teammate):
    campaign = CampaignFactory(owner=marketer)
    services.campaign_members_add(campaign=campaign, actor=marketer,
                                  contacts=[ContactFactory(owner=owner, first_name="Private", last_name="Person")])
    client.force_login(teammate)
    body = client.get(campaign.get_absolute_url()).content.decode()
    assert "Private Person" not in body and "a contact you cannot open" in body


def test_lead_page_panel_sets_and_clears_the_source_campaign(client, marketer, owner):
    campaign = CampaignFactory(owner=marketer, name="Выставка ИнноПром")
    lead = LeadFactory(owner=owner)
    client.force_login(owner)
    body = client.get(lead.get_absolute_url()).content.decode()
    assert 'id="lead-campaign"' in body and "Not attributed to a campaign." in body
    client.post(reverse("marketing:lead_attribution", args=[lead.pk]), {"campaign": campaign.pk})
    assert LeadAttribution.objects.get(lead=lead).campaign == campaign
    body = client.get(lead.get_absolute_url()).content.decode()
    assert "Выставка ИнноПром" in body
    client.post(reverse("marketing:lead_attribution", args=[lead.pk]), {"campaign": ""})
    assert not LeadAttribution.objects.exists()


def test_attribution_needs_the_right_to_edit_the_record(client, marketer, owner, outsider, teammate):
    campaign = CampaignFactory(owner=marketer)
    lead = LeadFactory(owner=owner)
    deal = OpportunityFactory(owner=owner)
    client.force_login(outsider)
    assert client.post(reverse("marketing:lead_attribution", args=[lead.pk]),
                       {"campaign": campaign.pk}).status_code == 404
    assert client.post(reverse("marketing:deal_attribution", args=[deal.pk]),
                       {"campaign": campaign.pk}).status_code == 404
    client.force_login(marketer)  # reads every lead, edits only their own
    assert client.post(reverse("marketing:lead_attribution", args=[lead.pk]),
                       {"campaign": campaign.pk}).status_code == 403
    assert not LeadAttribution.objects.exists() and not DealAttribution.objects.exists()


def test_a_deleted_campaign_cannot_be_chosen(client, marketer, owner):
    campaign = CampaignFactory(owner=marketer)
    services.campaign_delete(campaign=campaign, actor=marketer)
    deal = OpportunityFactory(owner=owner)
    client.force_login(owner)
    response = client.post(reverse("marketing:deal_attribution", args=[deal.pk]), {"campaign": campaign.pk},
                           follow=True)
    assert "Choose a campaign from the list." in response.content.decode()
    assert not DealAttribution.objects.exists()


def test_deal_page_shows_its_source_campaign(client, marketer, owner):
    campaign = CampaignFactory(owner=marketer, name="Autumn mailing")
    deal = OpportunityFactory(owner=owner)
    services.deal_attribute(opportunity=deal, campaign=campaign, actor=owner)
    client.force_login(owner)
    body = client.get(deal.get_absolute_url()).content.decode()
    assert 'id="deal-campaign"' in body and "Autumn mailing" in body


def test_contact_and_account_pages_list_campaigns(client, marketer, owner):
    account = AccountFactory(owner=owner, name="ООО «ВолгаАгро»")
    contact = ContactFactory(owner=owner, account=account)
    campaign = CampaignFactory(owner=marketer, name="Вебинар весна")
    services.campaign_members_add(campaign=campaign, actor=marketer, contacts=[contact])
    client.force_login(owner)
    body = client.get(contact.get_absolute_url()).content.decode()
    assert 'id="contact-campaigns"' in body and "Вебинар весна" in body
    body = client.get(account.get_absolute_url()).content.decode()
    assert 'id="account-campaigns"' in body and "Вебинар весна" in body


def test_support_sees_no_campaign_panels_or_pages(client, marketer, owner, support_agent):
    contact = ContactFactory(owner=owner)
    campaign = CampaignFactory(owner=marketer, name="Secret launch")
    services.campaign_members_add(campaign=campaign, actor=marketer, contacts=[contact])
    client.force_login(support_agent)
    assert "Secret launch" not in client.get(contact.get_absolute_url()).content.decode()
    assert client.get(reverse("marketing:overview")).status_code == 404
    assert client.get(reverse("marketing:campaign_autocomplete")).status_code == 404


def test_autocomplete_offers_visible_live_campaigns(client, marketer, owner):
    live = CampaignFactory(owner=marketer, name="Вебинар весна")
    gone = CampaignFactory(owner=marketer, name="Вебинар осень")
    services.campaign_delete(campaign=gone, actor=marketer)
    client.force_login(owner)
    results = client.get(reverse("marketing:campaign_autocomplete"), {"q": "вебинар"}).json()["results"]
    assert [row["id"] for row in results] == [live.pk]


def test_overview_shows_running_and_planned(client, marketer):
    CampaignFactory(owner=marketer, name="Идёт сейчас", status="active")
    CampaignFactory(owner=marketer, name="Скоро", status="planned")
    CampaignFactory(owner=marketer, name="Прошла", status="completed")
    client.force_login(marketer)
    body = client.get(reverse("marketing:overview")).content.decode()
    assert "Идёт сейчас" in body and "Скоро" in body and "Прошла" not in body


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_and_overview_query_counts_are_constant(client, marketer, owner):
    client.force_login(marketer)
    first = CampaignFactory(owner=marketer)
    services.lead_attribute(lead=LeadFactory(owner=owner), campaign=first, actor=owner)
    services.campaign_cost_add(campaign=first, actor=marketer, description="a", amount=Decimal("1"))
    client.get(reverse("marketing:overview"))  # warm the session
    client.get(reverse("marketing:campaign_list"))  # and the list's cached lookups (the saved views' summary)
    one = (_queries(client, reverse("marketing:campaign_list")), _queries(client, reverse("marketing:overview")))
    for campaign in CampaignFactory.create_batch(49, owner=marketer):
        services.campaign_cost_add(campaign=campaign, actor=marketer, description="b", amount=Decimal("2"))
    fifty = (_queries(client, reverse("marketing:campaign_list")), _queries(client, reverse("marketing:overview")))
    assert one == fifty
    assert fifty[0] <= 12 and fifty[1] <= 8


def test_detail_query_count_is_constant(client, marketer, owner):
    campaign = CampaignFactory(owner=marketer)
    client.force_login(owner)
    client.get(campaign.get_absolute_url())
    services.campaign_members_add(campaign=campaign, actor=marketer, contacts=[ContactFactory(owner=owner)])
    services.lead_attribute(lead=LeadFactory(owner=owner), campaign=campaign, actor=owner)
    services.deal_attribute(opportunity=OpportunityFactory(owner=owner), campaign=campaign, actor=owner)
    services.campaign_cost_add(campaign=campaign, actor=marketer, description="a", amount=Decimal("1"))
    one = _queries(client, campaign.get_absolute_url())
    services.campaign_members_add(campaign=campaign, actor=marketer,
                                  contacts=ContactFactory.create_batch(49, owner=owner))
    for _ in range(49):
        services.lead_attribute(lead=LeadFactory(owner=owner), campaign=campaign, actor=owner)
        services.campaign_cost_add(campaign=campaign, actor=marketer, description="b", amount=Decimal("2"))
    fifty = _queries(client, campaign.get_absolute_url())
    assert one == fifty and fifty <= 25


def test_bulk_assign_changes_only_editable_campaigns(client, owner, teammate, outsider):
    mine = CampaignFactory(owner=owner, name="Мой семинар")
    theirs = CampaignFactory(owner=outsider, name="Чужая выставка")
    client.force_login(owner)
    response = client.post(reverse("marketing:campaign_bulk"), {
        "action": "assign", "owner": owner.pk, "ids": [mine.pk, theirs.pk]}, follow=True)
    body = response.content.decode()
    assert "1 ticked campaign is read-only for you" in body
    theirs.refresh_from_db()
    assert theirs.owner == outsider
    response = client.post(reverse("marketing:campaign_bulk"), {
        "action": "assign", "owner": outsider.pk, "ids": [mine.pk]}, follow=True)
    assert "Choose whom to assign the campaigns to." in response.content.decode()  # not someone a rep may assign to
    mine.refresh_from_db()
    assert mine.owner == owner


def test_export_of_ticked_campaigns(client, marketer, support_agent):
    campaign = CampaignFactory(owner=marketer, name="=HYPERLINK(\"x\")", currency="UAH", budget=Decimal("5000"))
    client.force_login(marketer)
    response = client.post(reverse("marketing:campaign_bulk"), {"action": "export", "ids": [campaign.pk]})
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "UAH" in text  # a formula is neutralised
    client.force_login(support_agent)
    response = client.post(reverse("marketing:campaign_bulk"), {"action": "export", "ids": [campaign.pk]})
    assert response.status_code == 404
