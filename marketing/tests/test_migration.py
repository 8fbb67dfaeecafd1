"""The free-text campaign of leads and deals becomes Campaign rows (marketing/migrations/0002)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# accounts too: its later fields (the customer ranking) are NOT NULL, which the old Account model cannot fill.
BEFORE = [("marketing", "0001_initial"), ("sales", "0007_phone_tails"), ("accounts", "0007_revenue_not_negative")]


def _latest(executor):
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_distinct_texts_become_campaigns_and_rows_are_attributed():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User, Team = old.get_model("crm", "User"), old.get_model("crm", "Team")
    Lead, Opportunity = old.get_model("sales", "Lead"), old.get_model("sales", "Opportunity")
    Account, Pipeline = old.get_model("accounts", "Account"), old.get_model("sales", "Pipeline")
    Stage = old.get_model("sales", "Stage")
    team = Team.objects.create(name="Продажи Россия")
    rep = User.objects.create(email="rep.ru@example.com", role="sales_rep", team=team)
    queue_lead = Lead.objects.create(last_name="Павлов", campaign="Вебинар весна", team=team)  # nobody owns it
    owned_lead = Lead.objects.create(last_name="Зайцева", campaign="  вебинар   ВЕСНА ", owner=rep, team=team)
    other_lead = Lead.objects.create(last_name="Егоров", campaign="Retail Expo 2026", owner=rep)
    plain_lead = Lead.objects.create(last_name="Орлов", campaign="", owner=rep)
    account = Account.objects.create(name="ООО «СибЛес»", owner=rep)
    pipeline = Pipeline.objects.create(name="Новый бизнес")
    first_stage = Stage.objects.create(pipeline=pipeline, name="Квалификация")
    deal = Opportunity.objects.create(name="СибЛес: пилот", account=account, pipeline=pipeline, stage=first_stage,
                                      probability=10, expected_close_date="2026-12-31", owner=rep,
                                      campaign="Вебинар весна")

    executor = MigrationExecutor(connection)
    executor.migrate(_latest(executor))
    new = MigrationExecutor(connection).loader.project_state(_latest(executor)).apps
    Campaign = new.get_model("marketing", "Campaign")
    LeadAttribution = new.get_model("marketing", "LeadAttribution")
    DealAttribution = new.get_model("marketing", "DealAttribution")

    assert sorted(Campaign.objects.values_list("name", flat=True)) == ["Retail Expo 2026", "Вебинар весна"]
    webinar = Campaign.objects.get(name="Вебинар весна")
    assert webinar.owner_id == rep.pk and webinar.team_id == team.pk  # the first row with an owner
    assert set(LeadAttribution.objects.filter(campaign=webinar).values_list("lead_id", flat=True)) == {
        queue_lead.pk, owned_lead.pk}
    assert LeadAttribution.objects.get(lead_id=other_lead.pk).campaign.name == "Retail Expo 2026"
    assert not LeadAttribution.objects.filter(lead_id=plain_lead.pk).exists()
    assert DealAttribution.objects.get(opportunity_id=deal.pk).campaign_id == webinar.pk
    columns = {column.name for column in connection.introspection.get_table_description(
        connection.cursor(), "contacts_lead")}
    assert "campaign" not in columns
