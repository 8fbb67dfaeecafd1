"""Deliveries through a real Celery worker process and the real Redis broker."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.celery import app as celery_app
from crm.tasks import scheduler_tick
from crm.tests.celery_helpers import wait_for
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.tests.factories import EndpointFactory
from webhooks.tests.receiver import verify

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("celery-worker"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(real_worker, monkeypatch):
    # Tasks enqueued by the code under test (on commit) go to this worker's private queue.
    monkeypatch.setitem(celery_app.conf, "task_default_queue", real_worker["queue"])
    return real_worker


def worker_log(worker) -> str:
    return (worker["var_dir"] / "worker.log").read_text()[-3000:]


def delivered(delivery_filter) -> bool:
    return WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED, **delivery_filter).exists()


def test_the_worker_delivers_a_change_after_the_request_has_answered(client, owner, receiver, worker):
    endpoint = EndpointFactory(url=receiver.url, events=["contact.created"])
    receiver.default.delay = 1.5  # a slow receiver
    client.force_login(owner)
    started = time.monotonic()
    response = client.post(reverse("contacts:create"), {"first_name": "Wanda", "last_name": "Worker"})
    answered = time.monotonic()
    assert response.status_code == 302
    assert answered - started < 1.5  # the request did not wait for the receiver

    assert wait_for(lambda: delivered({"event": "contact.created"})), worker_log(worker)
    received = receiver.requests[0]
    assert answered < received.answered  # the receiver finished long after the user got the page
    delivery = WebhookDelivery.objects.get()
    assert received.headers["X-CRM-Delivery"] == str(delivery.pk)
    assert received.json["data"]["last_name"] == "Worker"
    assert verify(endpoint.secret, received.headers, received.body)


def test_the_worker_tick_sends_a_due_retry(owner, receiver, worker):
    from contacts import services as contact_services

    EndpointFactory(url=receiver.url, events=["contact.created"])
    receiver.plan(500)
    contact_services.contact_create(actor=owner, last_name="Retry")
    assert wait_for(lambda: WebhookDelivery.objects.filter(attempts=1, status=DeliveryStatus.PENDING).exists()), \
        worker_log(worker)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))  # the minute has passed
    scheduler_tick.apply_async(queue=worker["queue"])
    assert wait_for(lambda: delivered({"attempts": 2})), worker_log(worker)
    assert [received.status for received in receiver.requests] == [500, 200]
