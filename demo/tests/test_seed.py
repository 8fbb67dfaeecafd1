"""The bulk seeder (COPY) and the page benchmark, at a tiny scale."""

import json
from io import StringIO

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.core.validators import validate_email
from django.db import connection
from django.db.models import Count
from django.test import Client

from accounts.models import Account, AccountEvent
from activities.models import Activity, ActivityEvent
from contacts.models import Contact, ContactEvent
from crm.models import Role, Team, User
from crm.phones import normalize_phone
from demo.management.commands import bench, seed

pytestmark = pytest.mark.django_db

TINY = {"contacts": 200, "accounts": 40, "activities": 1_500, "users": 6, "seed": 7, "force": True}


def run_seed(**options) -> str:
    out = StringIO()
    call_command("seed", stdout=out, **{**TINY, **options})
    return out.getvalue()


def test_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed", contacts=10, stdout=StringIO())
    assert not Contact.objects.exists()


def test_loads_the_requested_rows_without_history_events():
    output = run_seed()

    assert Account.objects.count() == 40
    assert Contact.objects.count() == 200
    assert Activity.objects.count() == 1_500
    # Triggers were off for the load: no audit events for synthetic rows.
    assert not AccountEvent.objects.exists()
    assert not ContactEvent.objects.exists()
    assert not ActivityEvent.objects.exists()
    assert "accounts_account" in output and "rows/s" in output


def test_creates_sales_teams_with_managers_and_an_executive():
    run_seed()

    reps = User.objects.filter(role__in=[Role.SALES_REP, Role.SALES_MANAGER])
    assert reps.count() == 6
    assert all(user.team_id for user in reps)
    assert all(team.manager.role == Role.SALES_MANAGER for team in Team.objects.all())
    assert User.objects.filter(role=Role.EXECUTIVE).exists()


def test_one_account_has_exactly_one_thousand_activities_and_is_printed():
    output = run_seed()

    busiest = (Activity.objects.exclude(account=None).values("account").annotate(n=Count("id"))
               .order_by("-n"))
    assert busiest[0]["n"] == 1_000
    assert busiest[1]["n"] < 1_000
    assert f"id={busiest[0]['account']}" in output


def test_values_match_what_the_models_save_would_store():
    run_seed()

    for contact in Contact.objects.select_related("owner"):
        assert contact.full_name == contact.compose_full_name()
        assert contact.team_id == contact.owner.team_id
        for phone in contact.phones:
            number = phonenumbers.parse(phone, None)
            assert phonenumbers.is_valid_number(number), phone
            assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone
        for email in contact.emails:
            validate_email(email)
    for account in Account.objects.select_related("owner"):
        assert account.phone_e164 == (normalize_phone(account.phone) or "")
        assert account.team_id == account.owner.team_id
        if account.email:
            validate_email(account.email)
    for activity in Activity.objects.select_related("owner", "contact"):
        assert activity.team_id == activity.owner.team_id
        if activity.contact_id and activity.contact.account_id:
            assert activity.account_id == activity.contact.account_id


def test_sample_of_every_phone_generator_is_valid():
    import random

    rng = random.Random(1)
    for country in seed.COUNTRIES.values():
        for generator in [country["mobile"], *(city[1] for city in country["cities"])]:
            for _ in range(500):
                typed, e164 = generator(rng.random)
                assert normalize_phone(typed) == e164, typed


def test_orm_inserts_after_the_load_get_fresh_ids():
    run_seed()
    owner = User.objects.filter(role=Role.SALES_REP).first()
    max_ids = {model: model.objects.order_by("-id").values_list("id", flat=True).first()
               for model in (Account, Contact, Activity)}

    account = Account.objects.create(name="After the seed Ltd", owner=owner, team=owner.team)
    contact = Contact.objects.create(last_name="Afterseed", owner=owner, team=owner.team, account=account)
    activity = Activity.objects.create(kind="note", subject="Hello", owner=owner, team=owner.team, account=account)

    assert account.pk > max_ids[Account]
    assert contact.pk > max_ids[Contact]
    assert activity.pk > max_ids[Activity]
    # The history triggers are back on for the rest of the transaction.
    assert AccountEvent.objects.filter(pgh_obj_id=account.pk).exists()


