import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services as account_services
from activities import services as activity_services
from activities.models import ActivityKind
from contacts import services as contact_services
from contacts.tests.factories import ContactFactory
from webhooks import events, services
from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.tests.factories import DeliveryFactory, EndpointFactory

pytestmark = pytest.mark.django_db


def test_the_registry_has_the_core_events_with_labels():
    """Each module registers its own events in its AppConfig.ready(), so they come in app order."""
    names = [name for name, _label in events.choices()]
    core = ["account.created", "account.updated", "account.deleted", "contact.created", "contact.updated",
            "contact.deleted", "activity.created"]
    assert [name for name in names if name in core] == core
    assert names.index("contact.deleted") < names.index("lead.created")  # sales comes after contacts
    assert names.index("payment.recorded") < names.index("activity.created")  # activities after sales
    assert dict(events.choices())["contact.created"] == "Contact created (contact.created)"


def test_a_later_module_registers_its_event_the_same_way():
    # A name no installed module registers: popping a real one (ticket.created) would break every later
    # test in this worker that opens a ticket.
    try:
        events.register("gadget.created", "Gadget created")
        assert events.is_registered("gadget.created")
        with pytest.raises(ValueError, match="another label"):
            events.register("gadget.created", "Something else")
    finally:
        events.EVENTS.pop("gadget.created", None)  # a made-up event: a real one (ticket.created) must stay


def test_emit_writes_one_delivery_per_active_subscribed_endpoint(owner, django_capture_on_commit_callbacks):
    subscribed = EndpointFactory(events=["contact.created"])
    EndpointFactory(events=["contact.created"], active=False)
    EndpointFactory(events=["account.created"])
    with django_capture_on_commit_callbacks() as callbacks:
        contact = contact_services.contact_create(actor=owner, first_name="Ann", last_name="Lee",
                                                  birthday=datetime.date(1990, 1, 2))
    delivery = WebhookDelivery.objects.get()
    assert len(callbacks) == 1  # the send is scheduled for after the commit, not done now
    assert delivery.endpoint == subscribed
    assert delivery.status == DeliveryStatus.PENDING
    assert (delivery.event, delivery.object_type, delivery.object_id) == ("contact.created", "contacts.contact",
                                                                          str(contact.pk))
    payload = delivery.payload
    assert payload["event"] == "contact.created"
    assert payload["object_id"] == contact.pk
    assert payload["actor_id"] == owner.pk
    assert payload["id"] and payload["occurred_at"].endswith("Z")
    assert payload["data"]["last_name"] == "Lee"
    assert payload["data"]["birthday"] == "1990-01-02"
    assert payload["data"]["owner_id"] == owner.pk


def test_the_payload_is_plain_json(owner, django_capture_on_commit_callbacks):
    EndpointFactory(events=["account.created"])
    with django_capture_on_commit_callbacks():
        account = account_services.account_create(actor=owner, name="Initech", annual_revenue=Decimal("1234.50"),
                                                  tags=["vip"])
    data = WebhookDelivery.objects.get().payload["data"]
    assert data["annual_revenue"] == "1234.50"
    assert data["tags"] == ["vip"]
    assert data["id"] == account.pk
    assert isinstance(data["created_at"], str)


