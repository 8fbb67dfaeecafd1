"""From ticked rows: contacts into a campaign (the contacts list), and a source campaign for leads (the
leads list). Both are actions marketing registers on lists it does not own."""

from django.urls import reverse

from contacts.tests.factories import ContactFactory
from marketing import services
from marketing.models import CampaignMember, CampaignStatus, LeadAttribution, MemberStatus
from marketing.tests.factories import CampaignFactory
from sales.tests.factories import LeadFactory


def bulk(client, url_name, action, choice, rows):
    return client.post(reverse(url_name), {"action": action, f"choice-{action}": choice.pk if choice else "",
                                           "ids": [row.pk for row in rows]}, follow=True)


def test_ticked_contacts_join_a_campaign_once_keeping_their_status(client, marketer, owner):
    campaign = CampaignFactory(owner=marketer, name="Весенняя рассылка")
    people = ContactFactory.create_batch(2, owner=owner)
    services.campaign_members_add(campaign=campaign, actor=marketer, contacts=[people[0]],
                                  status=MemberStatus.RESPONDED)
    client.force_login(marketer)
    assert "Весенняя рассылка" in client.get(reverse("contacts:list")).content.decode()
    response = bulk(client, "contacts:bulk", "add_to_campaign", campaign, people)
    assert "1 contact added to Весенняя рассылка." in response.content.decode()
    assert dict(CampaignMember.objects.values_list("contact_id", "status")) == {
        people[0].pk: MemberStatus.RESPONDED, people[1].pk: MemberStatus.TARGETED}


def test_hidden_contacts_and_campaigns_one_may_not_edit_are_refused(client, owner, outsider, support_agent):
    mine, hidden = ContactFactory(owner=owner), ContactFactory(owner=outsider)
    campaign, foreign = CampaignFactory(owner=owner), CampaignFactory(owner=outsider)
    client.force_login(owner)
    bulk(client, "contacts:bulk", "add_to_campaign", campaign, [mine, hidden])  # a forged id of a hidden contact
    assert list(CampaignMember.objects.values_list("contact_id", flat=True)) == [mine.pk]
    for choice in (None, foreign):  # none chosen, or a campaign the rep may only read
        response = bulk(client, "contacts:bulk", "add_to_campaign", choice, [mine])
        assert "Choose the campaign to add the contacts to." in response.content.decode()
    assert CampaignMember.objects.count() == 1
    client.force_login(support_agent)  # reads contacts, no campaigns
    assert "add_to_campaign" not in client.get(reverse("contacts:list")).content.decode()


def test_completed_campaigns_are_not_offered(client, marketer, owner):
    CampaignFactory(owner=marketer, name="Прошлогодняя", status=CampaignStatus.COMPLETED)
    ContactFactory(owner=owner)
    client.force_login(marketer)
    assert "Прошлогодняя" not in client.get(reverse("contacts:list")).content.decode()


def test_ticked_leads_get_a_source_campaign(client, owner, outsider, marketer):
    campaign = CampaignFactory(owner=marketer, name="Выставка")
    mine, theirs = LeadFactory(owner=owner), LeadFactory(owner=outsider)
    other = CampaignFactory(owner=marketer)
    services.lead_attribute(lead=mine, campaign=other, actor=owner)
    client.force_login(owner)
    response = bulk(client, "sales:lead_bulk", "set_lead_campaign", campaign, [mine, theirs])
    assert "1 lead now comes from Выставка." in response.content.decode()
    assert dict(LeadAttribution.objects.values_list("lead_id", "campaign_id")) == {mine.pk: campaign.pk}
    response = bulk(client, "sales:lead_bulk", "set_lead_campaign", None, [mine])
    assert "Choose the source campaign for the leads." in response.content.decode()
