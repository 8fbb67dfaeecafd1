"""Leads of a static list on a call list: entries of their own, shared among agents who may open the lead,
claimed and logged like a contact's; the call on the lead's timeline; "interested" qualifies the lead
(no second lead), "call back" is a task on the lead, "asked not to be called" disqualifies it; an agent
works only their own entries; progress counts the leads; a converted lead's entry calls its contact."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity, ActivityKind, CallOutcome, Reminder
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import Role
from crm.tests.factories import UserFactory
from marketing import calllists, services
from marketing.models import CallListItem, CallResult, CallStatus, LeadAttribution
from marketing.tests.factories import CampaignFactory
from sales import lead_services
from sales.models import Lead, LeadStatus
from sales.tests.factories import LeadFactory

pytestmark = [pytest.mark.django_db]


def list_of(actor, contacts=(), leads=()):
    static_list = services.static_list_create(actor=actor, name="Обзвін виставки")
    services.static_list_add(static_list=static_list, actor=actor,
                             contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]))
    services.static_list_add_leads(static_list=static_list, actor=actor,
                                   leads=Lead.objects.filter(pk__in=[lead.pk for lead in leads]))
    return static_list


def build(actor, agents, contacts=(), leads=(), campaign=None):
    campaign = campaign or CampaignFactory(owner=actor, name="Осінній обзвін", type="telemarketing")
    return calllists.call_list_create(actor=actor, campaign=campaign, name="Обзвін лідів", agents=agents,
                                      static_list=list_of(actor, contacts, leads), script="Добрий день!")


def lead(owner, **fields):
    fields.setdefault("phone", "+380 44 123 45 67")
    return LeadFactory(owner=owner, **fields)


@pytest.fixture
def agents(db):
    return [UserFactory(email="olena@example.com", first_name="Олена", role=Role.MARKETER),
            UserFactory(email="taras@example.com", first_name="Тарас", role=Role.MARKETER)]


def test_build_gives_open_leads_entries_shared_with_the_contacts(marketer, owner, agents):
    contacts = ContactFactory.create_batch(2, owner=owner, phones=["+7 495 123-45-67"])
    leads = [lead(owner) for _ in range(2)]
    phoneless = lead(owner, phone="")
    closed = lead(owner, status=LeadStatus.DISQUALIFIED, disqualify_reason="no_need")
    call_list = build(marketer, agents, contacts, [*leads, phoneless, closed])
    items = CallListItem.objects.filter(call_list=call_list)
    assert sorted(items.exclude(lead_called=None).values_list("lead_called_id", flat=True)) == sorted(
        lead.pk for lead in leads)
    assert items.count() == 4
    assert sorted(items.values_list("agent_id", flat=True)) == sorted([agents[0].pk] * 2 + [agents[1].pk] * 2)
    assert (call_list.left_out_no_phone, call_list.left_out_leads) == (1, 1)
    progress = calllists.progress(call_list)
    assert progress.total == 4 and sum(agent.to_call for agent in progress.agents) == 4


def test_a_lead_goes_only_to_an_agent_who_may_open_it(marketer, owner, teammate, outsider):
    mine, theirs, nobodys = lead(owner), lead(teammate), lead(outsider)
    call_list = build(marketer, [owner, teammate], leads=[mine, theirs, nobodys])
    assert dict(CallListItem.objects.filter(call_list=call_list).values_list("lead_called_id", "agent_id")) == {
        mine.pk: owner.pk, theirs.pk: teammate.pk}
    assert call_list.left_out_no_agent == 1


def test_interested_qualifies_the_lead_without_a_second_lead(marketer, owner, agents):
    called = lead(owner, last_name="Шевченко")
    campaign = CampaignFactory(owner=marketer, name="Осінній обзвін", type="telemarketing")
    call_list = build(marketer, [agents[0]], leads=[called], campaign=campaign)
    item = calllists.call_next(call_list=call_list, agent=agents[0])
    assert item.lead_called_id == called.pk
    logged = calllists.call_log(call_list=call_list, agent=agents[0], item_id=item.pk,
                                result=CallResult.INTERESTED, notes="Хоче комерційну пропозицію")
    called.refresh_from_db()
    assert called.status == LeadStatus.QUALIFIED and logged.qualified == called and logged.lead is None
    assert Lead.objects.count() == 1
    assert LeadAttribution.objects.get(lead=called).campaign == campaign
    call = Activity.objects.get(kind=ActivityKind.CALL)
    assert call.lead == called and call.contact is None and call.owner == agents[0]
    assert call.outcome == CallOutcome.CONNECTED and "Осінній обзвін" in call.subject
    item.refresh_from_db()
    assert item.status == CallStatus.DONE and item.result == CallResult.INTERESTED
    assert calllists.progress(call_list).agents[0].interested == 1


def test_an_attributed_lead_keeps_its_source_campaign(marketer, owner, agents):
    called = lead(owner)
    earlier = CampaignFactory(owner=marketer, name="Весна")
    LeadAttribution.objects.create(lead=called, campaign=earlier)
    call_list = build(marketer, [agents[0]], leads=[called])
    item = calllists.call_next(call_list=call_list, agent=agents[0])
    calllists.call_log(call_list=call_list, agent=agents[0], item_id=item.pk, result=CallResult.INTERESTED)
    assert LeadAttribution.objects.get(lead=called).campaign == earlier


def test_call_back_no_answer_and_do_not_call(marketer, owner, agents):
    first, second, third = lead(owner), lead(owner), lead(owner)
    call_list = build(marketer, [agents[0]], leads=[first, second, third])
    agent = agents[0]

    def log(result, **extra):
        item = calllists.call_next(call_list=call_list, agent=agent)
        return item, calllists.call_log(call_list=call_list, agent=agent, item_id=item.pk, result=result, **extra)

    when = timezone.now() + datetime.timedelta(days=1)
    item, logged = log(CallResult.CALLBACK, callback_at=when, notes="Після наради")
    task = Activity.objects.get(pk=logged.callback_task_id)
    assert task.kind == ActivityKind.TASK and task.lead_id == item.lead_called_id and task.occurred_at == when
    assert Reminder.objects.filter(activity=task, user=agent).exists()
    item.refresh_from_db()
    assert item.status == CallStatus.CALLBACK and item.due_at == when and item.agent == agent
    assert Lead.objects.get(pk=item.lead_called_id).status == LeadStatus.WORKING  # someone reached out

    item, _logged = log(CallResult.NO_ANSWER)
    item.refresh_from_db()
    assert item.status == CallStatus.QUEUED and item.due_at > timezone.now()
    assert Activity.objects.get(lead_id=item.lead_called_id).outcome == CallOutcome.NO_ANSWER

    item, _logged = log(CallResult.DO_NOT_CALL)
    refused = Lead.objects.get(pk=item.lead_called_id)
    assert refused.status == LeadStatus.DISQUALIFIED
    # Nobody calls them again: a new list leaves the disqualified lead out.
    again = build(marketer, [agent], leads=[refused])
    assert again.items.count() == 0 and again.left_out_leads == 1


def test_a_lead_entry_refuses_to_create_a_lead_or_a_deal(marketer, owner, agents):
    call_list = build(marketer, [agents[0]], leads=[lead(owner)])
    item = calllists.call_next(call_list=call_list, agent=agents[0])
    for option in ("create_lead", "create_deal"):
        with pytest.raises(ValidationError):
            calllists.call_log(call_list=call_list, agent=agents[0], item_id=item.pk,
                               result=CallResult.INTERESTED, **{option: True})
    assert not Activity.objects.exists() and Lead.objects.count() == 1


def test_a_lead_disqualified_after_the_build_is_handed_out_no_more(marketer, owner, agents):
    called = lead(owner)
    call_list = build(marketer, [agents[0]], leads=[called])
    Lead.objects.filter(pk=called.pk).update(status=LeadStatus.DISQUALIFIED, disqualify_reason="spam")
    assert calllists.call_next(call_list=call_list, agent=agents[0]) is None


def test_an_agent_gets_only_their_own_entries_and_cannot_log_anothers(client, marketer, owner, agents):
    leads = [lead(owner, last_name=f"Лід{n}") for n in range(2)]
    call_list = build(marketer, agents, leads=leads)
    first = calllists.call_next(call_list=call_list, agent=agents[0])
    assert first.agent_id == agents[0].pk
    second = calllists.call_next(call_list=call_list, agent=agents[1])
    assert second.agent_id == agents[1].pk and second.pk != first.pk
    assert calllists.call_next(call_list=call_list, agent=agents[1]).pk == second.pk  # the one they hold
    # The other agent forges the id of the first agent's entry: refused, nothing written.
    client.force_login(agents[1])
    response = client.post(reverse("marketing:call_list_log", args=[call_list.pk]),
                           {"item": first.pk, "result": "interested"}, follow=True)
    assert "This call is no longer yours to log" in response.content.decode()
    assert not Activity.objects.exists()
    assert Lead.objects.get(pk=first.lead_called_id).status == LeadStatus.NEW
    first.refresh_from_db()
    assert first.claimed_by == agents[0] and first.status == CallStatus.QUEUED


def test_a_rep_cannot_work_another_agents_lead_entry(client, marketer, owner, teammate):
    """Two reps on one list: each sees only their own leads; a forged id of the other's entry is refused."""
    mine, theirs = lead(owner), lead(teammate)
    call_list = build(marketer, [owner, teammate], leads=[mine, theirs])
    held = calllists.call_next(call_list=call_list, agent=teammate)
    assert held.lead_called_id == theirs.pk
    assert calllists.call_next(call_list=call_list, agent=owner).lead_called_id == mine.pk
    client.force_login(owner)
    response = client.post(reverse("marketing:call_list_log", args=[call_list.pk]),
                           {"item": held.pk, "result": "do_not_call"}, follow=True)
    assert "This call is no longer yours to log" in response.content.decode()
    assert Lead.objects.get(pk=theirs.pk).status == LeadStatus.NEW and not Activity.objects.exists()