def test_no_endpoint_means_no_row_and_nothing_scheduled(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        contact_services.contact_create(actor=owner, last_name="Lee")
    assert not WebhookDelivery.objects.exists()
    assert callbacks == []


def test_an_unknown_event_fails_loudly(owner):
    contact = ContactFactory(owner=owner)
    with pytest.raises(ValueError, match="Unknown webhook event"):
        services.emit("contact.renamed", contact)


def test_the_same_change_emitted_twice_is_one_delivery(owner, django_capture_on_commit_callbacks):
    EndpointFactory(events=["contact.updated"])
    contact = ContactFactory(owner=owner)
    with django_capture_on_commit_callbacks():
        first = services.emit("contact.updated", contact, actor=owner)
        again = services.emit("contact.updated", contact, actor=owner)
    assert first == again
    assert WebhookDelivery.objects.count() == 1
    contact.save()  # a new change (updated_at moves): a new delivery
    with django_capture_on_commit_callbacks():
        services.emit("contact.updated", contact, actor=owner)
    assert WebhookDelivery.objects.count() == 2


def test_every_write_service_emits_its_event(owner, django_capture_on_commit_callbacks):
    EndpointFactory(events=[name for name, _label in events.choices()])
    with django_capture_on_commit_callbacks():
        account = account_services.account_create(actor=owner, name="Initech")
        account_services.account_update(account=account, actor=owner, industry="Software")
        contact = contact_services.contact_create(actor=owner, last_name="Lee", account=account)
        contact_services.contact_update(contact=contact, actor=owner, title="CTO")
        activity = activity_services.activity_create(actor=owner, kind=ActivityKind.CALL, subject="Intro call",
                                                     contact=contact)
        contact_services.contact_delete(contact=contact, actor=owner)
        account_services.account_delete(account=account, actor=owner)
    emitted = list(WebhookDelivery.objects.order_by("sequence").values_list("event", "object_id"))
    assert emitted == [
        ("account.created", str(account.pk)), ("account.updated", str(account.pk)),
        ("contact.created", str(contact.pk)), ("contact.updated", str(contact.pk)),
        ("activity.created", str(activity.pk)), ("contact.deleted", str(contact.pk)),
        ("account.deleted", str(account.pk)),
    ]
    activity_payload = WebhookDelivery.objects.get(event="activity.created").payload
    assert activity_payload["data"]["contact_id"] == contact.pk
    assert activity_payload["data"]["attendees"] == []


def test_a_failed_write_emits_nothing(owner):
    EndpointFactory(events=["contact.created"])
    with pytest.raises(ValidationError):
        contact_services.contact_create(actor=owner, last_name="")
    assert not WebhookDelivery.objects.exists()


def test_endpoint_create_checks_url_and_events(admin_user):
    with pytest.raises(ValidationError) as error:
        services.endpoint_create(actor=admin_user, url="ftp://example.com/", events=["contact.created"])
    assert "url" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.endpoint_create(actor=admin_user, url="https://example.com/", events=["contact.renamed"])
    assert "events" in error.value.message_dict
    endpoint = services.endpoint_create(actor=admin_user, url="https://example.com/hook",
                                        events=["contact.created", "contact.created"])
    assert endpoint.events == ["contact.created"]
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.created_by == admin_user


def test_rotating_the_secret_replaces_it(admin_user):
    endpoint = EndpointFactory()
    old = endpoint.secret
    services.endpoint_rotate_secret(endpoint=endpoint, actor=admin_user)
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret_rotated_at is not None


def test_resend_makes_a_new_delivery_of_the_same_body(admin_user, django_capture_on_commit_callbacks):
    original = DeliveryFactory(status=DeliveryStatus.FAILED, attempts=8, last_status_code=500)
    with django_capture_on_commit_callbacks() as callbacks:
        copy = services.delivery_resend(delivery=original, actor=admin_user)
    assert len(callbacks) == 1
    assert copy.pk != original.pk
    assert copy.resend_of == original
    assert copy.payload == original.payload
    assert (copy.status, copy.attempts) == (DeliveryStatus.PENDING, 0)
    assert copy.sequence > original.sequence
    original.refresh_from_db()
    assert (original.status, original.attempts) == (DeliveryStatus.FAILED, 8)  # its history stays


def test_a_double_click_on_resend_queues_one_copy(admin_user, django_capture_on_commit_callbacks):
    original = DeliveryFactory()
    with django_capture_on_commit_callbacks():
        first = services.delivery_resend(delivery=original, actor=admin_user)
        second = services.delivery_resend(delivery=original, actor=admin_user)
    assert first == second
    assert WebhookDelivery.objects.filter(resend_of=original).count() == 1


def test_a_delivery_in_flight_cannot_be_resent(admin_user):
    delivery = DeliveryFactory(status=DeliveryStatus.PENDING, attempts=0)
    with pytest.raises(ValidationError):
        services.delivery_resend(delivery=delivery, actor=admin_user)


def test_backoff_doubles_and_is_capped():
    minutes = [services.backoff(attempt).total_seconds() / 60 for attempt in range(1, 9)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60]


def test_the_scheduler_source_is_registered():
    from crm import scheduler

    assert scheduler.SOURCES["webhooks"] is services.dispatch_due_deliveries


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_never_sends(owner, receiver):
    EndpointFactory(url=receiver.url, events=["contact.created"])
    with pytest.raises(RuntimeError), transaction.atomic():
        contact_services.contact_create(actor=owner, last_name="Ghost")
        raise RuntimeError("the rest of the request failed")
    assert not WebhookDelivery.objects.exists()
    contact_services.contact_create(actor=owner, last_name="Real")  # the control: a committed change is sent
    assert receiver.wait_for(1)
    assert [body["data"]["last_name"] for body in receiver.bodies()] == ["Real"]
