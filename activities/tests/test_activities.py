from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from activities.models import Activity, Reminder
from contacts.tests.factories import ContactFactory
from crm.models import Notification


def test_log_a_call_from_a_contact(client, owner):
    account = AccountFactory(owner=owner)
    contact = ContactFactory(owner=owner, account=account)
    client.force_login(owner)
    page = client.get(reverse("activity_create"), {"kind": "call", "contact": contact.pk}).content.decode()
    assert f'value="{contact.pk}" selected' in page  # pre-filled
    response = client.post(reverse("activity_create") + "?kind=call", {
        "subject": "Discussed renewal", "contact": contact.pk, "direction": "out", "outcome": "connected",
        "occurred_at": "2026-11-20T10:00", "duration_minutes": 12, "body": "Wants a quote"})
    call = Activity.objects.get()
    assert response.status_code == 302
    assert call.kind == "call" and call.account == account  # the contact's account is filled in
    timeline = client.get(account.get_absolute_url()).content.decode()
    assert "Discussed renewal" in timeline


def test_activity_needs_an_account_or_contact(client, owner):
    client.force_login(owner)
    response = client.post(reverse("activity_create") + "?kind=call", {"subject": "Lost", "occurred_at":
                                                                        "2026-11-20T10:00"})
    assert "Link it to an account or a contact" in response.content.decode()
    assert not Activity.objects.exists()


def test_forged_contact_id_is_rejected(client, owner, outsider):
    hidden = ContactFactory(owner=outsider)
    client.force_login(owner)
    response = client.post(reverse("activity_create") + "?kind=note", {"subject": "x", "contact": hidden.pk})
    assert "Select a valid choice" in response.content.decode()
    assert not Activity.objects.exists()


def test_contact_of_another_account_is_refused(client, owner):
    contact = ContactFactory(owner=owner, account=AccountFactory(owner=owner))
    other = AccountFactory(owner=owner)
    client.force_login(owner)
    response = client.post(reverse("activity_create") + "?kind=note", {"subject": "x", "contact": contact.pk,
                                                                        "account": other.pk})
    assert "belongs to another account" in response.content.decode()


def test_meeting_with_reminder_creates_one_per_person(client, owner, teammate):
    account = AccountFactory(owner=owner)
    client.force_login(owner)
    starts = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("activity_create") + "?kind=meeting", {
        "subject": "Demo", "account": account.pk, "occurred_at": starts, "attendees": [teammate.pk],
        "remind_minutes_before": 15})
    meeting = Activity.objects.get()
    assert sorted(Reminder.objects.values_list("user__email", flat=True)) == sorted([owner.email, teammate.email])
    reminder = Reminder.objects.get(user=owner)
    assert reminder.fire_at == meeting.occurred_at - timedelta(minutes=15)


def test_assigning_a_task_notifies_the_assignee(client, manager, owner):
    client.force_login(manager)
    client.post(reverse("activity_create") + "?kind=task", {
        "subject": "Call the CFO", "occurred_at": "2026-12-01T09:00", "priority": "high", "status": "open",
        "owner": owner.pk})
    notification = Notification.objects.get(user=owner)
    assert "Call the CFO" in notification.text


def test_complete_a_task_from_my_day(client, owner):
    task = Activity.objects.create(kind="task", subject="Send offer", owner=owner, team=owner.team, status="open",
                                   occurred_at=timezone.now())
    client.force_login(owner)
    assert "Send offer" in client.get(reverse("home")).content.decode()
    client.post(reverse("activity_complete", args=[task.pk]), {"next": reverse("home")})
    task.refresh_from_db()
    assert task.status == "done" and task.completed_at is not None


def test_timeline_is_visible_to_whoever_sees_the_account(client, owner, support_agent, outsider):
    account = AccountFactory(owner=owner)
    call = Activity.objects.create(kind="call", subject="Private chat", owner=owner, team=owner.team,
                                   account=account)
    client.force_login(support_agent)
    assert client.get(call.get_absolute_url()).status_code == 200
    client.force_login(outsider)
    assert client.get(call.get_absolute_url()).status_code == 404
    assert client.get(reverse("timeline"), {"account": account.pk}).status_code == 404


@pytest.mark.parametrize("entries", [1, 50, 500])
def test_account_360_query_count_is_constant(client, owner, django_assert_max_num_queries, entries):
    account = AccountFactory(owner=owner)
    contact = ContactFactory(owner=owner, account=account)
    Activity.objects.bulk_create([
        Activity(kind="call", subject=f"Call {i}", owner=owner, team=owner.team, account=account, contact=contact,
                 occurred_at=timezone.now() - timedelta(hours=i)) for i in range(entries)])
    client.force_login(owner)
    client.get(account.get_absolute_url())
    with django_assert_max_num_queries(15):
        assert client.get(account.get_absolute_url()).status_code == 200


def test_timeline_pages_and_filters(client, owner):
    account = AccountFactory(owner=owner)
    now = timezone.now()
    Activity.objects.bulk_create(
        [Activity(kind="call", subject=f"Call {i:02d}", owner=owner, team=owner.team, account=account,
                  occurred_at=now - timedelta(minutes=i)) for i in range(30)]
        + [Activity(kind="note", subject="A note", owner=owner, team=owner.team, account=account,
                    occurred_at=now - timedelta(days=2))])
    client.force_login(owner)
    first = client.get(account.get_absolute_url()).content.decode()
    assert "Call 00" in first and "Call 29" not in first and "Show older" in first
    older = client.get(reverse("timeline"), {"account": account.pk, "cursor": first.split("cursor=")[1].split('"')[0]
                                             .replace("%7C", "|").replace("%3A", ":").replace("%2B", "+")},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "Call 29" in older and "Call 00" not in older and "A note" in older
    notes = client.get(reverse("timeline"), {"account": account.pk, "kind": "note"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert "A note" in notes and "Call 01" not in notes


def test_mentions_notify_colleagues_who_may_see_it(owner, manager, outsider):
    from activities import services as activity_services

    account = AccountFactory(owner=owner)
    manager_handle = manager.email.split("@")[0]
    outsider_handle = outsider.email.split("@")[0]
    note = activity_services.activity_create(actor=owner, kind="note", subject="Pricing", account=account,
                                             body=f"@{manager_handle} please approve. cc @{outsider_handle}")
    assert Notification.objects.filter(user=manager, kind="mention").count() == 1
    assert not Notification.objects.filter(user=outsider).exists()  # may not see the account: not told
    activity_services.activity_update(activity=note, actor=owner, body=note.body + " thanks")
    assert Notification.objects.filter(user=manager, kind="mention").count() == 1  # only new mentions


def test_timeline_shows_the_changes_that_matter(client, owner, manager, teammate):
    client.force_login(owner)
    client.post(reverse("accounts:create"), {"name": "Changing Ltd", "type": "prospect"})
    from accounts.models import Account

    account = Account.objects.get()
    client.post(reverse("accounts:edit", args=[account.pk]), {"name": "Changing Ltd", "type": "customer",
                                                              "industry": "Mining"})
    body = client.get(account.get_absolute_url()).content.decode()
    timeline = body[body.index('id="timeline-items"'):body.index('id="history"')]
    assert "Prospect → Customer" in timeline and "Mining" not in timeline  # industry is in History only
    changes = client.get(reverse("timeline"), {"account": account.pk, "kind": "change"},
                         HTTP_HX_REQUEST="true").content.decode()
    assert "Prospect → Customer" in changes