def test_without_superuser_rights_pgtrigger_ignore_keeps_history_off(monkeypatch):
    monkeypatch.setattr(seed.Command, "may_set_replication_role", lambda self: False)
    output = run_seed()

    assert "pgtrigger.ignore" in output
    assert Contact.objects.count() == 200
    assert not ContactEvent.objects.exists() and not ActivityEvent.objects.exists()
    owner = User.objects.filter(role=Role.SALES_REP).first()
    contact = Contact.objects.create(last_name="Tracked", owner=owner, team=owner.team)
    assert ContactEvent.objects.filter(pgh_obj_id=contact.pk).exists()


def test_a_second_run_adds_on_top():
    run_seed()
    run_seed(contacts=50, accounts=10, activities=1_200)

    assert Contact.objects.count() == 250
    assert Account.objects.count() == 50
    assert Activity.objects.count() == 2_700
    assert User.objects.filter(role__in=[Role.SALES_REP, Role.SALES_MANAGER]).count() == 6  # enough already


def test_big_loads_rebuild_the_indexes_they_dropped(monkeypatch):
    def index_definitions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'contacts_contact' ORDER BY indexdef")
            return [row[0] for row in cursor.fetchall()]

    before = index_definitions()
    monkeypatch.setattr(seed, "REBUILD_MIN_ROWS", 0)
    output = run_seed()

    assert "rebuilt" in output
    assert index_definitions() == before


def test_bench_prints_the_table_and_writes_json(tmp_path):
    run_seed()
    out = StringIO()
    json_path = tmp_path / "bench.json"

    call_command("bench", repeat=2, json_path=str(json_path), stdout=out)

    text = out.getvalue()
    assert "median ms" in text and "p95 ms" in text and "queries" in text
    assert "account list" in text and "account 360 (1,000 activities)" in text
    assert "sales manager" in text and "executive" in text
    figures = json.loads(json_path.read_text())
    rows = {(row["page"], row["user"]): row for row in figures["results"]}
    account_list = rows[("account list", "executive")]
    assert account_list["status"] == 200 and account_list["queries"] >= 1 and account_list["p95_ms"] > 0
    detail = rows[("account 360 (1,000 activities)", "sales manager")]
    assert detail["status"] == 200, detail["note"]  # the manager of the busiest account's team sees it


def test_every_page_the_bench_prints_stays_within_15_queries(tmp_path):
    """The limit the bench's footer prints (<= 15 queries) holds for every page and role it measures,
    sales and report pages included; the bench flags a page over it."""
    run_seed()
    call_command("seed_sales", opportunities=300, board_deals=40, force=True, stdout=StringIO())
    json_path = tmp_path / "bench.json"
    call_command("bench", repeat=1, json_path=str(json_path), stdout=StringIO())
    figures = json.loads(json_path.read_text())
    assert figures["budget"]["max_queries"] == bench.MAX_QUERIES == 15
    measured = [row for row in figures["results"] if row["queries"] is not None]
    assert len(measured) >= 30  # lists, record pages, search, board, forecast, dashboards; two roles
    over = {(row["page"], row["user"]): row["queries"] for row in measured if row["queries"] > 15}
    assert not over
    assert all(row["status"] == 200 for row in measured)
    assert not any("queries" in flag for row in measured for flag in row["over_budget"])


def test_bench_reports_a_page_whose_url_does_not_exist_yet():
    run_seed()
    executive = User.objects.filter(role=Role.EXECUTIVE).first()

    result = bench.Command().measure(Client(), bench.Page("future page", "nowhere:list"), "executive", executive, 2)

    assert result.note == "not available"
    assert result.median_ms is None


def test_percentile_is_nearest_rank():
    samples = [float(n) for n in range(1, 101)]
    assert bench.percentile(samples, 0.95) == 95.0
    assert bench.percentile([5.0], 0.95) == 5.0
