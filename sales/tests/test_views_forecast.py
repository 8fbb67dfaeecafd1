"""Forecast and targets pages: who sees what, drill-down, inline category changes, target cells,
and a constant number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.tests.factories import UserFactory
from sales.models import ForecastCategory, Opportunity, SalesTarget, TargetPeriod
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def pipeline(db):
    return PipelineFactory()


def commit_deal(pipeline, owner, amount, closes, **extra):
    extra.setdefault("forecast_category", ForecastCategory.COMMIT)
    return OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"),
                              amount=Decimal(amount), expected_close_date=closes, **extra)


@pytest.fixture
def deals(pipeline, owner, teammate, outsider, today):
    return {
        "owner": commit_deal(pipeline, owner, "1111.00", today, name="Owner deal"),
        "teammate": commit_deal(pipeline, teammate, "2222.00", today, name="Teammate deal"),
        "outsider": commit_deal(pipeline, outsider, "7777.00", today, name="Outsider deal"),
    }


def get(client, user, name="sales:forecast", data=None, **headers):
    client.force_login(user)
    return client.get(reverse(name), data or {}, **headers)


# --- Visibility ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sales:forecast", "sales:targets", "sales:forecast_deals"])
@pytest.mark.parametrize("role", ["support_agent", "marketer"])
def test_support_and_marketing_get_404(client, cast, name, role):
    assert get(client, cast[role], name).status_code == 404


@pytest.mark.parametrize("role", ["support_agent", "marketer"])
def test_support_and_marketing_cannot_post(client, cast, deals, role, today):
    client.force_login(cast[role])
    assert client.post(reverse("sales:target_save"), {"subject": f"user:{cast['owner'].pk}", "period": "month",
                                                       "period_start": today, "amount": "1"}).status_code == 404
    assert client.post(reverse("sales:forecast_deal_category", args=[deals["owner"].pk]),
                       {"forecast_category": "omitted", "version": 1}).status_code == 404


def test_rep_sees_only_own_figures_even_when_forging_owner(client, owner, teammate, deals):
    response = get(client, owner, data={"owner": teammate.pk, "group": "team"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "1,111.00" in content
    assert "2,222.00" not in content and "7,777.00" not in content and str(teammate) not in content
    assert "You cannot see this person&#x27;s forecast." in content
    assert response.context["forecast"].group_by == "owner"
    assert [row.key for row in response.context["forecast"].rows] == [owner.pk]


def test_rep_drill_down_of_someone_else_is_empty(client, owner, teammate, deals):
    response = get(client, owner, "sales:forecast_deals", {"figure": "commit", "key": teammate.pk})
    assert response.status_code == 200
    assert "Teammate deal" not in response.content.decode()


def test_manager_sees_the_team_not_the_outsider(client, manager, owner, teammate, outsider, deals):
    response = get(client, manager)
    keys = [row.key for row in response.context["forecast"].rows]
    assert owner.pk in keys and teammate.pk in keys and outsider.pk not in keys
    content = response.content.decode()
    assert "2,222.00" in content and "7,777.00" not in content
    assert response.context["forecast"].total.commit == Decimal("3333.00")


def test_manager_cannot_pick_a_team_they_do_not_manage(client, manager, other_team, deals):
    response = get(client, manager, data={"team": other_team.pk, "group": "team"})
    assert "You cannot see this team&#x27;s forecast." in response.content.decode()
    assert [row.key for row in response.context["forecast"].rows] == [manager.team_id]


@pytest.mark.parametrize("role", ["executive", "admin"])
def test_executive_and_admin_see_everyone(client, cast, deals, role):
    response = get(client, cast[role])
    assert response.context["forecast"].total.commit == Decimal("11110.00")
    by_team = get(client, cast[role], data={"group": "team"})
    assert len(by_team.context["forecast"].rows) == 2


def test_figures_link_to_the_list_and_the_drill_down(client, manager, owner, deals, today):
    content = get(client, manager).content.decode()
    assert f"owner={owner.pk}" in content and "status=open" in content and "forecast_category=commit" in content
    assert reverse("sales:forecast_deals") in content
    assert 'id="forecast-chart-data"' in content


def test_period_navigation(client, manager, deals):
    response = get(client, manager, data={"period": "quarter", "start": "2026-05-17"})
    period = response.context["forecast"].period
    assert (period.start, period.end) == (datetime.date(2026, 4, 1), datetime.date(2026, 7, 1))
    assert "start=2026-01-01" in response.context["previous_url"]
    assert "start=2026-07-01" in response.context["next_url"]


def test_bad_period_falls_back_with_a_message(client, manager, deals):
    response = get(client, manager, data={"period": "decade", "start": "yesterday"})
    assert response.status_code == 200
    assert response.context["forecast"].period.kind == "month"
    assert response.context["form"].errors


def test_htmx_refresh_renders_only_the_figures(client, manager, deals):
    response = get(client, manager, HTTP_HX_TARGET="forecast-figures", **HTMX)
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="forecast-figures"') and "<html" not in content


# --- Drill-down and the inline category -------------------------------------------------------------------


def test_drill_down_lists_the_deals(client, manager, owner, deals):
    response = get(client, manager, "sales:forecast_deals", {"figure": "commit", "key": owner.pk}, **HTMX)
    content = response.content.decode()
    assert "Owner deal" in content and "Teammate deal" not in content and "<html" not in content
    assert f'name="version" value="{deals["owner"].lock_version}"' in content
    assert get(client, manager, "sales:forecast_deals", {"figure": "commit"}).status_code == 200  # full page


def test_executive_reads_the_drill_down_without_a_category_form(client, executive, deals):
    content = get(client, executive, "sales:forecast_deals", {"figure": "commit"}, **HTMX).content.decode()
    assert "Outsider deal" in content and 'name="forecast_category"' not in content


def category(client, user, deal, value, version, **headers):
    client.force_login(user)
    return client.post(reverse("sales:forecast_deal_category", args=[deal.pk]),
                       {"forecast_category": value, "version": version}, **headers)


def test_manager_changes_a_deals_category(client, manager, deals):
    deal = deals["teammate"]
    response = category(client, manager, deal, "best_case", deal.lock_version, **HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "forecast-changed"
    deal.refresh_from_db()
    assert deal.forecast_category == "best_case" and deal.lock_version == 2
    assert 'name="version" value="2"' in response.content.decode()


def test_stale_category_change_is_refused_and_reloaded(client, owner, deals):
    deal = deals["owner"]
    Opportunity.objects.filter(pk=deal.pk).update(lock_version=5, forecast_category="best_case")
    response = category(client, owner, deal, "omitted", 1, **HTMX)
    content = response.content.decode()
    assert "Someone else changed this deal" in content
    assert 'name="version" value="5"' in content and '<option value="best_case" selected>' in content
    assert "HX-Trigger" not in response
    deal.refresh_from_db()
    assert deal.forecast_category == "best_case"


def test_category_change_without_htmx_redirects(client, owner, deals):
    response = category(client, owner, deals["owner"], "pipeline", 1)
    assert response.status_code == 302
    deals["owner"].refresh_from_db()
    assert deals["owner"].forecast_category == "pipeline"


def test_category_change_rules(client, owner, executive, deals, pipeline):
    assert category(client, owner, deals["outsider"], "omitted", 1).status_code == 404
    assert category(client, executive, deals["owner"], "omitted", 1).status_code == 403
    response = category(client, owner, deals["owner"], "nonsense", 1, **HTMX)
    assert "Choose a forecast category." in response.content.decode()
    closed = OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Won"))
    response = category(client, owner, closed, "commit", 1, **HTMX)
    assert "This deal is closed" in response.content.decode()
    deals["owner"].refresh_from_db()
    assert deals["owner"].forecast_category == "commit"


def test_deal_names_are_escaped(client, owner, pipeline, today):
    commit_deal(pipeline, owner, "10.00", today, name="<script>alert(1)</script>")
    content = get(client, owner, "sales:forecast_deals", {"figure": "commit"}, **HTMX).content.decode()
    assert "<script>alert(1)" not in content and "&lt;script&gt;" in content


# --- Targets --------------------------------------------------------------------------------------------


def save(client, user, subject, **data):
    client.force_login(user)
    payload = {"subject": subject, "period": "month", "period_start": "2026-03-01", **data}
    return client.post(reverse("sales:target_save"), payload, **HTMX)


def test_manager_sees_editable_cells_for_team_and_members(client, manager, owner, outsider):
    content = get(client, manager, "sales:targets", {"year": 2026}).content.decode()
    assert f'value="user:{owner.pk}"' in content and f'value="team:{owner.team_id}"' in content
    assert f"user:{outsider.pk}" not in content


def test_rep_and_executive_read_only(client, owner, teammate, executive, manager):
    SalesTarget.objects.create(user=owner, period="month", period_start=datetime.date(2026, 3, 1),
                               amount=Decimal("4321.00"))
    content = get(client, owner, "sales:targets", {"year": 2026}).content.decode()
    assert "4,321.00" in content and 'name="amount"' not in content and str(teammate) not in content
    content = get(client, executive, "sales:targets", {"year": 2026}).content.decode()
    assert "4,321.00" in content and 'name="amount"' not in content and str(teammate) in content


def test_manager_saves_a_cell(client, manager, owner):
    response = save(client, manager, f"user:{owner.pk}", amount="1500.50", deal_count="3")
    content = response.content.decode()
    assert response.status_code == 200 and "is-valid" in content and 'hx-swap-oob="true"' in content
    target = SalesTarget.objects.get(user=owner)
    assert (target.amount, target.deal_count, target.period_start) == (Decimal("1500.50"), 3,
                                                                        datetime.date(2026, 3, 1))
    save(client, manager, f"user:{owner.pk}", amount="1600", deal_count="")
    target.refresh_from_db()
    assert target.amount == Decimal("1600") and target.deal_count is None
    save(client, manager, f"user:{owner.pk}", amount="", deal_count="")
    assert not SalesTarget.objects.exists()


def test_team_quarter_target(client, manager, team):
    save(client, manager, f"team:{team.pk}", period="quarter", period_start="2026-05-01", amount="9000")
    assert SalesTarget.objects.get(team=team).period_start == datetime.date(2026, 4, 1)


@pytest.mark.parametrize(("amount", "deal_count", "message"), [
    ("-5", "", "greater than or equal to 0"),
    ("lots", "", "Enter a number."),
    ("", "4", "Enter the amount to win too"),
    ("10", "-1", "greater than or equal to 0"),
])
def test_bad_cell_input_is_shown_inline_and_changes_nothing(client, manager, owner, amount, deal_count, message):
    response = save(client, manager, f"user:{owner.pk}", amount=amount, deal_count=deal_count)
    content = response.content.decode()
    assert response.status_code == 200 and "is-invalid" in content and message in content
    assert f'value="{amount}"' in content  # the entry stays to be corrected
    assert not SalesTarget.objects.exists()


def test_who_may_post_a_cell(client, owner, manager, executive, outsider, other_team):
    assert save(client, owner, f"user:{owner.pk}", amount="1").status_code == 403
    assert save(client, executive, f"user:{owner.pk}", amount="1").status_code == 403
    assert save(client, manager, f"user:{outsider.pk}", amount="1").status_code == 404
    assert save(client, manager, f"team:{other_team.pk}", amount="1").status_code == 404
    assert save(client, manager, "user:abc", amount="1").status_code == 404
    assert not SalesTarget.objects.exists()


def test_cell_without_htmx_redirects_to_the_grid(client, manager, owner):
    client.force_login(manager)
    response = client.post(reverse("sales:target_save"), {"subject": f"user:{owner.pk}", "period": "month",
                                                          "period_start": "2026-03-01", "amount": "5"})
    assert response.status_code == 302 and "year=2026" in response["Location"]


# --- Query counts -----------------------------------------------------------------------------------------


def add_reps_and_deals(team, pipeline, count, today):
    for _ in range(count):
        rep = UserFactory(team=team)
        SalesTarget.objects.create(user=rep, period=TargetPeriod.MONTH, period_start=today.replace(day=1),
                                   amount=Decimal("100"))
        for category in ("commit", "best_case", "pipeline"):
            commit_deal(pipeline, rep, "10.00", today, forecast_category=category)
        OpportunityFactory(owner=rep, pipeline=pipeline, stage=stage(pipeline, "Won"), closed_at=timezone.now())


def count_queries(client, url, data=None, headers=None) -> int:
    client.get(url, data or {}, **(headers or {}))  # warm-up: the session's first request renews it
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {}, **(headers or {}))
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("group", ["owner", "team"])
def test_forecast_query_count_is_constant(client, manager, team, pipeline, today, group,
                                          django_assert_max_num_queries):
    client.force_login(manager)
    url = reverse("sales:forecast")
    add_reps_and_deals(team, pipeline, 2, today)
    few = count_queries(client, url, {"group": group})
    add_reps_and_deals(team, pipeline, 8, today)
    many = count_queries(client, url, {"group": group})
    assert few == many
    with django_assert_max_num_queries(12):
        client.get(url, {"group": group, "pipeline": pipeline.pk, "team": team.pk})


def test_drill_down_and_targets_query_counts_are_constant(client, executive, team, pipeline, today):
    client.force_login(executive)
    add_reps_and_deals(team, pipeline, 2, today)
    deals_few = count_queries(client, reverse("sales:forecast_deals"), {"figure": "all"}, HTMX)
    targets_few = count_queries(client, reverse("sales:targets"))
    add_reps_and_deals(team, pipeline, 6, today)
    assert count_queries(client, reverse("sales:forecast_deals"), {"figure": "all"}, HTMX) == deals_few
    assert count_queries(client, reverse("sales:targets")) == targets_few
    assert targets_few <= 10


def test_targets_filtered_by_team(client, executive, owner, outsider, other_team):
    response = get(client, executive, "sales:targets", {"team": other_team.pk})
    subjects = [row.subject for row in response.context["rows"]]
    assert subjects == [f"team:{other_team.pk}", f"user:{outsider.pk}"]
    response = get(client, owner, "sales:targets", {"team": other_team.pk})  # not the rep's to pick
    assert [row.subject for row in response.context["rows"]] == [f"user:{owner.pk}"]
