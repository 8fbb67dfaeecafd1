"""The REST API's base and its cross-module contract: activity CRUD, the visibility matrix over
accounts, contacts and activities, forged ids, tokens, throttling, cursor pagination, query
budgets and the committed OpenAPI schema. Each module's own API tests live next to it
(accounts/tests/test_api.py, contacts/tests/test_api.py, sales/tests/test_api_*.py)."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from activities.models import Activity, Reminder
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.api import tokens
from crm.models import ApiToken
from crm.tests.api_helpers import api_for
from crm.tests.test_visibility_matrix import PRIVATE, make_task, shared

pytestmark = pytest.mark.django_db

SCHEMA_FILE = Path(django_settings.BASE_DIR) / "docs" / "openapi.yaml"
REFRESH_COMMAND = ".venv/bin/python stack.py manage spectacular --file docs/openapi.yaml --fail-on-warn"


def make_account(*, owner, shared_with_team, name):
    return AccountFactory(owner=owner, shared_with_team=shared_with_team, name=name)


def make_contact(*, owner, shared_with_team, name):
    return ContactFactory(owner=owner, shared_with_team=shared_with_team, first_name="Mia", last_name=name,
                          emails=["mia@example.com"])


# --- CRUD through the services ------------------------------------------------------


def test_activity_crud_runs_the_service(owner, teammate, manager):
    api = api_for(manager)
    account = AccountFactory(owner=teammate)
    starts = timezone.now() + timedelta(days=2)
    response = api.post("/api/activities/", {
        "kind": "task", "subject": "Send the quote", "account": account.pk, "owner": teammate.pk,
        "occurred_at": starts.isoformat(), "remind_minutes_before": 60, "attendees": [owner.pk],
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert body["status"] == "open" and body["attendees"] == [owner.pk]
    assert activity.team_id == teammate.team_id
    assert Reminder.objects.filter(activity=activity).count() == 2  # owner and attendee
    assert teammate.notifications.filter(kind="assignment").exists()  # assigned by someone else

    response = api.patch(f"/api/activities/{activity.pk}/", {"status": "done"}, format="json")
    assert response.status_code == 200 and response.json()["completed_at"] is not None
    response = api.patch(f"/api/activities/{activity.pk}/", {"kind": "call"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()

    assert api.delete(f"/api/activities/{activity.pk}/").status_code == 204
    assert Activity.objects.get(pk=activity.pk).deleted_at is not None


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "call", "subject": "No link"}, "non_field_errors"),
    ({"kind": "meeting", "subject": "Back to front", "ends_at": "2026-01-01T09:00:00Z",
      "occurred_at": "2026-01-01T10:00:00Z", "link": True}, "ends_at"),
    ({"kind": "note", "subject": "Long ago", "occurred_at": "0900-01-01T10:00:00Z", "link": True}, "occurred_at"),
    ({"kind": "task", "subject": "Far", "remind_minutes_before": 10**9}, "remind_minutes_before"),
    ({"kind": "visit", "subject": "Unknown kind", "link": True}, "kind"),
])
def test_activity_validation(owner, body, field):
    api = api_for(owner)
    if body.pop("link", False):
        body["account"] = AccountFactory(owner=owner).pk
    response = api.post("/api/activities/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Activity.objects.exists()


def test_contact_of_another_account_is_refused(owner):
    api = api_for(owner)
    contact = ContactFactory(owner=owner, account=AccountFactory(owner=owner))
    other = AccountFactory(owner=owner)
    response = api.post("/api/activities/", {"kind": "call", "subject": "Mixed", "account": other.pk,
                                             "contact": contact.pk}, format="json")
    assert response.status_code == 400 and "contact" in response.json()


def test_a_services_validation_error_is_a_400(owner):
    """The services validate the whole row (full_clean): a stored value the model refuses
    surfaces as a 400 naming the field, and the transaction changes nothing."""
    contact = ContactFactory(owner=owner, emails=["not an e-mail"], title="Before")
    response = api_for(owner).patch(f"/api/contacts/{contact.pk}/", {"title": "After"}, format="json")
    assert response.status_code == 400 and "emails" in response.json()
    contact.refresh_from_db()
    assert contact.title == "Before"


def test_roles_that_may_not_create_get_403(executive, marketer, support_agent):
    assert api_for(executive).post("/api/accounts/", {"name": "X"}, format="json").status_code == 403
    assert api_for(marketer).post("/api/contacts/", {"last_name": "X"}, format="json").status_code == 403
    # Support agents log their own activities (read-only on customers).
    account = AccountFactory()
    response = api_for(support_agent).post("/api/activities/", {"kind": "call", "subject": "Ticket call",
                                                                "account": account.pk}, format="json")
    assert response.status_code == 201


# --- The visibility matrix ------------------------------------------------------------

API_MODELS = [
    pytest.param("accounts", make_account, {"industry": "Changed"}, id="account"),
    pytest.param("contacts", make_contact, {"title": "Changed"}, id="contact"),
    pytest.param("activities", make_task, {"body": "Changed"}, id="activity"),
]


@pytest.mark.parametrize(("endpoint", "factory", "change"), API_MODELS)
@pytest.mark.parametrize("is_shared", [False, True], ids=["private", "shared"])
@pytest.mark.parametrize("actor", list(PRIVATE))
def test_matrix(cast, endpoint, factory, change, is_shared, actor):
    record = factory(owner=cast["owner"], shared_with_team=is_shared, name="Matrix Record Ltd")
    visible, editable = (shared(PRIVATE) if is_shared else PRIVATE)[actor]
    api = api_for(cast[actor])
    url = f"/api/{endpoint}/{record.pk}/"

    listed = [row["id"] for row in api.get(f"/api/{endpoint}/").json()["results"]]
    assert (record.pk in listed) is visible
    assert api.get(url).status_code == (200 if visible else 404)

    write_status = 404 if not visible else (200 if editable else 403)
    assert api.patch(url, change, format="json").status_code == write_status
    record.refresh_from_db()
    field, value = next(iter(change.items()))
    assert (getattr(record, field) == value) is (write_status == 200)

    delete_status = 404 if not visible else (204 if editable else 403)
    assert api.delete(url).status_code == delete_status
    record.refresh_from_db()
    assert (record.deleted_at is not None) is (delete_status == 204)


@pytest.mark.parametrize(("endpoint", "factory", "change"), API_MODELS)
def test_hidden_and_missing_rows_answer_alike(cast, endpoint, factory, change):
    hidden = factory(owner=cast["owner"], shared_with_team=False, name="Hidden")
    api = api_for(cast["outsider"])
    for method in ("get", "patch", "put", "delete"):
        hidden_response = getattr(api, method)(f"/api/{endpoint}/{hidden.pk}/", change, format="json")
        missing_response = getattr(api, method)(f"/api/{endpoint}/{hidden.pk + 10_000}/", change, format="json")
        assert hidden_response.status_code == missing_response.status_code == 404
        assert hidden_response.content == missing_response.content
    assert api.get(f"/api/{endpoint}/not-a-number/").status_code == 404
    assert api.get(f"/api/{endpoint}/{10**30}/").status_code == 404


def test_activity_of_a_visible_account_is_visible(owner, outsider, admin_user):
    """A customer's history belongs to the customer: after a hand-over the new owner reads it."""
    account = AccountFactory(owner=outsider)
    activity = Activity.objects.create(kind="call", subject="Old call", owner=owner, team=owner.team, account=account)
    api = api_for(outsider)
    assert api.get(f"/api/activities/{activity.pk}/").status_code == 200
    assert api.patch(f"/api/activities/{activity.pk}/", {"body": "x"}, format="json").status_code == 403


