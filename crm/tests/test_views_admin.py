import re

from django.core import mail
from django.urls import reverse

from crm.models import Role, User
from crm.tests.factories import TeamFactory, TerritoryFactory


def test_admin_invites_a_user_who_sets_a_password(client, admin_user, team, django_capture_on_commit_callbacks):
    territory = TerritoryFactory(name="Bavaria")
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("user_invite"), {
            "email": "New.Person@Example.com", "first_name": "Nina", "last_name": "Neu", "role": Role.SUPPORT_AGENT,
            "team": team.pk, "territories": [territory.pk],
        })
    assert response.status_code == 302
    invited = User.objects.get(email__iexact="new.person@example.com")
    assert invited.role == Role.SUPPORT_AGENT and invited.team == team
    assert list(invited.territories.all()) == [territory]
    assert not invited.has_usable_password()
    assert len(mail.outbox) == 1

    client.logout()
    link = re.search(r"https?://[^/]+(/auth/invite/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    client.post(form_url, {"new_password1": "welcome-aboard-88", "new_password2": "welcome-aboard-88"})
    assert client.login(username=invited.email, password="welcome-aboard-88")


def test_invite_refuses_a_duplicate_address(client, admin_user, owner):
    client.force_login(admin_user)
    response = client.post(reverse("user_invite"), {"email": owner.email.upper(), "first_name": "X",
                                                    "role": Role.SALES_REP})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact=owner.email).count() == 1


def test_admin_sets_role_team_and_territories(client, admin_user, owner):
    new_team = TeamFactory(name="Gamma")
    territory = TerritoryFactory()
    client.force_login(admin_user)
    client.post(reverse("user_edit", args=[owner.pk]), {
        "first_name": "Olivia", "last_name": "Stone", "role": Role.SALES_MANAGER, "team": new_team.pk,
        "territories": [territory.pk],
    })
    owner.refresh_from_db()
    assert (owner.role, owner.team, owner.last_name) == (Role.SALES_MANAGER, new_team, "Stone")


def test_admin_cannot_deactivate_themselves(client, admin_user):
    client.force_login(admin_user)
    client.post(reverse("user_set_active", args=[admin_user.pk]), {"active": "0"})
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_admin_pages_are_for_admins_only(client, cast):
    for actor in ("owner", "manager", "executive", "support_agent"):
        client.force_login(cast[actor])
        for name in ("user_list", "user_invite", "team_list", "territory_list", "outbox"):
            assert client.get(reverse(name)).status_code == 403


def test_territory_tree_refuses_a_cycle(client, admin_user):
    europe = TerritoryFactory(name="Europe")
    germany = TerritoryFactory(name="Germany", parent=europe)
    client.force_login(admin_user)
    response = client.post(reverse("territory_edit", args=[europe.pk]), {"name": "Europe", "parent": germany.pk})
    assert "inside itself" in response.content.decode()
    europe.refresh_from_db()
    assert europe.parent is None


def test_team_with_manager(client, admin_user, owner):
    client.force_login(admin_user)
    client.post(reverse("team_list"), {"name": "Key Accounts", "manager": owner.pk})
    assert owner.managed_teams.get().name == "Key Accounts"
