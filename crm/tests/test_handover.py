from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from activities import services as activity_services
from activities.models import Activity, Reminder
from contacts.tests.factories import ContactFactory
from crm.models import HandOver, Notification


def book_of(user, other_team_user):
    accounts = AccountFactory.create_batch(3, owner=user)
    contacts = ContactFactory.create_batch(2, owner=user, account=accounts[0])
    open_task = Activity.objects.create(kind="task", subject="Follow up", owner=user, team=user.team, status="open",
                                        account=accounts[0])
    done_task = Activity.objects.create(kind="task", subject="Old", owner=user, team=user.team, status="done",
                                        account=accounts[0])
    past_call = Activity.objects.create(kind="call", subject="Called", owner=user, team=user.team,
                                        account=accounts[0])
    foreign = AccountFactory(owner=other_team_user)
    return accounts, contacts, open_task, done_task, past_call, foreign


def test_preview_then_move_everything(client, manager, owner, teammate, outsider):
    accounts, contacts, open_task, done_task, past_call, foreign = book_of(owner, outsider)
    meeting = activity_services.activity_create(actor=owner, kind="meeting", subject="Kick-off",
                                                account=accounts[1], remind_minutes_before=30,
                                                occurred_at=timezone.now() + timedelta(days=2))
    client.force_login(manager)
    data = {"from_user": owner.pk, "to_user": teammate.pk, "kinds": ["accounts", "contacts", "activities"]}
    preview = client.post(reverse("handover"), {**data, "preview": "1"}).content.decode()
    assert "Move 7 records" in preview  # 3 accounts, 2 contacts, open task + upcoming meeting
    assert Account.objects.filter(owner=owner).count() == 3  # a preview changes nothing

    response = client.post(reverse("handover"), {**data, "confirm": "1", "note": "Olivia moved to Berlin"})
    assert response.status_code == 302
    assert Account.objects.filter(owner=teammate).count() == 3
    open_task.refresh_from_db()
    done_task.refresh_from_db()
    past_call.refresh_from_db()
    assert open_task.owner == teammate and done_task.owner == owner and past_call.owner == owner
    assert Reminder.objects.get(activity=meeting).user == teammate
    record = HandOver.objects.get()
    assert record.counts == {"accounts": 3, "contacts": 2, "activities": 2} and record.actor == manager
    assert Notification.objects.filter(user=teammate, kind="handover").exists()
    foreign.refresh_from_db()
    assert foreign.owner == outsider


def test_manager_cannot_take_another_teams_book(client, manager, outsider, teammate):
    AccountFactory(owner=outsider)
    client.force_login(manager)
    response = client.post(reverse("handover"), {"from_user": outsider.pk, "to_user": teammate.pk,
                                                 "kinds": ["accounts"], "confirm": "1"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Account.objects.get().owner == outsider


def test_reps_and_executives_may_not_hand_over(client, owner, executive):
    for user in (owner, executive):
        client.force_login(user)
        assert client.get(reverse("handover")).status_code == 403


def test_history_records_the_handover(client, manager, owner, teammate):
    account = AccountFactory(owner=owner)
    client.force_login(manager)
    client.post(reverse("handover"), {"from_user": owner.pk, "to_user": teammate.pk, "kinds": ["accounts"],
                                      "confirm": "1"})
    from crm.history import history_for

    entry = history_for(account, user=manager)[0]
    assert entry.user == manager and entry.reason == "hand-over"
    assert ("owner", str(owner), str(teammate)) in entry.changes
    body = client.get(account.get_absolute_url()).content.decode()
    assert "hand-over" in body


def test_the_whole_book_moves_open_deals_quotes_and_tasks_closed_deals_stay(client, manager, owner, teammate):
    from sales.models import Opportunity, Quote
    from sales.tests.factories import OpportunityFactory, PipelineFactory, stage
    from sales.tests.quote_factories import make_quote

    account = AccountFactory(owner=owner)
    pipeline = PipelineFactory()
    open_deals = OpportunityFactory.create_batch(2, owner=owner, account=account, pipeline=pipeline)
    won = OpportunityFactory(owner=owner, account=account, pipeline=pipeline, stage=stage(pipeline, "Won"))
    lost = OpportunityFactory(owner=owner, account=account, pipeline=pipeline, stage=stage(pipeline, "Lost"))
    draft = make_quote(owner, account=account)
    answered = make_quote(owner, account=account, contact=None)
    Quote.objects.filter(pk=answered.pk).update(status="accepted")
    task = Activity.objects.create(kind="task", subject="Send the contract", owner=owner, team=owner.team,
                                   status="open", account=account)
    client.force_login(manager)
    data = {"from_user": owner.pk, "to_user": teammate.pk,
            "kinds": ["accounts", "opportunities", "quotes", "activities"]}
    preview = client.post(reverse("handover"), {**data, "preview": "1"}).content.decode()
    assert "Open deals" in preview and "Open quotes" in preview and "Move 5 records" in preview

    client.post(reverse("handover"), {**data, "confirm": "1"})
    assert set(Opportunity.objects.filter(owner=teammate)) == set(open_deals)
    assert all(deal.team == teammate.team for deal in Opportunity.objects.filter(owner=teammate))
    won.refresh_from_db()
    lost.refresh_from_db()
    assert won.owner == owner and lost.owner == owner  # a closed deal is its seller's result
    draft.refresh_from_db()
    answered.refresh_from_db()
    task.refresh_from_db()
    assert draft.owner == teammate and answered.owner == owner and task.owner == teammate
    assert HandOver.objects.get().counts == {"accounts": 1, "opportunities": 2, "quotes": 1, "activities": 1}
    # The old rep sees none of the open book any more
    assert not Opportunity.objects.visible_to(owner).open().exists()
    assert not Quote.objects.visible_to(owner).filter(status__in=["draft", "sent"]).exists()
    assert not Activity.objects.visible_to(owner).filter(status="open").exists()
