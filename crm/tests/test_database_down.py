"""PostgreSQL not answering: every page answers a friendly 503 in the app's look (not a 500 or the
debug page), the API a short JSON, and /healthz names the database within 2 s. The database is made
unreachable for real: the app's connection settings point at a port where nothing listens."""

import json
import time
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client

from crm.tests.mail_helpers import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_down():
    settings_dict = connection.settings_dict
    port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = str(free_port())
    try:
        yield
    finally:
        connection.close()
        settings_dict["PORT"] = port


@pytest.fixture
def browser_client(owner):
    client = Client(raise_request_exception=False)  # as a browser sees it, not the test's exception
    client.force_login(owner)
    return client


@pytest.mark.parametrize("debug", [False, True])
def test_a_page_answers_a_friendly_503_when_the_database_is_down(browser_client, settings, debug):
    settings.DEBUG = debug
    with database_down():
        response = browser_client.get("/accounts/?q=steel")
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "The database is not answering" in body and "Try again in a minute." in body
    assert 'href="/accounts/?q=steel"' in body  # "Try again" reloads the same page
    assert "crm/app.css" in body and "Traceback" not in body  # the app's look, never the debug page
    assert browser_client.get("/accounts/").status_code == 200  # back by itself


def test_a_form_post_with_the_database_down_says_it_was_not_saved(browser_client):
    with database_down():
        response = browser_client.post("/accounts/new/", {"name": "Lost?"})
    assert response.status_code == 503 and "it was not saved" in response.content.decode()


def test_the_page_is_in_the_readers_language(browser_client):
    with database_down():
        response = browser_client.get("/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 503 and "База данных не отвечает" in response.content.decode()


def test_the_api_answers_json(browser_client):
    with database_down():
        response = browser_client.get("/api/accounts/")
    assert response.status_code == 503
    assert json.loads(response.content)["down"] == ["database"]


def test_healthz_names_the_database_within_two_seconds():
    client = Client(raise_request_exception=False)
    with database_down():
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503 and elapsed < 2
    body = json.loads(response.content)
    assert "database" in body["down"] and body["mail"] == {"state": "unknown"}
