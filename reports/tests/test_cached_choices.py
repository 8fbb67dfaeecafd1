"""The dashboards' filter selects come from cached lookup tables (crm/lookups.py, sales/filters.py):
the same options as the fields' querysets, for every role; a forged id still fails validation."""

import pytest
from django.urls import reverse

from crm.models import Role
from crm.tests.factories import TeamFactory, TerritoryFactory, UserFactory
from reports.forms import PipelineDashboardForm
from sales.tests.factories import PipelineFactory


@pytest.mark.parametrize("who", ["owner", "manager", "outsider", "executive", "admin", "teamless"])
def test_the_selects_list_what_the_querysets_list(cast, other_team, who, monkeypatch):
    from crm import lookups

    PipelineFactory(name="Продажи", is_default=True)
    TerritoryFactory(name="Україна")
    TeamFactory(name="Команда без менеджера")
    teamless = UserFactory(role=Role.SALES_REP, team=None, first_name="Без", last_name="Команды")
    user = teamless if who == "teamless" else cast[who]
    names = ("pipeline", "team", "owner", "territory")
    fast = {name: str(PipelineDashboardForm({}, user=user)[name]) for name in names}
    monkeypatch.setattr(lookups, "show_choices", lambda field, objects: None)  # the querysets' own choices
    slow = {name: str(PipelineDashboardForm({}, user=user)[name]) for name in names}
    assert fast == slow


def test_a_forged_team_is_still_refused(client, owner, other_team):
    client.force_login(owner)
    response = client.get(reverse("reports"), {"team": other_team.pk})
    assert "You cannot see this team" in response.content.decode()
