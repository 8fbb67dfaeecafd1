"""The deal filters' selects (owner, team, pipeline, stage, territory) come from cached lookup tables
(crm/lookups.py) instead of five queries per page (the dashboards': reports/tests/test_cached_choices.py).
They must list exactly what the fields' querysets list, for every role, and show a change at once."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from crm.models import Role
from crm.tests.factories import TeamFactory, TerritoryFactory, UserFactory
from sales.filters import BoardFilter, OpportunityFilter
from sales.tests.factories import PipelineFactory

SELECTS = ("owner", "team", "pipeline", "stage", "territory")


@pytest.fixture
def world(cast, other_team):
    PipelineFactory(name="Продажи", is_default=True)
    PipelineFactory(name="Партнёры <B2B>")
    parent = TerritoryFactory(name="Україна")
    TerritoryFactory(name="Київ", parent=parent)
    TeamFactory(name="Команда без менеджера")
    teamless = UserFactory(role=Role.SALES_REP, team=None, first_name="Без", last_name="Команды")  # nobody's teammate
    UserFactory(role=Role.SALES_REP, team=None, first_name="Тоже", last_name="Без команды")
    UserFactory(role=Role.SALES_REP, team=other_team, is_active=False, first_name="Уволен")
    return {**cast, "teamless": teamless}


def rendered(form, names=SELECTS):
    return {name: str(form[name]) for name in names if name in form.fields}


@pytest.mark.parametrize("who", ["owner", "manager", "outsider", "executive", "admin_user", "teamless"])
def test_the_selects_list_what_the_querysets_list(world, who, monkeypatch):
    from crm import lookups

    user = world["admin" if who == "admin_user" else who]
    request = RequestFactory().get("/", {"owner": "", "team": ""})
    request.user = user
    fast = {
        "list": rendered(OpportunityFilter(request.GET, request=request).form),
        "board": rendered(BoardFilter(request.GET, request=request).form),
    }
    monkeypatch.setattr(lookups, "show_choices", lambda field, objects: None)  # the querysets' own choices
    slow = {
        "list": rendered(OpportunityFilter(request.GET, request=request).form),
        "board": rendered(BoardFilter(request.GET, request=request).form),
    }
    assert fast == slow
    assert "Без Команды" not in fast["list"]["owner"] or who in ("executive", "admin_user", "teamless")


def test_a_new_team_or_pipeline_shows_on_the_next_page(client, executive):
    client.force_login(executive)
    url = reverse("sales:opportunity_list")
    client.get(url)
    TeamFactory(name="Новая команда")
    PipelineFactory(name="Тендеры")
    body = client.get(url).content.decode()
    assert "Новая команда" in body and "Тендеры" in body


def test_a_forged_team_is_still_refused(client, owner, other_team):
    """The select comes from the cache; the submitted value is still checked against the queryset."""
    client.force_login(owner)
    response = client.get(reverse("sales:opportunity_list"), {"team": other_team.pk})
    assert response.status_code == 200
    assert response.context["filter"].form.errors["team"]
