
import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.tasks import deliver
from webhooks.tests.factories import DeliveryFactory, EndpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def admin_urls(endpoint, delivery):
    return [
        ("get", reverse("webhooks:endpoint_list")),
        ("get", reverse("webhooks:endpoint_create")),
        ("post", reverse("webhooks:endpoint_create")),
        ("get", reverse("webhooks:endpoint_edit", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint_edit", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint_rotate_secret", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint_ping", args=[endpoint.pk])),
        ("get", reverse("webhooks:delivery_list")),
        ("get", reverse("webhooks:delivery_detail", args=[delivery.pk])),
        ("post", reverse("webhooks:delivery_resend", args=[delivery.pk])),
    ]


@pytest.mark.parametrize("role", ["owner", "manager", "executive", "support_agent", "marketer"])
def test_only_admins_see_webhooks(client, cast, role):
    endpoint = EndpointFactory()
    delivery = DeliveryFactory(endpoint=endpoint)
    client.force_login(cast[role])
    for method, url in admin_urls(endpoint, delivery):
        response = getattr(client, method)(url, {"url": "https://evil.example/", "events": ["contact.created"]})
        assert response.status_code == 403, (role, method, url)
        assert endpoint.secret not in response.content.decode()
    assert WebhookEndpoint.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1
    endpoint.refresh_from_db()
    assert endpoint.url != "https://evil.example/"


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("webhooks:endpoint_list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_admin_menu_links_to_webhooks(admin_client, client, owner):
    assert reverse("webhooks:endpoint_list") in admin_client.get(reverse("home")).content.decode()


def test_the_menu_hides_webhooks_from_others(client, owner):
    client.force_login(owner)
    assert reverse("webhooks:endpoint_list") not in client.get(reverse("home")).content.decode()


def test_admin_creates_an_endpoint_and_sees_its_secret(admin_client, admin_user):
    response = admin_client.get(reverse("webhooks:endpoint_create"))
    body = response.content.decode()
    assert 'value="contact.created"' in body and 'type="checkbox"' in body
    response = admin_client.post(reverse("webhooks:endpoint_create"), {
        "url": "https://erp.example.com/hooks", "description": "ERP", "events": ["contact.created", "account.updated"],
        "active": "on",
    })
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:endpoint_edit", args=[endpoint.pk]) + "?created=1"
    assert endpoint.events == ["contact.created", "account.updated"]
    assert endpoint.created_by == admin_user
    page = admin_client.get(response["Location"]).content.decode()
    assert endpoint.secret in page
    assert "<details class=\"mb-2\" open>" in page


def test_the_form_refuses_bad_input(admin_client):
    response = admin_client.post(reverse("webhooks:endpoint_create"), {"url": "javascript:alert(1)", "events": []})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose at least one event." in body
    assert "Enter a valid URL." in body
    assert not WebhookEndpoint.objects.exists()


def test_admin_edits_an_endpoint(admin_client):
    endpoint = EndpointFactory(events=["contact.created"])
    response = admin_client.post(reverse("webhooks:endpoint_edit", args=[endpoint.pk]), {
        "url": "https://bi.example.com/in", "description": "BI", "events": ["activity.created"],
    })
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.active) == ("https://bi.example.com/in", ["activity.created"],
                                                                False)


def test_rotate_the_secret(admin_client):
    endpoint = EndpointFactory()
    old = endpoint.secret
    response = admin_client.post(reverse("webhooks:endpoint_rotate_secret", args=[endpoint.pk]))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in admin_client.get(response["Location"]).content.decode()


def test_actions_refuse_get(admin_client):
    endpoint = EndpointFactory()
    assert admin_client.get(reverse("webhooks:endpoint_rotate_secret", args=[endpoint.pk])).status_code == 405
    assert admin_client.get(reverse("webhooks:endpoint_ping", args=[endpoint.pk])).status_code == 405


def test_ping_from_the_page(admin_client, receiver, django_capture_on_commit_callbacks):
    endpoint = EndpointFactory(url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("webhooks:endpoint_ping", args=[endpoint.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:delivery_list") + f"?endpoint={endpoint.pk}"
    assert receiver.requests[0].headers["X-CRM-Event"] == "webhook.ping"
    log = admin_client.get(response["Location"]).content.decode()
    assert "webhook.ping" in log and "Delivered" in log


def test_the_log_lists_newest_first_and_filters(admin_client):
    first, second = EndpointFactory(), EndpointFactory()
    old = DeliveryFactory(endpoint=first, event="contact.created")
    failed = DeliveryFactory(endpoint=first, event="contact.updated", status=DeliveryStatus.FAILED,
                             last_status_code=500)
    other = DeliveryFactory(endpoint=second, event="contact.updated")
    url = reverse("webhooks:delivery_list")
    page = admin_client.get(url).context["page"]
    assert [row.pk for row in page.rows] == [other.pk, failed.pk, old.pk]
    assert [row.pk for row in admin_client.get(url, {"endpoint": first.pk}).context["page"].rows] == [failed.pk,
                                                                                                      old.pk]
    assert [row.pk for row in admin_client.get(url, {"status": "failed"}).context["page"].rows] == [failed.pk]
    assert [row.pk for row in admin_client.get(url, {"event": "contact.created"}).context["page"].rows] == [old.pk]
    body = admin_client.get(url, {"status": "pending"}).content.decode()
    assert "No delivery matches these filters." in body


@pytest.mark.parametrize("rows", [1, 60])
def test_the_log_answers_in_constant_queries(admin_client, rows, django_assert_max_num_queries):
    endpoint = EndpointFactory()
    DeliveryFactory.create_batch(rows, endpoint=endpoint)
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse("webhooks:delivery_list"), {"endpoint": endpoint.pk})
    assert len(response.context["page"].rows) == min(rows, 50)


def test_resend_from_the_log(admin_client, receiver, django_capture_on_commit_callbacks):
    endpoint = EndpointFactory(url=receiver.url)
    failed = DeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED, attempts=8, last_status_code=500)
    back = reverse("webhooks:delivery_list") + "?status=failed"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("webhooks:delivery_resend", args=[failed.pk]), {"next": back})
    assert response["Location"] == back
    copy = WebhookDelivery.objects.get(resend_of=failed)
    assert copy.status == DeliveryStatus.DELIVERED
    assert receiver.requests[0].headers["X-CRM-Delivery"] == str(copy.pk)


def test_resend_never_redirects_off_site(admin_client, django_capture_on_commit_callbacks):
    delivery = DeliveryFactory()
    with django_capture_on_commit_callbacks():
        response = admin_client.post(reverse("webhooks:delivery_resend", args=[delivery.pk]),
                                     {"next": "https://evil.example/"})
    assert response["Location"] == reverse("webhooks:delivery_list")


def test_the_detail_page_shows_the_body_and_the_error(admin_client):
    delivery = DeliveryFactory(status=DeliveryStatus.FAILED, last_status_code=500, last_error="HTTP 500: <b>no</b>",
                               payload={"event": "contact.updated", "data": {"last_name": "<script>x</script>"}})
    body = admin_client.get(reverse("webhooks:delivery_detail", args=[delivery.pk])).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in body and "<script>x</script>" not in body
    assert "HTTP 500: &lt;b&gt;no&lt;/b&gt;" in body
    assert reverse("webhooks:delivery_resend", args=[delivery.pk]) in body


def test_a_slow_endpoint_does_not_slow_the_request(client, owner, receiver, monkeypatch, settings,
                                                  django_capture_on_commit_callbacks):
    """The request only writes the delivery row and queues the task; the HTTP call happens in the
    task, later (tests/test_worker.py shows the same with a real worker)."""
    settings.WEBHOOKS_READ_TIMEOUT = 10.0
    EndpointFactory(url=receiver.url, events=["contact.updated"])
    receiver.default.delay = 2.0
    queued = []
    monkeypatch.setattr("webhooks.tasks.deliver.delay", queued.append)  # the broker holds the message
    contact = ContactFactory(owner=owner, first_name="Ann", last_name="Lee", emails=[], phones=[])
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("contacts:edit", args=[contact.pk]), {"first_name": "Ann", "last_name": "Lea"})
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert queued == [delivery.pk]
    assert receiver.requests == []  # the 2-second endpoint was not called during the request (no timing needed)

    deliver(queued[0])  # what the worker does
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert receiver.requests[0].json["data"]["last_name"] == "Lea"
