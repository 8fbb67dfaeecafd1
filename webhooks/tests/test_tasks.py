"""Delivery to a real HTTP server on 127.0.0.1: signatures, retries, ordering, takeovers."""

import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts import services as contact_services
from contacts.tests.factories import ContactFactory
from crm import scheduler
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.tasks import deliver
from webhooks.tests.factories import EndpointFactory
from webhooks.tests.receiver import verify

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def endpoint(receiver):
    return EndpointFactory(url=receiver.url, events=["contact.created", "contact.updated"])


def update(contact, actor, callbacks_fixture, **fields):
    with callbacks_fixture(execute=True):
        contact_services.contact_update(contact=contact, actor=actor, **fields)


def test_a_change_is_delivered_signed(owner, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact = contact_services.contact_create(actor=owner, first_name="Ann", last_name="Lee")
    assert receiver.wait_for(1)
    delivery = WebhookDelivery.objects.get()
    received = receiver.requests[0]
    assert received.headers["X-CRM-Event"] == "contact.created"
    assert received.headers["X-CRM-Delivery"] == str(delivery.pk)
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert abs(int(received.headers["X-CRM-Timestamp"]) - time.time()) < 60
    assert verify(endpoint.secret, received.headers, received.body)
    assert not verify("whsec_wrong", received.headers, received.body)
    assert not verify(endpoint.secret, received.headers, received.body.replace(b"Lee", b"Lea"))
    assert received.json == delivery.payload
    assert received.json["data"]["id"] == contact.pk
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_failures_retry_with_exponential_backoff_driven_by_the_tick(owner, endpoint, receiver,
                                                                    django_capture_on_commit_callbacks):
    receiver.plan(500, 503)
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_create(actor=owner, last_name="Lee")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.PENDING, 1, 500)
    assert "500" in delivery.last_error and "receiver says no" in delivery.last_error
    first_wait = delivery.next_attempt_at - delivery.claimed_at
    assert timedelta(seconds=59) < first_wait < timedelta(seconds=65)

    assert scheduler.tick(now=delivery.next_attempt_at - timedelta(seconds=5))["webhooks"] == 0  # not yet due
    assert len(receiver.requests) == 1

    assert scheduler.tick(now=delivery.next_attempt_at)["webhooks"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.PENDING, 2, 503)
    assert timedelta(seconds=119) < delivery.next_attempt_at - delivery.claimed_at < timedelta(seconds=125)

    scheduler.tick(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 3, 200)
    assert delivery.last_error == ""
    assert len(receiver.requests) == 3
    assert len({received.headers["X-CRM-Delivery"] for received in receiver.requests}) == 1  # one id to dedupe on


