"""Our PostgreSQL sessions: JIT compilation is off (crm/settings.py). Left on, a search over 1,000,000
tickets spent 60 ms compiling a plan that ran for 36, and each report aggregation over 500,000 deals
200-300 ms (docs/benchmarks.md).

Two ways, one per deployment (docs/scaling.md): connected straight to PostgreSQL, the connection's startup
option (`options=-c jit=off`); behind PgBouncer in transaction mode, which refuses startup options, the
database's own setting (`ALTER DATABASE … SET jit = off`). The reports used to switch JIT off once more per
transaction (`SET LOCAL`, a query of its own on every report page); the tests below show their queries run
without JIT either way."""

import pytest
from django.db import connection
from django.urls import reverse

REPORT_PAGES = ["reports", "reports_analysis", "reports_team", "reports_customers", "reports_sources",
                "reports_service", "reports_marketing"]
BUILDER = "?entity=deals&g1=stage&a=sum:amount"


def test_our_connections_run_without_jit(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def jit_during_reports(client) -> set[str]:
    """The value of `jit` in force for each query the report pages run, asked on the same session right after
    it (through psycopg2's own cursor, which Django does not wrap again)."""
    seen: set[str] = set()

    def probe(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        with context["connection"].connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('jit')")
            seen.add(cursor.fetchone()[0])
        return result

    urls = [reverse(name) for name in REPORT_PAGES] + [reverse("report_builder") + BUILDER]
    with connection.execute_wrapper(probe):
        for url in urls:
            assert client.get(url).status_code == 200, url
    return seen


@pytest.mark.django_db
def test_the_reports_queries_run_without_jit(client, executive):
    client.force_login(executive)
    assert jit_during_reports(client) == {"off"}


@pytest.mark.django_db(transaction=True)  # ALTER DATABASE must commit before a new session reads it
def test_behind_pgbouncer_the_database_setting_keeps_the_reports_without_jit(client, executive):
    options, name = connection.settings_dict["OPTIONS"], connection.settings_dict["NAME"]
    startup = options.pop("options")  # what PGBOUNCER_TRANSACTION_MODE=1 leaves out (crm/settings.py)
    connection.close()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reset_val FROM pg_settings WHERE name = 'jit'")
            server_default = cursor.fetchone()[0]
        client.force_login(executive)
        if server_default == "on":  # the server's default: without the database's setting the reports get JIT
            assert jit_during_reports(client) == {"on"}
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" SET jit = off')  # docs/scaling.md, PgBouncer
        connection.close()
        assert jit_during_reports(client) == {"off"}
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" RESET jit')
        connection.close()
        options["options"] = startup
