"""Opportunity pages, the board and the pipeline editor: visibility, conflicts, query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from sales.models import Opportunity, Pipeline, StageChange
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="New business", is_default=True)


def test_list_shows_only_what_the_user_may_see(client, owner, outsider, pipeline):
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Mine")
    OpportunityFactory(owner=outsider, pipeline=pipeline, name="Theirs")
    client.force_login(owner)
    body = client.get(reverse("sales:opportunity_list")).content.decode()
    assert "Mine" in body and "Theirs" not in body


def test_support_and_marketing_have_no_sales_pages(client, support_agent, marketer, pipeline):
    for user in (support_agent, marketer):
        client.force_login(user)
        assert client.get(reverse("sales:opportunity_list")).status_code == 404
        assert client.get(reverse("sales:board", args=[pipeline.pk])).status_code == 404


def test_list_query_count_does_not_grow_with_rows(client, owner, pipeline, django_assert_max_num_queries):
    for _ in range(30):
        OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    with django_assert_max_num_queries(15):  # constant; the filter selects come from cached lookups
        response = client.get(reverse("sales:opportunity_list"), {"status": "open", "sort": "-amount"})
    assert response.status_code == 200


def test_detail_visibility(client, cast, pipeline):
    deal = OpportunityFactory(owner=cast["owner"], pipeline=pipeline)
    expected = {"owner": 200, "teammate": 404, "manager": 200, "outsider": 404, "executive": 200,
                "support_agent": 404, "marketer": 404, "admin": 200}
    for name, status in expected.items():
        client.force_login(cast[name])
        assert client.get(deal.get_absolute_url()).status_code == status, name
    client.force_login(cast["executive"])
    assert client.get(reverse("sales:opportunity_edit", args=[deal.pk])).status_code == 403


def test_detail_query_count(client, owner, pipeline, django_assert_max_num_queries):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    client.get(deal.get_absolute_url())  # the session's first page (and the cached lookups) once
    with django_assert_max_num_queries(15):
        assert client.get(deal.get_absolute_url()).status_code == 200


def test_create_refuses_a_forged_hidden_account(client, owner, outsider, pipeline):
    hidden = AccountFactory(owner=outsider)
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_create"), {
        "name": "Sneaky", "account": hidden.pk, "pipeline": pipeline.pk, "stage": stage(pipeline, "Proposal").pk,
        "amount": "100", "currency": "EUR", "expected_close_date": "2026-12-01", "forecast_category": "pipeline"})
    assert response.status_code == 200
    assert not Opportunity.objects.filter(name="Sneaky").exists()


def test_create_and_script_in_name_is_escaped(client, owner, pipeline):
    account = AccountFactory(owner=owner)
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_create"), {
        "name": "<script>alert(1)</script>", "account": account.pk, "pipeline": pipeline.pk,
        "stage": stage(pipeline, "Proposal").pk, "amount": "1200.50", "currency": "eur",
        "expected_close_date": "2026-12-01", "forecast_category": "pipeline"}, follow=True)
    deal = Opportunity.objects.get(account=account)
    assert deal.probability == 50 and deal.currency == "EUR"
    assert b"<script>alert(1)</script>" not in response.content


def test_an_edit_over_a_newer_version_is_refused_with_the_current_data(client, owner, manager, pipeline):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline, name="Original")
    client.force_login(manager)
    form = {"name": "Manager's name", "account": deal.account_id, "pipeline": pipeline.pk, "stage": deal.stage_id,
            "amount": "10000", "currency": "EUR", "expected_close_date": "2026-12-01",
            "forecast_category": "pipeline", "lock_version": deal.lock_version}
    client.post(reverse("sales:opportunity_edit", args=[deal.pk]), form)
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_edit", args=[deal.pk]), {**form, "name": "Owner's name"})
    assert response.status_code == 200 and b"stale-warning" in response.content
    deal.refresh_from_db()
    assert deal.name == "Manager's name"


def test_board_columns_count_and_weight(client, owner, pipeline, django_assert_max_num_queries):
    for _ in range(3):
        OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Proposal"), amount=1000,
                           amount_base=1000, probability=50)
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Won"), amount=500, amount_base=500,
                       probability=100, closed_at=timezone.now())
    OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Won"), amount=700, amount_base=700,
                       probability=100, closed_at=timezone.now() - datetime.timedelta(days=90))  # old: not shown
    client.force_login(owner)
    client.get(reverse("sales:board", args=[pipeline.pk]))  # the session's first page (and the cached lookups) once
    with django_assert_max_num_queries(15):
        response = client.get(reverse("sales:board", args=[pipeline.pk]))
    columns = {column["stage"].name: column for column in response.context["columns"]}
    assert columns["Proposal"]["count"] == 3
    assert columns["Proposal"]["weighted"] == 1500
    assert columns["Won"]["count"] == 1 and len(columns["Won"]["cards"]) == 1


def test_board_pages_long_columns(client, owner, pipeline):
    for _ in range(25):
        OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    response = client.get(reverse("sales:board", args=[pipeline.pk]))
    first = response.context["columns"][0]
    assert len(first["cards"]) == 20 and first["more"]
    more = client.get(reverse("sales:board_column", args=[pipeline.pk, first["stage"].pk]), {"offset": 20})
    assert more.content.count(b'class="board-card ') == 5


def move(client, deal, stage_obj, version=None, **extra):
    return client.post(reverse("sales:board_move"), {
        "opportunity": deal.pk, "stage": stage_obj.pk, "lock_version": version or deal.lock_version, **extra})


def test_board_move_records_the_change_and_answers_figures(client, owner, pipeline):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    response = move(client, deal, stage(pipeline, "Won"))
    assert response.status_code == 200
    payload = response.json()
    assert payload["columns"][str(stage(pipeline, "Won").pk)]["count"] == 1
    assert 'data-version="2"' in payload["card"]
    assert StageChange.objects.filter(opportunity=deal, to_stage__name="Won", changed_by=owner).exists()


def test_board_move_conflicts_and_refusals(client, cast, pipeline):
    deal = OpportunityFactory(owner=cast["owner"], pipeline=pipeline)
    client.force_login(cast["owner"])
    assert move(client, deal, stage(pipeline, "Proposal")).status_code == 200
    stale = move(client, deal, stage(pipeline, "Won"), version=1)  # the version the second person saw
    assert stale.status_code == 409 and stale.json()["stale"]
    lost = move(client, deal, stage(pipeline, "Lost"), version=2)
    assert lost.status_code == 400 and lost.json()["need_reason"]
    other = PipelineFactory()
    assert move(client, deal, stage(other, "Won"), version=2).status_code == 400
    client.force_login(cast["outsider"])
    assert move(client, deal, stage(pipeline, "Won"), version=2).status_code == 404
    client.force_login(cast["executive"])
    assert move(client, deal, stage(pipeline, "Won"), version=2).status_code == 403
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal" and deal.lock_version == 2


def test_lost_with_a_reason_from_the_board(client, owner, pipeline):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    response = move(client, deal, stage(pipeline, "Lost"), lost_reason="competitor", lost_note="Chose Acme")
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.lost_reason == "competitor" and deal.lost_note == "Chose Acme"


def test_stage_path_on_the_opportunity_page(client, owner, pipeline):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    client.post(reverse("sales:opportunity_stage", args=[deal.pk]),
                {"stage": stage(pipeline, "Negotiation").pk, "lock_version": 1})
    deal.refresh_from_db()
    assert deal.stage.name == "Negotiation" and deal.probability == 75


def test_bulk_assign_touches_only_editable_deals(client, owner, outsider, manager, pipeline):
    mine = OpportunityFactory(owner=owner, pipeline=pipeline)
    theirs = OpportunityFactory(owner=outsider, pipeline=pipeline)
    client.force_login(manager)
    client.post(reverse("sales:opportunity_bulk"), {"action": "assign", "owner": manager.pk,
                                                    "ids": [mine.pk, theirs.pk]})
    mine.refresh_from_db(), theirs.refresh_from_db()
    assert mine.owner == manager and theirs.owner == outsider


def test_bulk_export_holds_only_visible_rows_and_neutralises_formulas(client, owner, outsider, pipeline):
    mine = OpportunityFactory(owner=owner, pipeline=pipeline, name="=HYPERLINK(1)")
    theirs = OpportunityFactory(owner=outsider, pipeline=pipeline, name="Hidden deal")
    client.force_login(owner)
    response = client.post(reverse("sales:opportunity_bulk"), {"action": "export", "ids": [mine.pk, theirs.pk]})
    body = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in body and "Hidden deal" not in body


def test_only_admins_edit_pipelines(client, owner, manager, admin_user):
    for user in (owner, manager):
        client.force_login(user)
        assert client.get(reverse("sales:pipeline_list")).status_code == 403
    client.force_login(admin_user)
    data = {"name": "Renewals", "position": 1, "active": "on",
            "stages-TOTAL_FORMS": 3, "stages-INITIAL_FORMS": 0, "stages-MIN_NUM_FORMS": 0,
            "stages-MAX_NUM_FORMS": 1000,
            "stages-0-name": "Up for renewal", "stages-0-position": 0, "stages-0-probability": 60,
            "stages-0-kind": "open", "stages-0-active": "on",
            "stages-1-name": "Renewed", "stages-1-position": 1, "stages-1-probability": 100,
            "stages-1-kind": "won", "stages-1-active": "on",
            "stages-2-name": "Churned", "stages-2-position": 2, "stages-2-probability": 0,
            "stages-2-kind": "open", "stages-2-active": "on"}
    response = client.post(reverse("sales:pipeline_create"), data)
    assert b"missing: Lost" in response.content and not Pipeline.objects.filter(name="Renewals").exists()
    data["stages-2-kind"] = "lost"
    assert client.post(reverse("sales:pipeline_create"), data).status_code == 302
    assert Pipeline.objects.get(name="Renewals").stages.count() == 3


def test_a_stage_with_deals_cannot_be_deleted(client, admin_user, owner, pipeline):
    deal = OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(admin_user)
    page = client.get(reverse("sales:pipeline_edit", args=[pipeline.pk]))
    formset = page.context["formset"]
    data = {"name": pipeline.name, "position": 0, "active": "on", "is_default": "on"}
    for key, value in formset.management_form.initial.items():
        data[f"stages-{key}"] = value
    for index, form in enumerate(formset.forms[: len(formset.initial_forms)]):
        for name in ("name", "position", "probability", "kind"):
            data[f"stages-{index}-{name}"] = form.initial[name]
        data[f"stages-{index}-id"] = form.instance.pk
        data[f"stages-{index}-active"] = "on"
        data[f"stages-{index}-pipeline"] = pipeline.pk
        if form.instance.pk == deal.stage_id:
            data[f"stages-{index}-DELETE"] = "on"
    data["stages-TOTAL_FORMS"] = len(formset.initial_forms)
    response = client.post(reverse("sales:pipeline_edit", args=[pipeline.pk]), data, follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert pipeline.stages.filter(pk=deal.stage_id).exists()


def test_sales_overview_shows_my_pipeline_only_to_sales_readers(client, owner, outsider, support_agent, manager,
                                                               pipeline, django_assert_max_num_queries):
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Closing soon", stage=stage(pipeline, "Proposal"))
    OpportunityFactory(owner=outsider, pipeline=pipeline, name="Not mine")
    client.force_login(owner)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("sales:overview"))
    body = response.content.decode()
    assert "Closing soon" in body and "Not mine" not in body
    assert 'id="approvals-waiting"' not in body  # a rep approves nothing
    proposal = dict((s.name, count) for s, count, _total in response.context["pipeline_stages"])["Proposal"]
    assert proposal == 1
    client.force_login(manager)  # the team's deals, and the approvals card
    body = client.get(reverse("sales:overview")).content.decode()
    assert "Closing soon" in body and 'id="approvals-waiting"' in body
    client.force_login(support_agent)
    body = client.get(reverse("sales:overview")).content.decode()
    assert "Closing soon" not in body and "approvals-waiting" not in body and "Pipeline board" not in body


def test_the_opportunity_timeline_shows_its_activities_and_stage_changes(client, owner, pipeline):
    from activities.models import Activity
    from sales import services

    deal = OpportunityFactory(owner=owner, pipeline=pipeline)
    Activity.objects.create(kind="call", subject="Discussed the rollout", owner=owner, team=owner.team,
                            opportunity=deal, account=deal.account)
    services.opportunity_move(opportunity=deal, stage=stage(pipeline, "Proposal"), actor=owner, expected_version=1)
    client.force_login(owner)
    body = client.get(deal.get_absolute_url()).content.decode()
    assert "Discussed the rollout" in body
    assert "Qualification → Proposal" in body  # the stage change on the timeline


def test_won_deals_filter_by_the_day_they_closed(client, owner, pipeline):
    import datetime as dt

    closed = dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC)
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Won in October", stage=stage(pipeline, "Won"),
                       closed_at=closed, expected_close_date=dt.date(2026, 12, 31))
    OpportunityFactory(owner=owner, pipeline=pipeline, name="Won in September", stage=stage(pipeline, "Won"),
                       closed_at=closed - dt.timedelta(days=30))
    client.force_login(owner)
    body = client.get(reverse("sales:opportunity_list"), {"status": "won", "closed_from": "2026-10-01",
                                                         "closed_to": "2026-10-31"}).content.decode()
    assert "Won in October" in body and "Won in September" not in body


def test_a_new_pipeline_starts_from_the_usual_stages(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("sales:pipeline_create"))
    formset = page.context["formset"]
    data = {"name": "Partners", "position": 2, "active": "on"}
    for key, value in formset.management_form.initial.items():
        data[f"stages-{key}"] = value
    for index, form in enumerate(formset.forms):
        for name in ("name", "position", "probability", "kind"):  # what the browser posts back untouched
            value = form[name].value()
            data[f"stages-{index}-{name}"] = "" if value is None else value
        data[f"stages-{index}-active"] = "on"
    response = client.post(reverse("sales:pipeline_create"), data)
    assert response.status_code == 302, response.context["formset"].non_form_errors()
    assert [stage.name for stage in Pipeline.objects.get(name="Partners").stages.all()] == [
        "Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"]


def test_only_cards_the_user_may_move_can_be_dragged(client, owner, executive, pipeline):
    OpportunityFactory(owner=owner, pipeline=pipeline)
    client.force_login(owner)
    assert b"board-card-movable" in client.get(reverse("sales:board", args=[pipeline.pk])).content
    client.force_login(executive)
    body = client.get(reverse("sales:board", args=[pipeline.pk])).content
    assert b"board-card " in body and b"board-card-movable" not in body


def test_filter_choices_offer_only_visible_teams_and_sellers(client, owner, other_team, support_agent, executive):
    client.force_login(owner)
    form = client.get(reverse("sales:opportunity_list")).context["filter"].form
    assert list(form.fields["team"].queryset) == [owner.team]
    client.force_login(executive)
    form = client.get(reverse("sales:opportunity_list")).context["filter"].form
    assert other_team in form.fields["team"].queryset
    assert support_agent not in form.fields["owner"].queryset and owner in form.fields["owner"].queryset


@pytest.mark.parametrize("url_name", ["sales:opportunity_list", "sales:board_default", "sales:quote_list",
                                      "sales:approval_list", "sales:order_list", "sales:invoice_list",
                                      "sales:forecast", "sales:targets"])
def test_roles_without_sales_data_get_404_on_every_sales_list(client, support_agent, marketer, pipeline, url_name):
    for user in (support_agent, marketer):
        client.force_login(user)
        assert client.get(reverse(url_name)).status_code == 404, (user.role, url_name)


def test_an_accepted_quote_marks_its_deal_as_won_with_the_net_amount(client, owner, executive, pipeline):
    from sales import quote_services
    from sales.models import Quote

    deal = OpportunityFactory(owner=owner, pipeline=pipeline, stage=stage(pipeline, "Negotiation"))
    quote = quote_services.quote_create(actor=owner, opportunity=deal)
    quote_services.quote_line_add(quote=quote, actor=owner, expected_version=None, name="Licences",
                                  quantity=10, unit_price=100, tax_rate=20, discount_pct=0)
    Quote.objects.filter(pk=quote.pk).update(status="accepted")
    client.force_login(executive)  # may read, not change
    assert b'id="win-deal"' not in client.get(quote.get_absolute_url()).content
    assert client.post(reverse("sales:opportunity_win_from_quote", args=[quote.pk]),
                       {"lock_version": 1}).status_code == 403
    client.force_login(owner)
    assert b'id="win-deal"' in client.get(quote.get_absolute_url()).content
    client.post(reverse("sales:opportunity_win_from_quote", args=[quote.pk]), {"lock_version": 1})
    deal.refresh_from_db()
    assert deal.stage.name == "Won" and deal.amount == 1000 and deal.closed_at is not None  # net of the 20 % tax
    response = client.post(reverse("sales:opportunity_win_from_quote", args=[quote.pk]), {"lock_version": 2},
                           follow=True)
    assert "already closed" in response.content.decode()
