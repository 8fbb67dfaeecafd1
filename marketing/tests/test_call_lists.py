"""Telemarketing call lists: built from a static list or a segment with do-not-call and phoneless
people left out, shared among agents (evenly, by territory or one shared queue) so that each agent only
gets people they may open; the claim that never hands two agents the same person; each outcome logged
as a call on the contact's timeline, with call-back tasks, leads, member statuses and "do not call"."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from activities.models import Activity, ActivityKind, CallOutcome, Reminder
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import Role, Territory
from crm.tests.factories import UserFactory
from marketing import calllists, services
from marketing.models import (
    CallDistribution,
    CallList,
    CallListItem,
    CallResult,
    CallStatus,
    CampaignMember,
    LeadAttribution,
    MemberStatus,
)
from marketing.tests.factories import CampaignFactory
from sales.models import Lead


def static_list_of(actor, contacts, name="Обзвон"):
    static_list = services.static_list_create(actor=actor, name=name)
    services.static_list_add(static_list=static_list, actor=actor,
                             contacts=Contact.objects.filter(pk__in=[c.pk for c in contacts]))
    return static_list


def build(actor, contacts, agents, distribution=CallDistribution.EVEN, campaign=None):
    campaign = campaign or CampaignFactory(owner=actor, type="telemarketing")
    return calllists.call_list_create(actor=actor, campaign=campaign, name="Обзвон клиентов", agents=agents,
                                      static_list=static_list_of(actor, contacts), distribution=distribution,
                                      script="Здравствуйте! Меня зовут …")


@pytest.fixture
def agents(db):
    return [UserFactory(email="anna@example.com", first_name="Анна", role=Role.MARKETER),
            UserFactory(email="boris@example.com", first_name="Борис", role=Role.MARKETER)]


def test_build_leaves_out_do_not_call_and_no_phone_and_shares_evenly(marketer, owner, agents):
    callable_people = ContactFactory.create_batch(4, owner=owner, phones=["+7 495 123-45-67"])
    refused = ContactFactory(owner=owner, do_not_call=True)
    phoneless = ContactFactory(owner=owner, phones=[])
    call_list = build(marketer, [*callable_people, refused, phoneless], agents)
    assert call_list.left_out_do_not_call == 1 and call_list.left_out_no_phone == 1
    items = CallListItem.objects.filter(call_list=call_list)
    assert sorted(items.values_list("contact_id", flat=True)) == sorted(c.pk for c in callable_people)
    assert sorted(items.values_list("agent_id", flat=True)) == sorted([agents[0].pk] * 2 + [agents[1].pk] * 2)


def test_each_person_goes_only_to_an_agent_who_may_open_them(marketer, owner, teammate, outsider):
    mine = ContactFactory.create_batch(2, owner=owner)
    theirs = ContactFactory(owner=teammate)
    nobodys = ContactFactory(owner=outsider)  # neither rep may open it
    call_list = build(marketer, [*mine, theirs, nobodys], [owner, teammate])
    assert dict(CallListItem.objects.filter(call_list=call_list).values_list("contact_id", "agent_id")) == {
        mine[0].pk: owner.pk, mine[1].pk: owner.pk, theirs.pk: teammate.pk}
    assert call_list.left_out_no_agent == 1


def test_by_territory_then_evenly(marketer, owner, agents):
    europe = Territory.objects.create(name="Европа")
    ukraine = Territory.objects.create(name="Украина", parent=europe)
    agents[1].territories.add(europe)
    kyiv = ContactFactory(owner=owner, account=AccountFactory(owner=owner, territory=ukraine))
    others = ContactFactory.create_batch(2, owner=owner)
    call_list = build(marketer, [kyiv, *others], agents, distribution=CallDistribution.TERRITORY)
    assigned = dict(CallListItem.objects.filter(call_list=call_list).values_list("contact_id", "agent_id"))
    assert assigned[kyiv.pk] == agents[1].pk  # Europe covers Ukraine
    assert sorted(assigned[c.pk] for c in others) == [agents[0].pk, agents[0].pk] or \
        sorted(assigned[c.pk] for c in others) == sorted([agents[0].pk, agents[1].pk])


def test_no_agent_or_no_audience_choice_is_refused(marketer, owner):
    with pytest.raises(ValidationError):
        build(marketer, [ContactFactory(owner=owner)], [])
    assert not CallList.objects.exists()


def test_two_agents_never_get_the_same_person(marketer, owner, agents):
    people = ContactFactory.create_batch(3, owner=owner)
    call_list = build(marketer, people, agents, distribution=CallDistribution.SHARED)
    first = calllists.call_next(call_list=call_list, agent=agents[0])
    second = calllists.call_next(call_list=call_list, agent=agents[1])
    assert first.contact_id != second.contact_id
    assert calllists.call_next(call_list=call_list, agent=agents[0]).pk == first.pk  # a reload: the same person
    # Only the holder may log it.
    with pytest.raises(ValidationError):
        calllists.call_log(call_list=call_list, agent=agents[1], item_id=first.pk, result=CallResult.NOT_INTERESTED)
    assert not Activity.objects.exists()


def test_a_claim_that_ran_out_is_offered_again(marketer, owner, agents):
    person = ContactFactory(owner=owner)
    call_list = build(marketer, [person], agents, distribution=CallDistribution.SHARED)
    held = calllists.call_next(call_list=call_list, agent=agents[0])
    assert calllists.call_next(call_list=call_list, agent=agents[1]) is None
    CallListItem.objects.filter(pk=held.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=calllists.CLAIM_MINUTES + 1))
    taken = calllists.call_next(call_list=call_list, agent=agents[1])
    assert taken.pk == held.pk
    with pytest.raises(ValidationError):  # the first agent comes back too late
        calllists.call_log(call_list=call_list, agent=agents[0], item_id=held.pk, result=CallResult.NO_ANSWER)


@pytest.mark.django_db(transaction=True)
def test_a_row_another_agent_is_claiming_is_skipped_not_shared(marketer, owner, agents):
    people = ContactFactory.create_batch(2, owner=owner)
    call_list = build(marketer, people, agents, distribution=CallDistribution.SHARED)
    first_item = CallListItem.objects.filter(call_list=call_list).order_by("id").first()
    got = {}
    locked, done = threading.Event(), threading.Event()

    def other_agent():
        locked.wait(5)
        try:
            got["item"] = calllists.call_next(call_list=call_list, agent=agents[1])
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=other_agent)
    thread.start()
    with transaction.atomic():  # agent 0 is in the middle of claiming the first row
        CallListItem.objects.select_for_update().get(pk=first_item.pk)
        locked.set()
        assert done.wait(10), "the second agent waited for the lock instead of skipping the row"
    thread.join()
    assert got["item"].pk != first_item.pk


def test_outcomes(marketer, owner, agents, settings):
    people = ContactFactory.create_batch(5, owner=owner, phones=["+380 44 123 45 67"])
    campaign = CampaignFactory(owner=marketer, name="Осенний обзвон", type="telemarketing")
    call_list = build(marketer, people, [agents[0]], campaign=campaign)
    agent = agents[0]

    def log(result, **extra):
        item = calllists.call_next(call_list=call_list, agent=agent)
        return item, calllists.call_log(call_list=call_list, agent=agent, item_id=item.pk, result=result, **extra)

    # Interested: a call on the timeline, a lead attributed to the campaign, a responded member.
    item, logged = log(CallResult.INTERESTED, notes="Хочет КП на 150 000 ₽", create_lead=True)
    call = Activity.objects.get(kind=ActivityKind.CALL, contact=item.contact)
    assert call.outcome == CallOutcome.CONNECTED and call.owner == agent and "Осенний обзвон" in call.subject
    assert LeadAttribution.objects.get(lead=logged.lead).campaign == campaign
    assert logged.lead.owner == agent and logged.lead.last_name == item.contact.last_name
    assert CampaignMember.objects.get(campaign=campaign, contact=item.contact).status == MemberStatus.RESPONDED

    # Call back: a task with a reminder, and the person comes back to the same agent when it is due.
    when = timezone.now() + datetime.timedelta(days=1)
    item, logged = log(CallResult.CALLBACK, callback_at=when)
    task = Activity.objects.get(pk=logged.callback_task_id)
    assert task.kind == ActivityKind.TASK and task.occurred_at == when and task.contact == item.contact
    assert Reminder.objects.filter(activity=task, user=agent).exists()
    item.refresh_from_db()
    assert item.status == CallStatus.CALLBACK and item.due_at == when

    # No answer: tried again later, done after the third time.
    item, _ = log(CallResult.NO_ANSWER)
    item.refresh_from_db()
    assert item.status == CallStatus.QUEUED and item.due_at > timezone.now()
    assert Activity.objects.filter(contact=item.contact, outcome=CallOutcome.NO_ANSWER).count() == 1

    # Asked not to be called: the contact is marked, and no list offers them any more.
    item, _ = log(CallResult.DO_NOT_CALL)
    assert Contact.objects.get(pk=item.contact_id).do_not_call

    # A call back at a time in the past is refused and changes nothing.
    item = calllists.call_next(call_list=call_list, agent=agent)
    calls_before = Activity.objects.count()
    with pytest.raises(ValidationError):
        calllists.call_log(call_list=call_list, agent=agent, item_id=item.pk, result=CallResult.CALLBACK,
                           callback_at=timezone.now() - datetime.timedelta(minutes=1))
    assert Activity.objects.count() == calls_before
    calllists.call_log(call_list=call_list, agent=agent, item_id=item.pk, result=CallResult.NOT_INTERESTED)
    assert calllists.call_next(call_list=call_list, agent=agent) is None  # the rest are due later

    # The due call-back comes back first.
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    CallListItem.objects.filter(status=CallStatus.CALLBACK).update(due_at=an_hour_ago)
    assert calllists.call_next(call_list=call_list, agent=agent).status == CallStatus.CALLBACK

    progress = calllists.progress(call_list)
    assert progress.total == 5 and progress.done == 3 and progress.callbacks == 1 and progress.to_call == 1
    assert dict((value, count) for value, _label, count in progress.results)[CallResult.INTERESTED] == 1


def test_no_answer_three_times_is_done(marketer, owner, agents):
    call_list = build(marketer, [ContactFactory(owner=owner)], [agents[0]])
    for _attempt in range(calllists.MAX_NO_ANSWER):
        item = calllists.call_next(call_list=call_list, agent=agents[0])
        calllists.call_log(call_list=call_list, agent=agents[0], item_id=item.pk, result=CallResult.NO_ANSWER)
        CallListItem.objects.filter(pk=item.pk).update(due_at=None)
    item.refresh_from_db()
    assert item.status == CallStatus.DONE and item.attempts == calllists.MAX_NO_ANSWER


def test_someone_marked_do_not_call_after_the_build_is_not_offered(marketer, owner, agents):
    person = ContactFactory(owner=owner)
    call_list = build(marketer, [person], [agents[0]])
    Contact.objects.filter(pk=person.pk).update(do_not_call=True)
    assert calllists.call_next(call_list=call_list, agent=agents[0]) is None


def test_a_converted_member_stays_converted(marketer, owner, agents):
    person = ContactFactory(owner=owner)
    campaign = CampaignFactory(owner=marketer)
    services.campaign_members_add(campaign=campaign, actor=marketer, contacts=[person],
                                  status=MemberStatus.CONVERTED)
    call_list = build(marketer, [person], [agents[0]], campaign=campaign)
    item = calllists.call_next(call_list=call_list, agent=agents[0])
    calllists.call_log(call_list=call_list, agent=agents[0], item_id=item.pk, result=CallResult.INTERESTED)
    assert CampaignMember.objects.get(campaign=campaign, contact=person).status == MemberStatus.CONVERTED
    assert not Lead.objects.exists()  # no lead unless asked for


# --- pages ---------------------------------------------------------------------------------


def test_build_page(client, marketer, owner, agents):
    campaign = CampaignFactory(owner=marketer, name="Весна")
    static_list = static_list_of(marketer, ContactFactory.create_batch(2, owner=owner))
    client.force_login(marketer)
    url = reverse("marketing:call_list_create", args=[campaign.pk])
    response = client.post(url, {"name": "Обзвон", "agents": [a.pk for a in agents], "distribution": "even"})
    assert "Build it either from a segment or from a static list." in response.content.decode()
    assert not CallList.objects.exists()
    response = client.post(url, {"name": "Обзвон", "static_list": static_list.pk, "agents": [a.pk for a in agents],
                                 "distribution": "even", "script": "Добрый день"}, follow=True)
    assert "Call list Обзвон was built: 2 people to call." in response.content.decode()
    assert CallList.objects.get().items.count() == 2


def test_only_who_edits_the_campaign_builds_a_list(client, owner, outsider, support_agent):
    campaign = CampaignFactory(owner=owner)
    for user, status in ((outsider, 403), (support_agent, 404)):  # reads the campaign / does not
        client.force_login(user)
        assert client.get(reverse("marketing:call_list_create", args=[campaign.pk])).status_code == status


def test_only_agents_work_the_list_and_support_sees_nothing(client, marketer, owner, agents, support_agent,
                                                            outsider):
    call_list = build(marketer, ContactFactory.create_batch(2, owner=owner), [agents[0]])
    client.force_login(outsider)  # reads campaigns, is no agent of the list
    assert client.get(reverse("marketing:call_list_detail", args=[call_list.pk])).status_code == 200
    for name in ("call_list_work",):
        assert client.get(reverse(f"marketing:{name}", args=[call_list.pk])).status_code == 404
    for name in ("call_list_log", "call_list_release"):
        assert client.post(reverse(f"marketing:{name}", args=[call_list.pk]), {}).status_code == 404
    assert not CallListItem.objects.filter(claimed_by__isnull=False).exists()
    client.force_login(support_agent)
    for name in ("call_list_detail", "call_list_work"):
        assert client.get(reverse(f"marketing:{name}", args=[call_list.pk])).status_code == 404


def test_work_log_and_release_pages(client, marketer, owner, agents):
    people = ContactFactory.create_batch(2, owner=owner, first_name="Олег")
    call_list = build(marketer, people, [agents[0]])
    client.force_login(agents[0])
    work = reverse("marketing:call_list_work", args=[call_list.pk])
    body = client.get(work).content.decode()
    item = CallListItem.objects.get(claimed_by=agents[0])
    assert "Здравствуйте! Меня зовут" in body and f'href="tel:{item.contact.phones[0]}"' in body
    log = reverse("marketing:call_list_log", args=[call_list.pk])
    response = client.post(log, {"item": item.pk, "result": "callback"})
    assert response.status_code == 200 and "Choose when to call back." in response.content.decode()
    assert not Activity.objects.exists()
    response = client.post(log, {"item": item.pk, "result": "not_interested", "notes": "Перезвонят сами"},
                           follow=True)
    assert "Logged: Not interested." in response.content.decode()
    assert Activity.objects.get().body == "Перезвонят сами"
    response = client.post(log, {"item": item.pk, "result": "not_interested"}, follow=True)  # a double click
    assert "This call is no longer yours to log" in response.content.decode()
    assert Activity.objects.count() == 1
    client.post(reverse("marketing:call_list_release", args=[call_list.pk]))
    assert not CallListItem.objects.filter(claimed_by__isnull=False).exists()


def test_query_counts(client, marketer, owner, agents, django_assert_max_num_queries):
    def pages(size):
        campaign = CampaignFactory(owner=marketer)
        call_list = build(marketer, ContactFactory.create_batch(size, owner=owner), agents, campaign=campaign)
        for _ in range(min(size, 4)):
            for agent in agents:
                item = calllists.call_next(call_list=call_list, agent=agent)
                if item:
                    calllists.call_log(call_list=call_list, agent=agent, item_id=item.pk, result=CallResult.INTERESTED,
                                       create_lead=True)
        return campaign, call_list

    for size in (1, 30):
        campaign, call_list = pages(size)
        client.force_login(marketer)
        for url in (reverse("marketing:call_list_detail", args=[call_list.pk]), campaign.get_absolute_url()):
            with django_assert_max_num_queries(15):
                assert client.get(url).status_code == 200
        client.force_login(agents[0])
        with django_assert_max_num_queries(15):
            assert client.get(reverse("marketing:call_list_work", args=[call_list.pk])).status_code == 200


def test_the_shared_queue_offers_each_agent_only_people_they_may_open(marketer, owner, teammate):
    mine, theirs = ContactFactory(owner=owner), ContactFactory(owner=teammate)
    call_list = build(marketer, [theirs, mine], [owner, teammate], distribution=CallDistribution.SHARED)
    assert calllists.call_next(call_list=call_list, agent=owner).contact_id == mine.pk
    calllists.call_release(call_list=call_list, agent=owner)
    Contact.objects.filter(pk=mine.pk).update(owner=teammate, team=teammate.team)
    assert calllists.call_next(call_list=call_list, agent=owner) is None  # no longer theirs to see


def test_my_day_shows_the_lists_with_people_waiting(client, marketer, owner, agents, django_assert_max_num_queries):
    call_list = build(marketer, ContactFactory.create_batch(2, owner=owner), agents)
    client.force_login(agents[0])
    with django_assert_max_num_queries(15):
        body = client.get("/").content.decode()
    assert reverse("marketing:call_list_work", args=[call_list.pk]) in body and "1 person waiting" in body
    client.force_login(marketer)  # no agent of it
    assert reverse("marketing:call_list_work", args=[call_list.pk]) not in client.get("/").content.decode()
