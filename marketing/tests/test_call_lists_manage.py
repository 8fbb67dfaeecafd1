"""Call lists after they are built: editing (a removed agent's people go to the remaining agents),
closing and reopening, adding people, handing entries over between agents (never one being called
now), and an "interested" outcome that creates a deal attributed to the campaign."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from marketing import calllists
from marketing.models import CallDistribution, CallList, CallListItem, CallResult, CallStatus, DealAttribution
from marketing.tests.factories import CampaignFactory
from marketing.tests.test_call_lists import build, static_list_of
from sales.models import Lead, Opportunity
from sales.tests.factories import PipelineFactory


@pytest.fixture
def agents(db):
    return [UserFactory(email="anna@example.com", first_name="Анна", role=Role.MARKETER),
            UserFactory(email="boris@example.com", first_name="Борис", role=Role.MARKETER),
            UserFactory(email="vera@example.com", first_name="Вера", role=Role.MARKETER)]


def agent_counts(call_list):
    return sorted(CallListItem.objects.filter(call_list=call_list).values_list("agent_id", flat=True))


# --- editing ---------------------------------------------------------------------------------


def test_edit_renames_and_a_removed_agents_people_go_to_the_remaining(marketer, owner, agents):
    call_list = build(marketer, ContactFactory.create_batch(6, owner=owner), agents)
    assert agent_counts(call_list) == sorted([a.pk for a in agents] * 2)
    handed = calllists.call_list_update(actor=marketer, call_list=call_list, name="Весенний обзвон",
                                        script="Новый текст", agents=agents[:2])
    assert handed == 2
    call_list.refresh_from_db()
    assert (call_list.name, call_list.script) == ("Весенний обзвон", "Новый текст")
    assert set(call_list.agents.values_list("pk", flat=True)) == {agents[0].pk, agents[1].pk}
    assert agent_counts(call_list) == sorted([agents[0].pk] * 3 + [agents[1].pk] * 3)  # evenly


def test_a_removed_agent_only_hands_over_what_the_others_may_open(marketer, owner, teammate):
    mine, theirs = ContactFactory(owner=owner), ContactFactory(owner=teammate)
    third = UserFactory(role=Role.SALES_REP, team=owner.team)
    call_list = build(marketer, [mine, theirs], [owner, teammate])
    calllists.call_list_update(actor=marketer, call_list=call_list, name="x", script="", agents=[owner, third])
    entry = CallListItem.objects.get(call_list=call_list, contact=theirs)
    # Neither remaining rep may open the teammate's contact: the shared queue, offered to nobody who may not.
    assert entry.agent_id is None
    assert calllists.call_next(call_list=call_list, agent=third) is None


def test_removing_an_agent_on_a_call_is_refused(marketer, owner, agents):
    call_list = build(marketer, ContactFactory.create_batch(2, owner=owner), agents[:2])
    held = calllists.call_next(call_list=call_list, agent=agents[1])
    with pytest.raises(ValidationError, match="is on a call from this list now"):
        calllists.call_list_update(actor=marketer, call_list=call_list, name="x", script="", agents=[agents[0]])
    assert CallListItem.objects.get(pk=held.pk).agent_id == agents[1].pk
    assert call_list.agents.count() == 2
    calllists.call_log(call_list=call_list, agent=agents[1], item_id=held.pk, result=CallResult.NOT_INTERESTED)
    assert calllists.call_list_update(actor=marketer, call_list=call_list, name="x", script="",
                                      agents=[agents[0]]) == 0  # the done entry stays theirs


def test_edit_page(client, marketer, owner, agents):
    call_list = build(marketer, ContactFactory.create_batch(4, owner=owner), agents[:2])
    client.force_login(marketer)
    url = reverse("marketing:call_list_edit", args=[call_list.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "", "agents": [agents[0].pk]})
    assert response.status_code == 200 and CallList.objects.get().name == "Обзвон клиентов"
    response = client.post(url, {"name": "Новое имя", "agents": [agents[0].pk], "script": "<script>x</script>"},
                           follow=True)
    body = response.content.decode()
    assert "2 people went to the remaining agents." in body and "<script>x</script>" not in body
    assert agent_counts(call_list) == [agents[0].pk] * 4


# --- closing ---------------------------------------------------------------------------------


def test_a_closed_list_hands_out_nobody_until_reopened(client, marketer, owner, agents):
    call_list = build(marketer, ContactFactory.create_batch(2, owner=owner), agents[:1])
    calllists.call_list_close(actor=marketer, call_list=call_list)
    assert call_list.closed_at is not None
    assert calllists.call_next(call_list=call_list, agent=agents[0]) is None
    client.force_login(agents[0])
    body = client.get(reverse("marketing:call_list_work", args=[call_list.pk])).content.decode()
    assert "The list is closed" in body
    assert reverse("marketing:call_list_work", args=[call_list.pk]) not in client.get("/").content.decode()
    calllists.call_list_reopen(actor=marketer, call_list=call_list)
    assert call_list.closed_at is None
    assert calllists.call_next(call_list=call_list, agent=agents[0]) is not None


def test_close_and_reopen_pages(client, marketer, owner, agents):
    call_list = build(marketer, ContactFactory.create_batch(1, owner=owner), agents[:1])
    client.force_login(marketer)
    url = reverse("marketing:call_list_close", args=[call_list.pk])
    assert "is closed" in client.post(url, follow=True).content.decode()
    assert CallList.objects.get().closed_at is not None
    assert "is open again" in client.post(url, {"reopen": "1"}, follow=True).content.decode()
    assert CallList.objects.get().closed_at is None


# --- adding people ---------------------------------------------------------------------------


def test_add_skips_who_is_on_it_and_counts_who_is_left_out(marketer, owner, agents):
    first = ContactFactory.create_batch(2, owner=owner)
    call_list = build(marketer, first, agents[:2])
    newcomers = ContactFactory.create_batch(2, owner=owner)
    refused, phoneless = ContactFactory(owner=owner, do_not_call=True), ContactFactory(owner=owner, phones=[])
    more = static_list_of(marketer, [*first[:1], *newcomers, refused, phoneless], name="Ещё")
    added = calllists.call_list_add(actor=marketer, call_list=call_list, static_list=more)
    assert (added.added, added.already, added.do_not_call, added.no_phone, added.no_agent) == (2, 1, 1, 1, 0)
    assert call_list.left_out_do_not_call == 1 and call_list.left_out_no_phone == 1
    assert agent_counts(call_list) == sorted([agents[0].pk] * 2 + [agents[1].pk] * 2)
    again = calllists.call_list_add(actor=marketer, call_list=call_list, static_list=more)
    assert again.added == 0 and again.already == 3
    assert call_list.items.count() == 4


def test_add_keeps_the_limit(marketer, owner, agents, monkeypatch):
    call_list = build(marketer, ContactFactory.create_batch(2, owner=owner), agents[:1])
    monkeypatch.setattr(calllists, "BUILD_LIMIT", 3)
    more = static_list_of(marketer, ContactFactory.create_batch(2, owner=owner), name="Ещё")
    with pytest.raises(ValidationError, match="at most 3 people"):
        calllists.call_list_add(actor=marketer, call_list=call_list, static_list=more)
    assert call_list.items.count() == 2


def test_add_page(client, marketer, owner, agents):
    call_list = build(marketer, ContactFactory.create_batch(1, owner=owner), agents[:1])
    more = static_list_of(marketer, ContactFactory.create_batch(2, owner=owner), name="Ещё")
    client.force_login(marketer)
    url = reverse("marketing:call_list_add", args=[call_list.pk])
    body = client.post(url, {}).content.decode()
    assert "Add either from a segment or from a static list." in body
    assert client.post(url, {"static_list": 999999}).status_code == 200  # a forged id: a form error
    body = client.post(url, {"static_list": more.pk}, follow=True).content.decode()
    assert "2 people were added to the list." in body
    assert call_list.items.count() == 3


# --- handing entries over --------------------------------------------------------------------


def test_reassign_moves_the_ticked_entries(marketer, owner, agents):
    call_list = build(marketer, ContactFactory.create_batch(4, owner=owner), agents[:2])
    annas = list(CallListItem.objects.filter(call_list=call_list, agent=agents[0]).values_list("pk", flat=True))
    moved = calllists.call_items_reassign(actor=marketer, call_list=call_list, item_ids=annas, agent=agents[1])
    assert moved.moved == 2 and moved.claimed == 0
    assert agent_counts(call_list) == [agents[1].pk] * 4
    with pytest.raises(ValidationError):  # not an agent of the list
        calllists.call_items_reassign(actor=marketer, call_list=call_list, item_ids=annas, agent=agents[2])


def test_an_entry_being_called_is_not_taken_away(marketer, owner, agents):
    """Fails when the live-claim check is taken out of call_items_reassign (checked on purpose)."""
    call_list = build(marketer, ContactFactory.create_batch(2, owner=owner), agents[:2])
    held = calllists.call_next(call_list=call_list, agent=agents[0])
    everyone = list(CallListItem.objects.filter(call_list=call_list).values_list("pk", flat=True))
    moved = calllists.call_items_reassign(actor=marketer, call_list=call_list, item_ids=everyone, agent=agents[1])
    assert (moved.moved, moved.claimed) == (1, 1)  # the free one went to Boris
    held.refresh_from_db()
    assert (held.agent_id, held.claimed_by_id) == (agents[0].pk, agents[0].pk)
    # Once the claim has run out (an agent who walked away), the entry may be handed over.
    CallListItem.objects.filter(pk=held.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=calllists.CLAIM_MINUTES + 1))
    moved = calllists.call_items_reassign(actor=marketer, call_list=call_list, item_ids=[held.pk], agent=agents[1])
    assert moved.moved == 1
    held.refresh_from_db()
    assert (held.agent_id, held.claimed_by_id) == (agents[1].pk, None)
    with pytest.raises(ValidationError):  # Anna comes back too late: nothing is written
        calllists.call_log(call_list=call_list, agent=agents[0], item_id=held.pk, result=CallResult.NO_ANSWER)


def test_reassign_skips_done_entries_people_the_agent_may_not_open_and_other_lists(marketer, owner, teammate):
    mine, theirs = ContactFactory.create_batch(2, owner=owner), ContactFactory(owner=teammate)
    call_list = build(marketer, [*mine, theirs], [owner, teammate])
    other = build(marketer, [ContactFactory(owner=owner)], [owner])
    done = calllists.call_next(call_list=call_list, agent=owner)
    calllists.call_log(call_list=call_list, agent=owner, item_id=done.pk, result=CallResult.NOT_INTERESTED)
    theirs_item = CallListItem.objects.get(call_list=call_list, contact=theirs)
    foreign = other.items.get()
    moved = calllists.call_items_reassign(actor=marketer, call_list=call_list, agent=owner,
                                          item_ids=[done.pk, theirs_item.pk, foreign.pk])
    assert (moved.moved, moved.unseen, moved.gone) == (0, 1, 2)
    assert CallListItem.objects.get(pk=theirs_item.pk).agent_id == teammate.pk
    assert CallListItem.objects.get(pk=foreign.pk).call_list_id == other.pk


def test_entries_page(client, marketer, owner, agents, django_assert_max_num_queries):
    call_list = build(marketer, ContactFactory.create_batch(30, owner=owner), agents[:2])
    calllists.call_next(call_list=call_list, agent=agents[0])
    client.force_login(marketer)
    url = reverse("marketing:call_list_entries", args=[call_list.pk])
    with django_assert_max_num_queries(15):
        body = client.get(url).content.decode()
    assert "on a call with" in body
    annas = list(CallListItem.objects.filter(call_list=call_list, agent=agents[0]).values_list("pk", flat=True))
    response = client.post(url, {"items": annas, "agent": agents[1].pk}, follow=True)
    body = response.content.decode()
    assert "14 people went to" in body and "1 person is being called right now" in body
    assert client.post(url, {"items": [], "agent": agents[1].pk}).status_code == 200  # nothing ticked
    assert client.post(url, {"items": annas[:1], "agent": 999999}).status_code == 200  # a forged agent
    assert CallListItem.objects.filter(call_list=call_list, agent=agents[0]).count() == 1


def test_who_manages_a_list(client, marketer, owner, agents, outsider, support_agent):
    call_list = build(marketer, ContactFactory.create_batch(2, owner=owner), agents[:1])
    names = ("call_list_edit", "call_list_add", "call_list_entries")
    client.force_login(outsider)  # reads campaigns, may not edit this one
    for name in names:
        assert client.get(reverse(f"marketing:{name}", args=[call_list.pk])).status_code == 403
    assert client.post(reverse("marketing:call_list_close", args=[call_list.pk])).status_code == 403
    assert "hand-over" not in client.get(call_list.get_absolute_url()).content.decode()
    client.force_login(support_agent)
    for name in names:
        assert client.get(reverse(f"marketing:{name}", args=[call_list.pk])).status_code == 404
    client.force_login(marketer)
    for name in names:
        assert client.get(reverse(f"marketing:{name}", args=[999999])).status_code == 404
    assert CallList.objects.get().closed_at is None


# --- interested: a deal ----------------------------------------------------------------------


def test_interested_creates_a_deal_attributed_to_the_campaign(marketer, owner):
    pipeline = PipelineFactory(is_default=True)
    account = AccountFactory(owner=owner, name="ООО Ромашка")
    person = ContactFactory(owner=owner, account=account)
    campaign = CampaignFactory(owner=marketer, name="Осень")
    call_list = build(marketer, [person], [owner], campaign=campaign)
    item = calllists.call_next(call_list=call_list, agent=owner)
    logged = calllists.call_log(call_list=call_list, agent=owner, item_id=item.pk, result=CallResult.INTERESTED,
                                notes="Нужно КП", create_lead=True, create_deal=True)
    deal = Opportunity.objects.get()
    assert logged.opportunity == deal and logged.lead is None and not Lead.objects.exists()
    assert (deal.account, deal.primary_contact, deal.owner, deal.pipeline) == (account, person, owner, pipeline)
    assert deal.stage == pipeline.stages.order_by("position").first() and deal.description == "Нужно КП"
    assert deal.name == "ООО Ромашка: Осень"
    assert DealAttribution.objects.get(opportunity=deal).campaign == campaign
    assert CallListItem.objects.get(pk=item.pk).opportunity == deal


def test_a_deal_needs_a_company(marketer, owner):
    PipelineFactory(is_default=True)
    person = ContactFactory(owner=owner, account=None)
    call_list = build(marketer, [person], [owner])
    item = calllists.call_next(call_list=call_list, agent=owner)
    with pytest.raises(ValidationError, match="has no company"):
        calllists.call_log(call_list=call_list, agent=owner, item_id=item.pk, result=CallResult.INTERESTED,
                           create_deal=True)
    assert CallListItem.objects.get(pk=item.pk).status == CallStatus.QUEUED
    assert not Opportunity.objects.exists()


def test_the_deal_choice_on_the_agents_screen(client, marketer, owner):
    PipelineFactory(is_default=True)
    person = ContactFactory(owner=owner, account=AccountFactory(owner=owner, name="Ромашка"))
    call_list = build(marketer, [person], [owner], distribution=CallDistribution.EVEN)
    client.force_login(owner)
    body = client.get(reverse("marketing:call_list_work", args=[call_list.pk])).content.decode()
    assert 'name="create_deal"' in body
    item = CallListItem.objects.get(claimed_by=owner)
    body = client.post(reverse("marketing:call_list_log", args=[call_list.pk]),
                       {"item": item.pk, "result": "interested", "create_deal": "on"}, follow=True).content.decode()
    assert "Deal Ромашка: " in body and Opportunity.objects.count() == 1
