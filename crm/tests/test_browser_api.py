"""API tokens and the interactive API docs, driven as a person would, in the system Chromium."""

import re

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.tests.factories import AccountFactory
from conftest import sign_in
from crm.models import ApiToken

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def _api_status(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/accounts/").status_code


def test_create_a_token_see_it_once_and_revoke_it(page, owner):
    sign_in(page, owner)
    page.goto("/profile/tokens/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(page.locator("#no-tokens")).to_be_visible()

    page.get_by_label("Token name").fill("Accounting sync")
    page.get_by_role("button", name="Create token").click()
    key_field = page.get_by_label("New API key")
    expect(key_field).to_be_visible()
    key = key_field.input_value()
    assert key.startswith("crm_")
    expect(page.locator("#new-token")).to_contain_text("shown only this once")
    row = page.locator("#token-table tbody tr", has_text="Accounting sync")
    expect(row).to_contain_text(key[:12])
    expect(row).to_contain_text("Active")
    assert _api_status(key) == 200

    page.goto("/profile/tokens/")  # a later visit never shows the key again
    expect(page.get_by_label("New API key")).to_have_count(0)
    assert key not in page.content()
    expect(row).to_contain_text(re.compile(r"\d"))  # last used: just now

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke Accounting sync").click()
    expect(page.locator(".toast")).to_contain_text("was revoked")
    expect(page.locator("#token-table tbody tr", has_text="Accounting sync")).to_contain_text("Revoked")
    assert ApiToken.objects.get(name="Accounting sync").revoked_at is not None
    assert _api_status(key) == 401
    assert page.console_errors == [], page.failed_requests  # no CSP violation, no script error


def test_interactive_docs_work_under_the_csp(page, owner):
    AccountFactory(owner=owner, name="Docs Example Ltd")
    sign_in(page, owner)
    page.goto("/api/docs/")
    operation = page.locator("#operations-accounts-accounts_list")
    expect(operation).to_be_visible(timeout=20_000)  # Swagger UI rendered the schema
    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table .response .response-col_status").first
    expect(response).to_have_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text("Docs Example Ltd")
    assert page.console_errors == [], page.failed_requests  # no CSP violation, no script error
