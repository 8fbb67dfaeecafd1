"""Writes for webhooks: emitting events, managing endpoints, and delivering.

How a change reaches a receiver:
1. A service (e.g. contact_update) calls `emit()` inside its transaction: one `WebhookDelivery`
   row per subscribed endpoint. A rollback removes the rows, so nothing is ever sent for it.
2. On commit the `deliver` task is enqueued for each row; the HTTP call happens only there,
   never in the user's request.
3. The task claims the row with a compare-and-set UPDATE (pending → sending) that also checks
   that no earlier delivery of the same record to the same endpoint is unfinished, sends it,
   and records the outcome. A finished delivery enqueues the next one of its record.
4. The scheduler source below re-sends failed attempts when their back-off is over, sends rows
   whose task was lost, and takes over attempts of workers that died (at-least-once).
"""

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import scheduler
from webhooks import events
from webhooks.models import UNFINISHED, DeliveryStatus, WebhookDelivery, WebhookEndpoint, new_secret

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
# A fresh row is sent by the task enqueued on commit; the tick only steps in after this lease
# (the broker was down, the message was lost). The tick takes the same lease when it enqueues.
DISPATCH_LEASE = timedelta(minutes=5)
# An attempt takes at most connect + read timeout (and the task's hard time limit is 2 minutes):
# a row still "sending" after this belongs to a worker that died.
STALE_CLAIM = timedelta(minutes=5)
BATCH = 200
RESPONSE_SNIPPET = 300  # bytes of a failed response kept in last_error
USER_AGENT = "CRM-Webhooks/1"


# --- Payloads and signatures -----------------------------------------------------


