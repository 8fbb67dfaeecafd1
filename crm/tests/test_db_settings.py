"""Our PostgreSQL sessions: JIT compilation is off (crm/settings.py). Left on, a search over 1,000,000
tickets spent 60 ms compiling a plan that ran for 36 (docs/benchmarks.md)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_our_connections_run_without_jit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