def test_the_work_page_shows_the_lead(client, marketer, owner, agents, django_assert_max_num_queries):
    called = lead(owner, first_name="Оксана", last_name="Мельник", company="ТОВ Зоря")
    call_list = build(marketer, [agents[0]], leads=[called])
    client.force_login(agents[0])
    with django_assert_max_num_queries(15):
        body = client.get(reverse("marketing:call_list_work", args=[call_list.pk])).content.decode()
    assert "Оксана Мельник" in body and "ТОВ Зоря" in body and 'id="callee-is-lead"' in body
    assert f'href="tel:{called.phone_e164}"' in body and 'id="lead-outcome-note"' in body
    assert 'name="create_lead"' not in body
    response = client.post(reverse("marketing:call_list_log", args=[call_list.pk]),
                           {"item": CallListItem.objects.get().pk, "result": "interested"}, follow=True)
    assert "Lead Оксана Мельник" in response.content.decode() and "is qualified" in response.content.decode()
    detail = client.get(reverse("marketing:call_list_detail", args=[call_list.pk])).content.decode()
    assert "Оксана Мельник" in detail


def test_the_list_page_does_not_name_a_lead_the_reader_may_not_open(client, marketer, owner, outsider, agents):
    called = lead(owner, first_name="Прихований", last_name="Лід")
    call_list = build(marketer, [agents[0]], leads=[called])
    item = calllists.call_next(call_list=call_list, agent=agents[0])
    calllists.call_log(call_list=call_list, agent=agents[0], item_id=item.pk, result=CallResult.NOT_INTERESTED)
    client.force_login(outsider)  # a rep of another team: reads campaigns, not this lead
    body = client.get(reverse("marketing:call_list_detail", args=[call_list.pk])).content.decode()
    assert "a lead you cannot open" in body and "Прихований" not in body