# --- Forged ids -------------------------------------------------------------------------


def test_forged_foreign_keys_are_validation_errors(owner, outsider, teammate):
    hidden_account = AccountFactory(owner=owner)
    hidden_contact = ContactFactory(owner=owner)
    api = api_for(outsider)

    def refused(url, body, field, method="post"):
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code == 400, response.json()
        assert list(response.json()) == [field]
        return response.json()[field]

    hidden_error = refused("/api/contacts/", {"last_name": "Spy", "account": hidden_account.pk}, "account")
    missing_error = refused("/api/contacts/", {"last_name": "Spy", "account": 999_999}, "account")
    assert hidden_error[0].replace(str(hidden_account.pk), "N") == missing_error[0].replace("999999", "N")
    refused("/api/activities/", {"kind": "call", "subject": "Spy", "account": hidden_account.pk}, "account")
    refused("/api/activities/", {"kind": "call", "subject": "Spy", "contact": hidden_contact.pk}, "contact")
    own_account = AccountFactory(owner=outsider)
    refused("/api/activities/", {"kind": "meeting", "subject": "Spy", "account": own_account.pk,
                                 "contact_attendees": [hidden_contact.pk]}, "contact_attendees")
    refused("/api/accounts/", {"name": "Spy", "parent": hidden_account.pk}, "parent")
    refused("/api/accounts/", {"name": "Gift", "owner": teammate.pk}, "owner")  # reps assign only to themselves
    refused(f"/api/accounts/{own_account.pk}/", {"parent": hidden_account.pk}, "parent", method="patch")
    own_contact = ContactFactory(owner=outsider)
    refused(f"/api/contacts/{own_contact.pk}/", {"account": hidden_account.pk}, "account", method="patch")

    assert not Contact.objects.filter(last_name="Spy").exists()
    assert not Activity.objects.exists()
    assert not Account.objects.filter(name__in=["Spy", "Gift"]).exists()
    own_account.refresh_from_db()
    own_contact.refresh_from_db()
    assert own_account.parent_id is None and own_contact.account_id is None