def plain_json(value):
    """Plain JSON types only: Decimals, dates and UUIDs become strings."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def serialize(instance) -> dict:
    """Every concrete field (foreign keys as `<name>_id`) and many-to-many fields as id lists."""
    data = {field.attname: field.value_from_object(instance) for field in instance._meta.concrete_fields}
    for field in instance._meta.many_to_many:
        data[field.name] = sorted(getattr(instance, field.name).values_list("pk", flat=True))
    return plain_json(data)


def encode_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of "<timestamp>.<body>": the timestamp is signed too, so a captured
    request cannot be replayed later with a fresh timestamp."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def _change_version(instance) -> str:
    """Tells one change of a record from the next: its `updated_at` (set on every save), else
    the transaction (two emits of one event for one record in one transaction are one change)."""
    updated_at = getattr(instance, "updated_at", None)
    if updated_at is not None:
        return updated_at.isoformat()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text")
        return "tx" + cursor.fetchone()[0]


# --- Emitting ------------------------------------------------------------------------


def emit(event: str, instance, *, actor=None, key: str | None = None) -> list[int]:
    """Records `event` about `instance` for every active endpoint subscribed to it, inside the
    caller's transaction, and sends them from Celery once it commits.

    Call it after the write to the record: that write holds the record's row lock until commit,
    so a later change of the same record gets a later sequence (ordering per record).
    `key` names the change when `updated_at` cannot (defaults to event + record + version).
    Returns the ids of the deliveries.
    """
    if not events.is_registered(event):
        raise ValueError(f"Unknown webhook event {event!r}: register it in webhooks.events")
    endpoint_ids = list(WebhookEndpoint.objects.subscribed_to(event).values_list("pk", flat=True))
    if not endpoint_ids:
        return []
    now = timezone.now()
    object_type = instance._meta.label_lower
    object_id = str(instance.pk)
    key = key or f"{event}:{object_type}:{object_id}:{_change_version(instance)}"
    payload = plain_json({
        "id": str(uuid.uuid4()),
        "event": event,
        "occurred_at": now,
        "object_type": object_type,
        "object_id": instance.pk,
        "actor_id": actor.pk if actor is not None else None,
        "data": serialize(instance),
    })
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint_id=endpoint_id, event=event, object_type=object_type, object_id=object_id,
                            idempotency_key=key, payload=payload, next_attempt_at=now + DISPATCH_LEASE,
                            created_at=now)
            for endpoint_id in endpoint_ids
        ],
        ignore_conflicts=True,  # the same change emitted again: the rows already exist
    )
    delivery_ids = list(
        WebhookDelivery.objects.filter(endpoint_id__in=endpoint_ids, idempotency_key=key, status=DeliveryStatus.PENDING)
        .order_by("sequence").values_list("pk", flat=True)
    )
    enqueue_on_commit(delivery_ids)
    return delivery_ids


def enqueue_on_commit(delivery_ids: list[int]) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: enqueue(delivery_ids), robust=True)


def enqueue(delivery_ids: list[int]) -> None:
    """Best effort: a row whose message is lost is sent by the scheduler tick after its lease."""
    from webhooks.tasks import deliver

    for delivery_id in delivery_ids:
        try:
            deliver.delay(delivery_id)
        except Exception:  # noqa: BLE001 - the broker may be down; the tick is the safety net
            logger.exception("Could not enqueue webhook delivery %s", delivery_id)


# --- Endpoints -----------------------------------------------------------------------


def _check_events(names) -> list[str]:
    unknown = [name for name in names if not events.is_registered(name) and name != events.PING]
    if unknown:
        raise ValidationError({"events": _("Unknown events: %(names)s") % {"names": ", ".join(unknown)}})
    return list(dict.fromkeys(names))


@transaction.atomic
def endpoint_create(*, actor, url: str, description: str = "", events=(), active: bool = True) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=url, description=description, events=_check_events(events), active=active,
                               created_by=actor)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, actor, **fields) -> WebhookEndpoint:
    if "events" in fields:
        fields["events"] = _check_events(fields["events"])
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    """Every request from now on, retries of older deliveries included, is signed with the new secret."""
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret", "secret_rotated_at"])
    return endpoint


@transaction.atomic
def endpoint_ping(*, endpoint: WebhookEndpoint, actor) -> WebhookDelivery:
    """A test request to one endpoint, tried once (the admin is waiting for the answer)."""
    now = timezone.now()
    event_id = str(uuid.uuid4())
    payload = plain_json({
        "id": event_id,
        "event": events.PING,
        "occurred_at": now,
        "object_type": WebhookEndpoint._meta.label_lower,
        "object_id": endpoint.pk,
        "actor_id": actor.pk,
        "data": {"endpoint_id": endpoint.pk, "url": endpoint.url, "events": endpoint.events},
    })
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event=events.PING, object_type=WebhookEndpoint._meta.label_lower,
        object_id=str(endpoint.pk), idempotency_key=f"ping:{event_id}", payload=payload,
        next_attempt_at=now + DISPATCH_LEASE, created_at=now,
    )
    enqueue_on_commit([delivery.pk])
    return delivery


@transaction.atomic
def delivery_resend(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Sends a finished delivery again as a new row: the original keeps its attempts in the log,
    and the copy has its own X-CRM-Delivery id, so a receiver that already processed the
    original does not drop it as a duplicate. The body is the original one (same event id).
    One copy per original can be in flight: a second click returns the queued copy."""
    if not delivery.is_finished:
        raise ValidationError(_("This delivery is still being sent."))
    now = timezone.now()
    try:
        with transaction.atomic():
            copy = WebhookDelivery.objects.create(
                endpoint_id=delivery.endpoint_id, event=delivery.event, object_type=delivery.object_type,
                object_id=delivery.object_id, payload=delivery.payload, resend_of=delivery,
                idempotency_key=f"resend:{delivery.pk}:{uuid.uuid4().hex}", next_attempt_at=now + DISPATCH_LEASE,
                created_at=now,
            )
    except IntegrityError:
        return WebhookDelivery.objects.get(resend_of=delivery, status__in=UNFINISHED)
    logger.info("Webhook delivery %s resent as %s by user %s", delivery.pk, copy.pk, getattr(actor, "pk", None))
    enqueue_on_commit([copy.pk])
    return copy


# --- Delivering ---------------------------------------------------------------------


