"""Webhook deliveries on the admins' Background work page (crm/background.py)."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import background
from crm.background import FAILED, RECENT, RETRYING, ROWS, RUNNING, WAITING, Row
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery


def counts(now: datetime) -> dict[str, int]:
    return background.tally(WebhookDelivery.objects, {
        WAITING: Q(status=DeliveryStatus.PENDING, attempts=0),
        RETRYING: Q(status=DeliveryStatus.PENDING, attempts__gt=0),
        RUNNING: Q(status=DeliveryStatus.SENDING),
        FAILED: Q(status=DeliveryStatus.FAILED, created_at__gte=now - RECENT),
    })


def rows(now: datetime) -> list[Row]:
    trouble = (WebhookDelivery.objects.select_related("endpoint")
               .filter(Q(status=DeliveryStatus.FAILED, created_at__gte=now - RECENT)
                       | Q(status=DeliveryStatus.PENDING, attempts__gt=0))
               .order_by("-id")[:ROWS])
    return [Row(pk=delivery.pk, title=f"{delivery.event} → {delivery.endpoint}",
                state=FAILED if delivery.status == DeliveryStatus.FAILED else RETRYING,
                at=delivery.next_attempt_at if delivery.status == DeliveryStatus.PENDING else delivery.created_at,
                attempts=delivery.attempts,
                error=" ".join(filter(None, [str(delivery.last_status_code or ""), delivery.last_error])),
                url=delivery.endpoint.get_absolute_url(), can_retry=delivery.status == DeliveryStatus.FAILED)
            for delivery in trouble]


def retry(pk: int, actor: Any) -> bool | None:
    """Sends a failed delivery again as a new delivery (the endpoint's own "Resend")."""
    delivery = WebhookDelivery.objects.filter(pk=pk).first()
    if delivery is None or delivery.status != DeliveryStatus.FAILED:
        return None if delivery is None else False
    services.delivery_resend(delivery=delivery, actor=actor)
    return True


background.register(background.Source(
    key="webhooks", label=_("Webhook deliveries"), counts=counts, rows=rows, retry=retry,
    note=_("Each change is posted to the receiving endpoint, tried again with growing pauses when it does not "
           "answer 2xx, and marked failed after the last attempt; a retry sends it as a new delivery.")))
