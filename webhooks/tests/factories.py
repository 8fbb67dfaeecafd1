import factory
from django.utils import timezone

from crm.tests.factories import UserFactory
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    url = factory.Sequence(lambda n: f"http://127.0.0.1:9/hook-{n}")
    description = factory.Sequence(lambda n: f"Receiver {n}")
    events = factory.LazyFunction(lambda: ["contact.created", "contact.updated", "contact.deleted"])
    active = True
    created_by = factory.SubFactory(UserFactory)


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(EndpointFactory)
    event = "contact.updated"
    object_type = "contacts.contact"
    object_id = factory.Sequence(str)
    idempotency_key = factory.Sequence(lambda n: f"test:{n}")
    payload = factory.LazyAttribute(lambda delivery: {"id": f"evt-{delivery.object_id}", "event": delivery.event,
                                                      "data": {"id": delivery.object_id}})
    status = DeliveryStatus.DELIVERED
    attempts = 1
    last_status_code = 200
    delivered_at = factory.LazyFunction(timezone.now)