def test_after_eight_attempts_the_delivery_fails(owner, endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.default.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_create(actor=owner, last_name="Lee")
    delivery = WebhookDelivery.objects.get()
    waits = []
    while delivery.status == DeliveryStatus.PENDING:
        waits.append(round((delivery.next_attempt_at - delivery.claimed_at).total_seconds() / 60))
        scheduler.tick(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert waits == [1, 2, 4, 8, 16, 32, 60]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, services.MAX_ATTEMPTS)
    assert len(receiver.requests) == 8
    assert scheduler.tick(now=timezone.now() + timedelta(days=1))["webhooks"] == 0


def test_a_timeout_or_a_dead_endpoint_is_a_failed_attempt(owner, receiver, django_capture_on_commit_callbacks):
    slow = EndpointFactory(url=receiver.url, events=["contact.created"])
    dead = EndpointFactory(url=f"http://127.0.0.1:{closed_port()}/nobody-listens", events=["contact.created"])
    receiver.plan(200, delay=2.0)  # beyond the 0.5 s read timeout of the tests
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_create(actor=owner, last_name="Lee")
    assert time.monotonic() - started < 5
    slow_delivery = WebhookDelivery.objects.get(endpoint=slow)
    assert slow_delivery.status == DeliveryStatus.PENDING and slow_delivery.last_status_code is None
    assert "Timeout" in slow_delivery.last_error
    dead_delivery = WebhookDelivery.objects.get(endpoint=dead)
    assert dead_delivery.status == DeliveryStatus.PENDING and dead_delivery.attempts == 1
    assert "ConnectionError" in dead_delivery.last_error


def test_updates_of_one_record_arrive_in_order_even_when_the_first_attempt_fails(
        owner, endpoint, receiver, django_capture_on_commit_callbacks):
    contact = ContactFactory(owner=owner, title="v0")
    receiver.plan(500)
    for version in ("v1", "v2", "v3"):
        update(contact, owner, django_capture_on_commit_callbacks, title=version)
    # v1 failed; v2 and v3 wait behind it instead of overtaking it.
    assert [body["data"]["title"] for body in receiver.bodies()] == ["v1"]
    statuses = list(WebhookDelivery.objects.order_by("sequence").values_list("status", "attempts"))
    assert statuses == [(DeliveryStatus.PENDING, 1), (DeliveryStatus.PENDING, 0), (DeliveryStatus.PENDING, 0)]

    first = WebhookDelivery.objects.order_by("sequence").first()
    scheduler.tick(now=first.next_attempt_at)  # the retry of v1; its success releases v2, then v3
    assert [body["data"]["title"] for body in receiver.bodies()] == ["v1", "v1", "v2", "v3"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_failing_record_does_not_hold_up_other_records(owner, endpoint, receiver,
                                                         django_capture_on_commit_callbacks):
    stuck, other = ContactFactory(owner=owner), ContactFactory(owner=owner)
    receiver.plan(500)
    update(stuck, owner, django_capture_on_commit_callbacks, title="stuck")
    update(other, owner, django_capture_on_commit_callbacks, title="other")
    assert [body["data"]["title"] for body in receiver.bodies()] == ["stuck", "other"]
    assert WebhookDelivery.objects.get(object_id=str(other.pk)).status == DeliveryStatus.DELIVERED


def test_a_terminally_failed_delivery_releases_the_next_one(owner, endpoint, receiver,
                                                             django_capture_on_commit_callbacks):
    contact = ContactFactory(owner=owner)
    receiver.plan(*[500] * services.MAX_ATTEMPTS)
    update(contact, owner, django_capture_on_commit_callbacks, title="doomed")
    update(contact, owner, django_capture_on_commit_callbacks, title="next")
    first = WebhookDelivery.objects.order_by("sequence").first()
    while first.status == DeliveryStatus.PENDING:
        scheduler.tick(now=first.next_attempt_at)
        first.refresh_from_db()
    assert first.status == DeliveryStatus.FAILED
    assert receiver.bodies()[-1]["data"]["title"] == "next"
    assert WebhookDelivery.objects.order_by("sequence").last().status == DeliveryStatus.DELIVERED


def test_a_task_delivered_twice_sends_once(owner, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_create(actor=owner, last_name="Lee")
    delivery = WebhookDelivery.objects.get()
    deliver.delay(delivery.pk)  # acks_late redelivery, or a duplicate message
    deliver(delivery.pk)
    assert len(receiver.requests) == 1


def test_a_row_whose_task_was_lost_is_sent_by_the_tick_after_its_lease(owner, endpoint, receiver,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down: no task ran
        contact_services.contact_create(actor=owner, last_name="Lee")
    delivery = WebhookDelivery.objects.get()
    assert scheduler.tick()["webhooks"] == 0  # the on-commit task has a head start
    assert scheduler.tick(now=delivery.next_attempt_at)["webhooks"] == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


def test_the_tick_takes_over_an_attempt_whose_worker_died(owner, endpoint, receiver,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        contact_services.contact_create(actor=owner, last_name="Lee")
    delivery = WebhookDelivery.objects.get()
    claimed_at = timezone.now() - timedelta(minutes=1)
    # A worker claimed it and was killed during the POST.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=claimed_at,
                                                          attempts=1)
    scheduler.tick(now=timezone.now())
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING  # it may still be working: not taken over yet
    assert receiver.requests == []

    scheduler.tick(now=claimed_at + services.STALE_CLAIM + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert len(receiver.requests) == 1


def test_a_switched_off_endpoint_gets_nothing_more(owner, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        contact_services.contact_create(actor=owner, last_name="Lee")
    endpoint.active = False
    endpoint.save()
    deliver(WebhookDelivery.objects.get().pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "switched off" in delivery.last_error
    assert receiver.requests == []


def test_a_ping_is_tried_once(admin_user, receiver, django_capture_on_commit_callbacks):
    endpoint = EndpointFactory(url=receiver.url)
    receiver.plan(500)
    with django_capture_on_commit_callbacks(execute=True):
        failed = services.endpoint_ping(endpoint=endpoint, actor=admin_user)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_status_code) == (DeliveryStatus.FAILED, 1, 500)
    with django_capture_on_commit_callbacks(execute=True):
        ping = services.endpoint_ping(endpoint=endpoint, actor=admin_user)
    ping.refresh_from_db()
    assert ping.status == DeliveryStatus.DELIVERED
    received = receiver.requests[-1]
    assert received.headers["X-CRM-Event"] == "webhook.ping"
    assert received.json["data"]["endpoint_id"] == endpoint.pk
    assert verify(endpoint.secret, received.headers, received.body)


def test_resend_sends_again_with_a_new_delivery_id(admin_user, owner, endpoint, receiver,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_create(actor=owner, last_name="Lee")
    original = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        copy = services.delivery_resend(delivery=original, actor=admin_user)
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.DELIVERED
    first, second = receiver.requests
    assert first.body == second.body  # the same event (same "id" in the body) ...
    assert (first.headers["X-CRM-Delivery"], second.headers["X-CRM-Delivery"]) == (str(original.pk), str(copy.pk))


def test_a_rotated_secret_signs_the_retries(owner, admin_user, endpoint, receiver,
                                            django_capture_on_commit_callbacks):
    receiver.plan(500)
    with django_capture_on_commit_callbacks(execute=True):
        contact_services.contact_create(actor=owner, last_name="Lee")
    old_secret = endpoint.secret
    services.endpoint_rotate_secret(endpoint=endpoint, actor=admin_user)
    scheduler.tick(now=WebhookDelivery.objects.get().next_attempt_at)
    assert verify(old_secret, receiver.requests[0].headers, receiver.requests[0].body)
    assert verify(endpoint.secret, receiver.requests[1].headers, receiver.requests[1].body)
