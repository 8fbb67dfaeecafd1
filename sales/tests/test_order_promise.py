"""The delivery date promised on an order (`Order.promised_on`): set and cleared on the order page, entered with a
direct order, refused with a message when it is before the order date (nothing changes), shown with whether the
first shipment kept it; in the API, the export and the order list's shipment filters."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from crm.tests.api_helpers import api_for
from exports.registry import EXPORTERS, filtered_rows
from sales import billing_services
from sales.models import Order, OrderStatus
from sales.tests.billing_helpers import order_for

pytestmark = pytest.mark.django_db


def promise(client, order, day, version=None):
    return client.post(reverse("sales:order_promise", args=[order.pk]),
                       {"promised_on": day.isoformat() if day else "",
                        "version": order.lock_version if version is None else version})


def test_the_owner_sets_changes_and_clears_the_promised_date(client, owner):
    order = order_for(owner)
    client.force_login(owner)
    day = timezone.localdate() + datetime.timedelta(days=10)
    response = promise(client, order, day)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.promised_on == day and order.lock_version == 2
    page = client.get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert 'id="promise-form"' in page and "Delivery promised for" in page
    assert order.events.filter(promised_on=day).exists()  # the audit history keeps it
    promise(client, order, None)
    order.refresh_from_db()
    assert order.promised_on is None


def test_a_date_before_the_order_is_refused_and_nothing_changes(client, owner):
    order = order_for(owner)
    client.force_login(owner)
    response = promise(client, order, order.ordered_on - datetime.timedelta(days=1))
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot be before the order date" in page and "was not saved" in page
    response = client.post(reverse("sales:order_promise", args=[order.pk]), {"promised_on": "31.02.2026"})
    assert response.status_code == 400 and "Enter a valid date" in response.content.decode()
    far = promise(client, order, order.ordered_on + datetime.timedelta(days=800))
    assert far.status_code == 400 and "within two years" in far.content.decode()
    order.refresh_from_db()
    assert order.promised_on is None and order.lock_version == 1


def test_a_stale_form_does_not_overwrite_a_newer_promise(client, owner):
    order = order_for(owner)
    client.force_login(owner)
    first = order.ordered_on + datetime.timedelta(days=3)
    promise(client, order, first)
    response = promise(client, order, order.ordered_on + datetime.timedelta(days=9), version=1)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.promised_on == first


def test_others_cannot_set_it(client, owner, outsider):
    order = order_for(owner)
    client.force_login(outsider)
    assert promise(client, order, timezone.localdate()).status_code == 404
    order.refresh_from_db()
    assert order.promised_on is None


def test_the_order_page_says_whether_the_first_shipment_kept_the_promise(client, owner):
    order = order_for(owner)
    billing_services.order_set_status(order=order, status=OrderStatus.CONFIRMED, actor=owner)
    order = billing_services.order_set_promised_on(order=order, promised_on=order.ordered_on, actor=owner)
    billing_services.shipment_record(order=order, actor=owner, shipped_on=order.ordered_on + datetime.timedelta(2))
    client.force_login(owner)
    page = client.get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert "shipped late" in page
    billing_services.order_set_promised_on(order=order, promised_on=order.ordered_on + datetime.timedelta(2),
                                           actor=owner)
    page = client.get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert "shipped on time" in page and "shipped late" not in page


def test_a_direct_order_takes_a_promised_date(client, owner):
    account = AccountFactory(owner=owner, team=owner.team)
    client.force_login(owner)
    today = timezone.localdate()
    form = {"account": account.pk, "currency": "EUR", "ordered_on": today.isoformat(),
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-name": "x", "lines-0-unit_price": "10"}
    refused = client.post(reverse("sales:order_create"),
                          {**form, "promised_on": (today - datetime.timedelta(days=1)).isoformat()})
    assert refused.status_code == 200 and "cannot be before the order date" in refused.content.decode()
    assert not Order.objects.exists()
    response = client.post(reverse("sales:order_create"),
                           {**form, "promised_on": (today + datetime.timedelta(days=7)).isoformat()})
    assert response.status_code == 302
    assert Order.objects.get().promised_on == today + datetime.timedelta(days=7)


def test_the_api_and_the_export_carry_it_and_the_list_filters_shipments(owner):
    order = order_for(owner)
    billing_services.order_set_status(order=order, status=OrderStatus.CONFIRMED, actor=owner)
    day = order.ordered_on + datetime.timedelta(days=4)
    billing_services.order_set_promised_on(order=order, promised_on=day, actor=owner)
    billing_services.shipment_record(order=order, actor=owner, shipped_on=day)
    billing_services.shipment_record(order=order, actor=owner, shipped_on=day + datetime.timedelta(days=30))
    other = order_for(owner)  # never shipped
    assert api_for(owner).get(f"/api/orders/{order.pk}/").json()["promised_on"] == day.isoformat()
    exporter = EXPORTERS["sales.order"]
    headers = [str(label) for label, _value in exporter.columns]
    column = headers.index("Promised delivery date")
    rows = {row.pk: row for row in filtered_rows(exporter, owner, "")}
    assert exporter.columns[column][1](rows[order.pk]) == day and exporter.columns[column][1](rows[other.pk]) is None

    def listed(query):
        return {row.pk for row in filtered_rows(exporter, owner, query)}

    assert listed(f"shipped_from={day}&shipped_to={day}") == {order.pk}
    assert listed(f"shipped_from={day + datetime.timedelta(days=1)}") == set()  # its first shipment counts
    assert listed("punctuality=on_time") == {order.pk}
    assert listed("punctuality=late") == set() and listed("punctuality=no_promise") == set()
    assert listed("no_product_family=true") == {order.pk, other.pk}  # typed lines, no product
    assert Decimal(rows[order.pk].total) > 0
