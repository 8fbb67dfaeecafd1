"""docs/webhooks.md tells receivers which events exist: its table must be the registry, and the endpoint
form must accept every event it lists (webhook.ping included)."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from webhooks import events
from webhooks.forms import EndpointForm
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def documented_events() -> set[str]:
    text = (settings.BASE_DIR / "docs" / "webhooks.md").read_text()
    table = text[text.index("| event | sent when | record |"):]
    table_end = next(number for number, line in enumerate(table.splitlines()[2:]) if not line.startswith("|"))
    rows = table.splitlines()[2:2 + table_end]
    return {name for row in rows for name in re.findall(r"`([a-z_]+\.[a-z_]+)`", row.split("|")[1])}


def test_the_docs_table_lists_exactly_the_registered_events_and_the_ping():
    documented = documented_events()
    assert len(events.EVENTS) > 20
    assert documented == set(events.EVENTS) | {events.PING}


def test_the_endpoint_form_offers_and_accepts_every_documented_event(admin_client):
    offered = {value for value, _label in EndpointForm().fields["events"].choices}
    assert offered == documented_events()
    response = admin_client.post(reverse("webhooks:endpoint_create"), {
        "url": "https://erp.example.com/hooks", "events": ["webhook.ping", "quote.sent"], "active": "on"})
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().events == ["webhook.ping", "quote.sent"]
