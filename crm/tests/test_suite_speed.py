"""The suite's own speed measures (docs/testing.md) keep what the tests rely on: the flush after a transactional
test still leaves every table empty (history tables included) with content types and permissions back, and the
slowest files are collected first."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from conftest import SLOW_FIRST
from crm.models import Team, User

REFILLED_BY_POST_MIGRATE = {"django_content_type", "auth_permission"}


def _tables_with_rows() -> set[str]:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(
            f"SELECT %s WHERE EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})"  # noqa: S608 # nosec B608
            for table in tables),
            tables)
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_the_flush_after_a_transactional_test_empties_every_table(owner):
    account = AccountFactory(owner=owner)
    Account.objects.filter(pk=account.pk).update(name="Renamed")  # an update event too
    with_rows = _tables_with_rows()
    assert {"accounts_account", "accounts_accountevent", "crm_user", "crm_team"} <= with_rows

    statements = connection.ops.sql_flush(no_style(), ["accounts_account"])
    assert statements[0] == "SET LOCAL session_replication_role = replica"  # DELETE, history triggers off
    call_command("flush", verbosity=0, interactive=False)  # what pytest-django runs after the test

    assert _tables_with_rows() == REFILLED_BY_POST_MIGRATE
    assert not User.objects.exists() and not Team.objects.exists()
    assert ContentType.objects.filter(app_label="accounts", model="account").exists()
    assert Permission.objects.filter(codename="view_account").exists()
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"  # SET LOCAL ended with the flush: triggers and foreign keys are on


def test_the_slowest_files_are_collected_first(request):
    files = [item.nodeid.split("::", 1)[0] for item in request.session.items]
    slow = [path for path in files if path in SLOW_FIRST]
    assert files[:len(slow)] == slow
