"""Custom fields on tickets: the core's mechanism (crm/custom_fields.py) through its target registry —
defined by an admin, on the ticket form and page, as list filters, in both exports and in the API."""

import csv
import io

import pytest
from django.urls import reverse

from crm.models import CustomField, CustomFieldKind, Role, custom_field_targets
from crm.tests.factories import UserFactory
from exports import services as export_services
from service import services
from service.models import Ticket
from service.tests.factories import PolicyFactory, QueueFactory, agent

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def fields(db):
    return {
        "model": CustomField.objects.create(target="service.ticket", key="device_model", label="Модель устройства",
                                            kind=CustomFieldKind.TEXT, position=1),
        "severity": CustomField.objects.create(target="service.ticket", key="severity", label="Severity",
                                               kind=CustomFieldKind.CHOICE, choices="Minor\nMajor", required=True,
                                               position=2),
        "hours": CustomField.objects.create(target="service.ticket", key="downtime", label="Downtime, h",
                                            kind=CustomFieldKind.NUMBER, position=3),
        # An account's field never shows on tickets.
        "other": CustomField.objects.create(target="accounts.account", key="fleet", label="Fleet size"),
    }


@pytest.fixture
def desk(db):
    QueueFactory(is_default=True)
    PolicyFactory(calendar__around_the_clock=True)
    return agent(email="worker@example.com")


def test_tickets_are_a_target_the_admin_can_pick(client):
    assert ("service.ticket", "Tickets") in [(key, str(label)) for key, label in custom_field_targets()]
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    response = client.post(reverse("custom_field_list"), {"target": "service.ticket", "label": "Серийный номер",
                                                          "key": "serial", "kind": "text", "position": 0,
                                                          "filterable": "on", "active": "on"})
    assert response.status_code == 302
    assert CustomField.objects.get(key="serial").target == "service.ticket"
    assert "Серийный номер" in client.get(reverse("custom_field_list")).content.decode()


def test_the_form_checks_and_stores_custom_values_and_the_page_shows_them(client, desk, fields):
    client.force_login(desk)
    form = client.get(reverse("service:ticket_create")).content.decode()
    assert 'name="cf_device_model"' in form and 'name="cf_severity"' in form and "cf_fleet" not in form
    refused = client.post(reverse("service:ticket_create"), {
        "subject": "Сканер не включается", "channel": "phone", "category": "incident", "priority": 3,
        "cf_downtime": "много"})
    assert refused.status_code == 200 and Ticket.objects.count() == 0
    assert "cf_severity" in refused.context["form"].errors and "cf_downtime" in refused.context["form"].errors
    response = client.post(reverse("service:ticket_create"), {
        "subject": "Сканер не включается", "channel": "phone", "category": "incident", "priority": 3,
        "cf_device_model": "Zebra DS2208", "cf_severity": "Major", "cf_downtime": "1.50"})
    ticket = Ticket.objects.get()
    assert response.url == ticket.get_absolute_url()
    assert ticket.custom == {"device_model": "Zebra DS2208", "severity": "Major", "downtime": "1.5"}
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Модель устройства" in page and "Zebra DS2208" in page and "Major" in page

    edit = client.get(reverse("service:ticket_edit", args=[ticket.pk])).content.decode()
    assert 'value="Zebra DS2208"' in edit
    client.post(reverse("service:ticket_edit", args=[ticket.pk]), {
        "subject": ticket.subject, "channel": "phone", "category": "incident", "priority": 3,
        "cf_device_model": "", "cf_severity": "Minor", "cf_downtime": "2"})
    ticket.refresh_from_db()
    assert ticket.custom == {"severity": "Minor", "downtime": "2"}


def test_an_inactive_fields_value_survives_an_edit(client, desk, fields):
    ticket = services.ticket_create(actor=desk, subject="Старое поле", custom={"legacy": "A-17", "severity": "Minor"})
    client.force_login(desk)
    client.post(reverse("service:ticket_edit", args=[ticket.pk]), {
        "subject": "Старое поле", "channel": "phone", "category": "question", "priority": 3, "cf_severity": "Major"})
    ticket.refresh_from_db()
    assert ticket.custom == {"legacy": "A-17", "severity": "Major"}


def test_the_list_filters_by_a_custom_field(client, desk, fields):
    services.ticket_create(actor=desk, subject="Major one", custom={"severity": "Major"})
    services.ticket_create(actor=desk, subject="Minor one", custom={"severity": "Minor"})
    client.force_login(desk)
    page = client.get(reverse("service:ticket_list"), {"cf_severity": "Major"}).content.decode()
    assert "Major one" in page and "Minor one" not in page
    # The filter's drawer offers it.
    assert 'name="cf_severity"' in client.get(reverse("service:ticket_list")).content.decode()


def test_both_exports_carry_the_custom_columns(client, desk, fields, settings, tmp_path):
    ticket = services.ticket_create(actor=desk, subject="Экспорт", custom={"device_model": "=HYPERLINK(1)",
                                                                          "severity": "Major"})
    client.force_login(desk)
    response = client.post(reverse("service:ticket_bulk"), {"action": "export", "ids": [ticket.pk], "query": ""})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-3:] == ["Модель устройства", "Severity", "Downtime, h"]
    assert rows[1][-3:] == ["'=HYPERLINK(1)", "Major", ""]  # a formula is neutralised

    settings.MEDIA_ROOT = tmp_path
    columns = [str(header) for header, _value in export_services._columns("service.ticket")]
    assert columns[-3:] == ["Модель устройства", "Severity", "Downtime, h"]


def test_the_api_reads_writes_and_checks_custom_fields(client, desk, fields):
    client.force_login(desk)
    refused = client.post("/api/tickets/", {"subject": "API", "custom": {"severity": "Huge"}},
                          content_type="application/json")
    assert refused.status_code == 400 and "severity" in refused.json()["custom"]
    missing = client.post("/api/tickets/", {"subject": "API"}, content_type="application/json")
    assert missing.status_code == 400 and "severity" in missing.json()["custom"]
    assert Ticket.objects.count() == 0
    created = client.post("/api/tickets/", {"subject": "API", "custom": {"severity": "Major", "downtime": "3.5"}},
                          content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["custom"] == {"severity": "Major", "downtime": "3.5"}
    ticket_id = created.json()["id"]
    changed = client.patch(f"/api/tickets/{ticket_id}/", {"custom": {"downtime": None, "device_model": "X1"}},
                           content_type="application/json")
    assert changed.status_code == 200
    assert Ticket.objects.get(pk=ticket_id).custom == {"severity": "Major", "device_model": "X1"}
    listed = client.get("/api/tickets/", {"cf_severity": "Major"}).json()
    assert [row["id"] for row in listed["results"]] == [ticket_id]
    assert client.get("/api/tickets/", {"cf_severity": "Minor"}).json()["results"] == []