def test_a_converted_leads_entry_calls_its_contact(marketer, owner, agents):
    called = lead(owner, company="ТОВ Схід")
    call_list = build(marketer, [agents[0]], leads=[called])
    lead_services.lead_convert(lead=called, actor=owner, account_name="ТОВ Схід")
    called.refresh_from_db()
    item = CallListItem.objects.get(call_list=call_list)
    assert item.lead_called_id is None and item.contact_id == called.converted_contact_id


def test_a_removed_agents_lead_entries_go_to_an_agent_who_may_open_them(marketer, owner, agents):
    leads = [lead(owner) for _ in range(4)]
    call_list = build(marketer, agents, leads=leads)
    handed = calllists.call_list_update(actor=marketer, call_list=call_list, name=call_list.name, script="",
                                        agents=[agents[0]])
    assert handed == 2
    assert set(CallListItem.objects.filter(call_list=call_list).values_list("agent_id", flat=True)) == {agents[0].pk}
    # Handing entries over: a rep who may not open the leads gets none of them.
    rep = UserFactory(role=Role.SALES_REP)
    call_list.agents.add(rep)
    moved = calllists.call_items_reassign(actor=marketer, call_list=call_list, agent=rep,
                                          item_ids=list(call_list.items.values_list("pk", flat=True)))
    assert (moved.moved, moved.unseen) == (0, 4)


def test_adding_contacts_to_a_list_that_calls_leads(marketer, owner, agents):
    """The list's lead entries have no contact: "not already on the list" must not trip over their NULL."""
    call_list = build(marketer, [agents[0]], leads=[lead(owner)])
    contacts = ContactFactory.create_batch(2, owner=owner, phones=["+7 495 123-45-67"])
    added = calllists.call_list_add(actor=marketer, call_list=call_list, static_list=list_of(marketer, contacts))
    assert (added.added, added.already) == (2, 0)
    assert call_list.items.count() == 3


def test_query_counts_with_lead_entries(client, marketer, owner, agents, django_assert_max_num_queries):
    """The list's page, the entries to hand over and the agent's screen: the same budget with leads on them."""
    for size in (1, 30):
        contacts = ContactFactory.create_batch(size, owner=owner, phones=["+7 495 123-45-67"])
        call_list = build(marketer, agents, contacts, [lead(owner) for _ in range(size)])
        for _ in range(min(size, 4)):
            for agent in agents:
                item = calllists.call_next(call_list=call_list, agent=agent)
                if item:
                    calllists.call_log(call_list=call_list, agent=agent, item_id=item.pk,
                                       result=CallResult.NOT_INTERESTED)
        client.force_login(marketer)
        for url in (reverse("marketing:call_list_detail", args=[call_list.pk]),
                    reverse("marketing:call_list_entries", args=[call_list.pk])):
            with django_assert_max_num_queries(15):
                assert client.get(url).status_code == 200
        client.force_login(agents[0])
        with django_assert_max_num_queries(15):
            assert client.get(reverse("marketing:call_list_work", args=[call_list.pk])).status_code == 200
