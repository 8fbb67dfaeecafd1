"""A page never names a linked record the user may not open; linked visibility is consistent."""

from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from activities.models import Activity
from contacts.tests.factories import ContactFactory
from crm import handover
from crm.models import Role
from crm.pagination import COUNT_LIMIT, paginate
from crm.services import user_update
from crm.tests.factories import TeamFactory


def test_hidden_account_of_a_visible_contact_is_never_named(client, owner, outsider):
    secret = AccountFactory(owner=outsider, name="Secretco Holdings")
    contact = ContactFactory(owner=owner, account=secret, last_name="Visible", phones=["+442079460999"])
    client.force_login(owner)
    pages = [
        client.get(reverse("contacts:list")).content.decode(),
        client.get(contact.get_absolute_url()).content.decode(),
        client.get(reverse("search"), {"q": "Visible"}).content.decode(),
        client.get(reverse("autocomplete_contacts"), {"q": "Visible"}).content.decode(),
        client.get(reverse("lookup_phone"), {"phone": "+442079460999"}).content.decode(),
    ]
    for body in pages:
        assert "Secretco" not in body


def test_activity_on_a_visible_account_opens(client, owner, teammate, support_agent):
    account = AccountFactory(owner=owner)
    call = Activity.objects.create(kind="call", subject="Agent call", owner=support_agent, account=account)
    client.force_login(owner)
    assert client.get(call.get_absolute_url()).status_code == 200  # on my timeline, so I may open it
    assert client.get(reverse("activity_edit", args=[call.pk])).status_code == 403  # but it is not mine


def test_history_stays_readable_after_a_handover(client, manager, owner, teammate):
    account = AccountFactory(owner=owner)
    old_call = Activity.objects.create(kind="call", subject="Old call", owner=owner, team=owner.team,
                                       account=account)
    handover.handover_run(actor=manager, from_user=owner, to_user=teammate, kinds=["accounts"])
    client.force_login(teammate)
    assert "Old call" in client.get(account.get_absolute_url()).content.decode()
    assert client.get(old_call.get_absolute_url()).status_code == 200


def test_attendee_sees_the_meeting_they_are_invited_to(client, owner, outsider):
    meeting = Activity.objects.create(kind="meeting", subject="Joint visit", owner=owner, team=owner.team)
    meeting.attendees.add(outsider)
    client.force_login(outsider)
    assert client.get(meeting.get_absolute_url()).status_code == 200


def test_records_follow_their_owner_to_a_new_team(owner, manager):
    account = AccountFactory(owner=owner)
    new_team = TeamFactory(name="West")
    user_update(user=owner, role=Role.SALES_REP, team=new_team, territories=[], first_name="O", last_name="W")
    account.refresh_from_db()
    assert account.team == new_team
    assert not Account.objects.visible_to(manager).filter(pk=account.pk).exists()


def test_deep_pages_beyond_the_count_limit_are_capped(owner):
    Account.objects.bulk_create(Account(name=f"A{i}", owner=owner) for i in range(COUNT_LIMIT + 60))
    page = paginate(Account.objects.order_by("id"), str(10**18))
    assert not page.total_is_exact
    assert page.number == COUNT_LIMIT // 50 + 1  # one page past the counted rows, no deep OFFSET
    assert len(page.rows) == 50


def test_user_language_is_applied(client, owner):
    owner.language = "ru"
    owner.save()
    client.force_login(owner)
    response = client.get(reverse("home"))
    assert response.headers.get("Content-Language") == "ru"
