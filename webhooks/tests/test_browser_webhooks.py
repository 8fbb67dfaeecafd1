"""An admin registers an endpoint, pings it and reads the delivery log, in the system Chromium."""

import re

import pytest
from playwright.sync_api import expect

from conftest import sign_in
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.tests.receiver import verify

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]


def test_admin_registers_an_endpoint_pings_it_and_sees_the_delivery(page, admin_user, receiver):
    sign_in(page, admin_user)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    page.get_by_role("link", name="New endpoint").first.click()

    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description").fill("Local receiver")
    page.get_by_label("Contact created (contact.created)").check()
    page.get_by_label("Contact updated (contact.updated)").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast")).to_contain_text("The endpoint was added")

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["contact.created", "contact.updated"]
    secret = page.get_by_role("textbox", name="Signing secret")
    expect(secret).to_be_visible()  # shown open right after creation
    expect(secret).to_have_value(endpoint.secret)

    page.get_by_role("button", name="Send a test ping").click()
    expect(page).to_have_url(re.compile(rf"/admin-tools/webhooks/deliveries/\?endpoint={endpoint.pk}$"))
    delivery = WebhookDelivery.objects.get()
    row = page.locator(f"#delivery-{delivery.pk}")
    expect(row).to_contain_text("webhook.ping")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("200")
    assert delivery.status == DeliveryStatus.DELIVERED
    assert verify(endpoint.secret, receiver.requests[0].headers, receiver.requests[0].body)

    row.get_by_role("button", name=f"Resend delivery #{delivery.pk}").click()
    expect(page.locator(".toast").last).to_contain_text("queued again")
    expect(page.locator("#delivery-table tbody tr")).to_have_count(2)
    assert len(receiver.requests) == 2

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No delivery matches these filters.")).to_be_visible()
    assert page.console_errors == [], page.failed_requests  # no CSP violation, no script error


def test_a_rep_gets_403_and_no_menu_item(page, owner):
    sign_in(page, owner)
    page.locator("#user-menu").click()
    expect(page.get_by_role("link", name="Webhooks")).to_have_count(0)
    response = page.goto("/admin-tools/webhooks/")
    assert response.status == 403