# --- Filtering, ordering, cursor pagination ---------------------------------------------


def test_activity_filters(owner):
    api = api_for(owner)
    task = Activity.objects.create(kind="task", subject="Call back", owner=owner, team=owner.team, status="open")
    ids = [row["id"] for row in api.get("/api/activities/?kind=task&status=open&q=call").json()["results"]]
    assert ids == [task.pk]
    assert api.get("/api/activities/?kind=meeting").json()["results"] == []


def test_ordering_and_cursor_pagination(owner):
    api = api_for(owner)
    names = ["Delta", "alpha", "Charlie", "bravo", "Echo"]
    for name in names:
        AccountFactory(owner=owner, name=name)
    AccountFactory(owner=owner, name="Echo")  # a tie: the id decides

    seen, url = [], "/api/accounts/?ordering=name&page_size=2"
    while url:
        page = api.get(url).json()
        assert len(page["results"]) <= 2
        seen += [(row["name"], row["id"]) for row in page["results"]]
        url = page["next"]
    assert len(seen) == 6 and len(set(seen)) == 6
    assert seen == sorted(seen, key=lambda row: (row[0], row[1]))  # the database's C collation

    newest_first = [row["id"] for row in api.get("/api/accounts/").json()["results"]]
    assert newest_first == sorted(newest_first, reverse=True)
    # An ordering not on the allow-list falls back to the default.
    assert [row["id"] for row in api.get("/api/accounts/?ordering=owner__password").json()["results"]] == newest_first


@pytest.mark.parametrize("cursor", ["garbage", base64.b64encode(b"p=abc").decode(),
                                    base64.b64encode(b"p=\x00x").decode(), base64.b64encode(b"o=-1").decode()])
def test_a_forged_cursor_is_404_not_500(owner, cursor):
    AccountFactory(owner=owner)
    api = api_for(owner)
    for ordering in ("-id", "updated_at", "name"):
        response = api.get("/api/accounts/", {"cursor": cursor, "ordering": ordering})
        assert response.status_code in (200, 404)
        assert response["Content-Type"] == "application/json"


# --- Authentication and tokens ------------------------------------------------------------


