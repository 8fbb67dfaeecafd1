"""Shared by every module's API tests."""

from rest_framework.test import APIClient

from crm.api import tokens


def api_for(user, name="test") -> APIClient:
    """A client authenticated the way integrations are: with a token header."""
    token, key = tokens.api_token_create(user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.token, client.key = token, key
    return client
