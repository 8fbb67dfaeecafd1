"""The visibility matrix: every owned model × every role × list/detail/edit/delete.

A hidden row answers 404 exactly like a missing one; a visible row the user may not
change answers 403. Later modules add their models to OWNED_MODELS.
"""

import re
from dataclasses import dataclass

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm.models import Activity


def make_task(*, owner, shared_with_team, name):
    return Activity.objects.create(kind="task", subject=name, owner=owner, team=owner.team,
                                   shared_with_team=shared_with_team, status="open")


def make_contact(*, owner, shared_with_team, name):
    return ContactFactory(owner=owner, shared_with_team=shared_with_team, first_name="", last_name=name)


@dataclass(frozen=True)
class OwnedCase:
    name: str
    factory: object
    list_url: str | None  # None: the model has no list page of its own
    detail_url: str
    edit_url: str
    delete_url: str


OWNED_MODELS = [
    OwnedCase("account", AccountFactory, "accounts:list", "accounts:detail", "accounts:edit", "accounts:delete"),
    OwnedCase("contact", make_contact, "contacts:list", "contacts:detail", "contacts:edit", "contacts:delete"),
    OwnedCase("activity", make_task, None, "activity_detail", "activity_edit", "activity_delete"),
]

# Who sees / edits a record that `owner` keeps private (not shared with the team).
PRIVATE = {
    # actor: (visible, editable)
    "owner": (True, True),
    "teammate": (False, False),
    "manager": (True, True),
    "outsider": (False, False),
    "executive": (True, False),
    "support_agent": (True, False),
    "marketer": (True, False),
    "admin": (True, True),
}
# Sharing with the team opens the record to teammates; nobody else changes.
SHARED = {**PRIVATE, "teammate": (True, True)}


def without_csrf(body: bytes) -> bytes:
    """Pages differ only by their per-request CSRF token."""
    return re.sub(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', rb"\1", body)


def expected_status(visible: bool, editable: bool, action: str) -> int:
    if not visible:
        return 404
    if action in {"edit", "delete"} and not editable:
        return 403
    return 200


CASE_ACTIONS = [
    pytest.param(case, action, id=f"{case.name}-{action}")
    for case in OWNED_MODELS
    for action in ("list", "detail", "edit", "delete")
    if action != "list" or case.list_url
]


@pytest.mark.parametrize(("case", "action"), CASE_ACTIONS)
@pytest.mark.parametrize("shared", [False, True], ids=["private", "shared"])
@pytest.mark.parametrize("actor", list(PRIVATE))
def test_matrix(client, cast, case, shared, actor, action):
    record = case.factory(owner=cast["owner"], shared_with_team=shared, name="Matrix Record Ltd")
    visible, editable = (SHARED if shared else PRIVATE)[actor]
    client.force_login(cast[actor])

    if action == "list":
        response = client.get(reverse(case.list_url))
        assert response.status_code == 200
        assert ("Matrix Record Ltd" in response.content.decode()) is visible
        return

    url = reverse({"detail": case.detail_url, "edit": case.edit_url, "delete": case.delete_url}[action],
                  args=[record.pk])
    assert client.get(url).status_code == expected_status(visible, editable, action)


@pytest.mark.parametrize("case", OWNED_MODELS, ids=lambda case: case.name)
@pytest.mark.parametrize("actor", ["teammate", "outsider", "executive", "support_agent"])
def test_forbidden_writes_change_nothing(client, cast, case, actor):
    record = case.factory(owner=cast["owner"], shared_with_team=False, name="Untouched Ltd")
    before = str(record)
    client.force_login(cast[actor])
    client.post(reverse(case.edit_url, args=[record.pk]),
                {"name": "Hacked", "last_name": "Hacked", "subject": "Hacked", "type": "customer"})
    client.post(reverse(case.delete_url, args=[record.pk]))
    record.refresh_from_db()
    assert str(record) == before
    assert record.deleted_at is None


@pytest.mark.parametrize("case", OWNED_MODELS, ids=lambda case: case.name)
def test_missing_and_hidden_rows_answer_alike(client, cast, case):
    hidden = case.factory(owner=cast["owner"], shared_with_team=False, name="Hidden")
    client.force_login(cast["outsider"])
    hidden_response = client.get(reverse(case.detail_url, args=[hidden.pk]))
    missing_response = client.get(reverse(case.detail_url, args=[hidden.pk + 10_000]))
    assert hidden_response.status_code == missing_response.status_code == 404
    assert without_csrf(hidden_response.content) == without_csrf(missing_response.content)


@pytest.mark.parametrize("case", OWNED_MODELS, ids=lambda case: case.name)
def test_deleted_rows_are_hidden_from_everyone(client, cast, case):
    record = case.factory(owner=cast["owner"], shared_with_team=False, name="Soon deleted")
    client.force_login(cast["owner"])
    client.post(reverse(case.delete_url, args=[record.pk]))
    for actor in ("owner", "manager", "admin", "executive"):
        client.force_login(cast[actor])
        assert client.get(reverse(case.detail_url, args=[record.pk])).status_code == 404
