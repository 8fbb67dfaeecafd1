"""Bad input gets a clear answer and changes nothing, never a 500 (issue 14, "500s instead of
clear answers"). Each test here failed before its fix."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm.tests.api_helpers import api_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/opportunities/?q=x", "/api/leads/?q=x"])
def test_a_text_search_by_a_role_that_reads_none_of_the_rows_answers_404_not_500(support_agent, url):
    """bounded_matches on a scope that reads nothing used to raise EmptyResultSet (a 500). A role that
    reads none of these records now gets the route's 404 (issue 17), whatever the query."""
    response = api_for(support_agent).get(url)
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/autocomplete/accounts/", "/autocomplete/contacts/", "/accounts/", "/search/"])
def test_a_nul_character_in_a_query_is_refused_with_a_clear_message(client, owner, path):
    client.force_login(owner)
    response = client.get(path, {"q": "acme\x00"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_character_in_an_api_query_or_body_is_a_400_and_changes_nothing(owner):
    api = api_for(owner)
    assert api.get("/api/accounts/", {"q": "\x00"}).status_code == 400
    response = api.post("/api/accounts/", {"name": "Evil\x00Corp"}, format="json")
    assert response.status_code == 400 and "NUL character" in response.json()["detail"]
    assert not Account.objects.exists()


def test_a_nul_character_in_a_form_changes_nothing(client, owner):
    account = AccountFactory(owner=owner, team=owner.team, name="Acme")
    client.force_login(owner)
    response = client.post(reverse("accounts:edit", args=[account.pk]), urlencode({"name": "Ac\x00me"}),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.name == "Acme"
