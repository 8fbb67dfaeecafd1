"""The free-text campaign of leads and deals becomes Campaign rows (marketing/migrations/0002).

The migration runs on a database of its own (the test database's name + "_migration", dropped afterwards):
migrated forward from empty to just before the data migration, given rows, then migrated through the data
migration and sales' migration that drops the text columns. Nothing else is migrated and nothing is unapplied:
undoing every later migration of the test database and redoing it took two minutes of the suite (docs/testing.md).
"""

import psycopg2
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend

BEFORE = [("marketing", "0001_initial"), ("sales", "0007_phone_tails")]
# The data migration, and the one that must run after it (run_before): the text columns are gone.
AFTER = [("marketing", "0002_campaigns_from_free_text"), ("sales", "0008_remove_free_text_campaign")]


def _admin_connection():
    db = connection.settings_dict
    params = {"dbname": "postgres", "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"],
              "port": db["PORT"]}
    admin = psycopg2.connect(**{key: value for key, value in params.items() if value})
    admin.autocommit = True
    return admin


@pytest.fixture
def migration_database(django_db_setup, django_db_blocker):
    """An empty database that is "default" for the test: the data migration's models (apps.get_model) use the
    default connection, so this one takes its place and the test database is left alone."""
    settings_dict = {**connection.settings_dict, "NAME": f"{connection.settings_dict['NAME']}_migration"}
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{settings_dict["NAME"]}"')
    previous = connections[DEFAULT_DB_ALIAS]
    separate = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = separate
    try:
        with django_db_blocker.unblock():
            yield separate
    finally:
        separate.close()
        connections[DEFAULT_DB_ALIAS] = previous
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}" WITH (FORCE)')
        admin.close()


def test_distinct_texts_become_campaigns_and_rows_are_attributed(migration_database):
    assert connection.settings_dict["NAME"].endswith("_migration")  # not the test database
    executor = MigrationExecutor(migration_database)
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

    executor = MigrationExecutor(migration_database)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
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
    with migration_database.cursor() as cursor:
        columns = {column.name for column in migration_database.introspection.get_table_description(
            cursor, "contacts_lead")}
    assert "campaign" not in columns