def test_token_lifecycle(owner):
    token, key = tokens.api_token_create(user=owner, name="Sync")
    assert key.startswith("crm_") and len(key) > 40
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in token.key_hash
    assert token.prefix == key[:12] and not ApiToken.objects.filter(key_hash=key).exists()
    assert token.last_used_at is None

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/accounts/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    tokens.api_token_revoke(token=token, actor=owner)
    response = client.get("/api/accounts/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_inactive_users_tokens_do_not_work(owner):
    api = api_for(owner)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert api.get("/api/accounts/").status_code == 401


@pytest.mark.parametrize("header", [None, "Token", "Token a b", "Token crm_nope", "Token ключ", "Bearer abc"])
def test_bad_credentials_are_401(db, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/contacts/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_session_authentication_enforces_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get("/api/accounts/").status_code == 200
    response = client.post("/api/accounts/", {"name": "No CSRF"}, content_type="application/json")
    assert response.status_code == 403
    client.get(reverse("profile"))  # sets the CSRF cookie
    response = client.post("/api/accounts/", {"name": "With CSRF"}, content_type="application/json",
                           headers={"X-CSRFToken": client.cookies["csrftoken"].value})
    assert response.status_code == 201
    assert list(Account.objects.values_list("name", flat=True)) == ["With CSRF"]


def test_token_pages(client, owner, teammate):
    other_token, _ = tokens.api_token_create(user=teammate, name="Teammate's")
    client.force_login(owner)
    response = client.post(reverse("api_tokens"), {"name": "Spreadsheet"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=owner)
    key = response.context["new_key"]
    assert key in response.content.decode() and tokens.hash_key(key) == token.key_hash

    page = client.get(reverse("api_tokens")).content.decode()
    assert "Spreadsheet" in page and token.prefix in page
    assert key not in page  # shown once
    assert "Teammate" not in page

    assert client.post(reverse("api_token_revoke", args=[other_token.pk])).status_code == 404
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    other_token.refresh_from_db()
    assert token.revoked_at is not None and other_token.revoked_at is None
    assert client.post(reverse("api_tokens"), {"name": "  "}).context["form"].errors


def test_admin_sees_and_revokes_every_token(client, owner, admin_user):
    token, _ = tokens.api_token_create(user=owner, name="Owner's sync")
    client.force_login(owner)
    assert client.get(reverse("admin_api_tokens")).status_code == 403
    assert client.post(reverse("admin_api_token_revoke", args=[token.pk])).status_code == 403
    client.force_login(admin_user)
    page = client.get(reverse("admin_api_tokens")).content.decode()
    assert "Owner&#x27;s sync" in page and owner.email in page
    assert client.post(reverse("admin_api_token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_limit(owner):
    for number in range(tokens.MAX_ACTIVE_TOKENS):
        tokens.api_token_create(user=owner, name=f"t{number}")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        tokens.api_token_create(user=owner, name="one too many")


# --- Rate limiting ------------------------------------------------------------------------


def test_rate_limit_per_token(owner, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "3/hour"}}
    api, other = api_for(owner, "one"), api_for(owner, "two")
    for remaining in (2, 1, 0):
        response = api.get("/api/accounts/")
        assert response.status_code == 200
        assert response["X-RateLimit-Remaining"] == str(remaining)
    response = api.get("/api/accounts/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert other.get("/api/accounts/").status_code == 200  # each token has its own budget


# --- Query budget -----------------------------------------------------------------------------


def _queries(api, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = api.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("endpoint", ["accounts", "contacts", "activities"])
def test_list_query_count_does_not_grow_with_rows(owner, teammate, endpoint):
    api = api_for(owner)
    api.get("/api/accounts/")  # first use stamps last_used_at once

    def add_rows(count):
        for _ in range(count):
            account = AccountFactory(owner=owner)
            contact = ContactFactory(owner=owner, account=account)
            activity = Activity.objects.create(kind="meeting", subject="Meet", owner=owner, team=owner.team,
                                               account=account, contact=contact)
            activity.attendees.set([teammate])
            activity.contact_attendees.set([contact])

    add_rows(1)
    one = _queries(api, f"/api/{endpoint}/")
    add_rows(49)
    fifty = _queries(api, f"/api/{endpoint}/")
    assert one == fifty
    assert fifty <= 8


# --- The committed OpenAPI schema ---------------------------------------------------------


def test_openapi_schema_is_up_to_date(tmp_path):
    generated = tmp_path / "openapi.yaml"
    with translation.override("en"):
        call_command("spectacular", "--file", str(generated), "--fail-on-warn")
    if not SCHEMA_FILE.exists() or generated.read_text() != SCHEMA_FILE.read_text():
        pytest.fail(f"The API changed but docs/openapi.yaml did not. Review the change and refresh it with:\n"
                    f"  {REFRESH_COMMAND}\nthen commit docs/openapi.yaml.", pytrace=False)


def test_schema_and_docs_pages(client, owner):
    assert client.get("/api/schema/").status_code == 401  # JSON clients get 401, not a sign-in page
    api = api_for(owner)
    assert api.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 302  # the browser page asks to sign in
    client.force_login(owner)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>" not in page  # every script is a same-origin file (CSP)
    assert "swagger-ui-bundle.js" in page and "//cdn" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


# --- The route registry -----------------------------------------------------------------


def test_each_module_registers_its_routes():
    from crm.api import routes

    routes.autodiscover()  # as crm/api/urls.py does when the URLconf loads
    assert {route.prefix: route.basename for route in routes.ROUTES.values()} == {
        "activities": "activity", "accounts": "account", "contacts": "contact", "opportunities": "opportunity",
        "pipelines": "pipeline", "orders": "order", "invoices": "invoice", "payments": "payment",
        "products": "product", "price-books": "price-book", "quotes": "quote", "leads": "lead", "tickets": "ticket",
        "articles": "article", "contracts": "contract", "work-orders": "work-order", "surveys": "survey",
        "campaigns": "campaign",
    }
    assert {routes.ROUTES[prefix].viewset.__module__ for prefix in ("accounts", "contacts", "leads", "quotes")} == {
        "accounts.api", "contacts.api", "sales.api.leads", "sales.api.quotes"}
    assert reverse("api:lead-detail", args=[1]) == "/api/leads/1/"
    assert reverse("api:price-book-list") == "/api/price-books/"


def test_a_taken_prefix_cannot_be_registered_again():
    from crm.api import routes

    routes.autodiscover()
    accounts = routes.ROUTES["accounts"]
    assert routes.register("accounts", accounts.viewset, basename="account") == accounts  # importing twice is fine
    with pytest.raises(ValueError, match="already registered"):
        routes.register("accounts", routes.ROUTES["contacts"].viewset, basename="account")
    with pytest.raises(ValueError, match="already registered"):
        routes.register("people", accounts.viewset, basename="contact")
    assert "people" not in routes.ROUTES
