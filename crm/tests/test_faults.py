"""Faults with the real services (issue 14): the database drops every connection, as it does when
PostgreSQL restarts, and the running app goes on without a restart of its own."""

import pytest
import requests
from django.db import connection

from accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def drop_every_other_connection() -> int:
    """What a PostgreSQL restart does to the app's pooled connections (CONN_MAX_AGE keeps them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_app_survives_its_database_connections_being_dropped(live_server, owner):
    AccountFactory(owner=owner, team=owner.team, name="Survivor Ltd")
    session = requests.Session()
    login = f"{live_server.url}/auth/login/"
    session.get(login, timeout=10)
    session.post(login, data={"username": owner.email, "password": "secret-pass-123",
                              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                 headers={"Referer": login}, timeout=10)
    assert "Survivor Ltd" in session.get(f"{live_server.url}/accounts/", timeout=10).text
    assert drop_every_other_connection() >= 1  # the live server's own connection is among them
    answer = session.get(f"{live_server.url}/accounts/", timeout=10)
    assert answer.status_code == 200 and "Survivor Ltd" in answer.text