def max_attempts(delivery: WebhookDelivery) -> int:
    return 1 if delivery.event == events.PING else MAX_ATTEMPTS


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd, 4th … failed attempt, at most an hour."""
    return min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)


def _timeouts() -> tuple[float, float]:
    return (getattr(settings, "WEBHOOKS_CONNECT_TIMEOUT", 3.0), getattr(settings, "WEBHOOKS_READ_TIMEOUT", 10.0))


def post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """One HTTP attempt: (status code or None, error text or "")."""
    endpoint = delivery.endpoint
    body = encode_body(delivery.payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-CRM-Event": delivery.event,
        "X-CRM-Delivery": str(delivery.pk),
        "X-CRM-Timestamp": timestamp,
        "X-CRM-Signature": "sha256=" + sign(endpoint.secret, timestamp, body),
    }
    try:
        with requests.post(endpoint.url, data=body, headers=headers, timeout=_timeouts(), allow_redirects=False,
                           stream=True) as response:
            if 200 <= response.status_code < 300:
                return response.status_code, ""
            snippet = response.raw.read(RESPONSE_SNIPPET, decode_content=True).decode("utf-8", "replace")
            return response.status_code, f"HTTP {response.status_code} {response.reason or ''}: {snippet}".strip()
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"


def delivery_attempt(*, delivery_id: int) -> str | None:
    """Claims, sends and records one delivery. Returns the new status, or None when there was
    nothing to do: already claimed, finished, or waiting for an earlier change of its record."""
    claimed_at = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).unblocked()
        .update(status=DeliveryStatus.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if not delivery.endpoint.active and delivery.event != events.PING:
        code, error = None, _("The endpoint is switched off.")
        final = True
    else:
        code, error = post(delivery)
        final = False
    finished_at = timezone.now()
    if code is not None and 200 <= code < 300:
        changes = {"status": DeliveryStatus.DELIVERED, "delivered_at": finished_at, "next_attempt_at": None}
    elif final or delivery.attempts >= max_attempts(delivery):
        changes = {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    else:
        changes = {"status": DeliveryStatus.PENDING, "next_attempt_at": finished_at + backoff(delivery.attempts)}
    recorded = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.SENDING, claimed_at=claimed_at
    ).update(last_status_code=code, last_error=error[:2000], **changes)
    if not recorded:
        return None  # taken over meanwhile (we were presumed dead); its new owner records the outcome
    if changes["status"] != DeliveryStatus.DELIVERED:
        logger.warning("Webhook delivery %s, attempt %s: %s (now %s)", delivery_id, delivery.attempts, error,
                       changes["status"])
    if changes["status"] != DeliveryStatus.PENDING:
        enqueue_next(delivery)
    return changes["status"]


def enqueue_next(delivery: WebhookDelivery) -> None:
    """The next change of the same record was waiting for this one to finish."""
    next_id = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id, object_type=delivery.object_type, object_id=delivery.object_id,
            status=DeliveryStatus.PENDING, sequence__gt=delivery.sequence,
        ).order_by("sequence").values_list("pk", flat=True).first()
    )
    if next_id is not None:
        enqueue([next_id])


def take_over_stale(now: datetime) -> int:
    """A row still "sending" long after its claim: the worker died mid-attempt. Whether the
    receiver got it is unknown, so it is sent again (at-least-once) or, out of attempts, failed."""
    stale = WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    taken = 0
    for delivery in stale.order_by("claimed_at")[:BATCH]:
        final = delivery.attempts >= max_attempts(delivery)
        matched = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=delivery.claimed_at
        ).update(
            status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
            next_attempt_at=None if final else now,
            last_error=_("The worker stopped during the attempt; the receiver may or may not have it."),
        )
        if matched:
            taken += 1
            if final:
                enqueue_next(delivery)
    return taken


@scheduler.source("webhooks")
def dispatch_due_deliveries(now: datetime) -> int:
    """Enqueues the rows whose (re)try is due and that wait for no earlier change of their
    record. Each is leased with a compare-and-set on next_attempt_at, so two ticks enqueue it
    once; the task's own claim makes a duplicate message harmless anyway."""
    take_over_stale(now)
    due = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).unblocked()
        .order_by("next_attempt_at", "pk").values_list("pk", "next_attempt_at")[:BATCH]
    )
    dispatched = 0
    for delivery_id, due_at in list(due):
        leased = WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at=due_at
        ).update(next_attempt_at=now + DISPATCH_LEASE)
        if leased:
            enqueue([delivery_id])
            dispatched += 1
    return dispatched
