"""Webhook endpoints (configured by admins) and the log of every delivery to them."""

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.encryption import EncryptedTextField
from crm.urlcache import pk_url

SEQUENCE_NAME = "webhooks_delivery_sequence"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpointQuerySet(models.QuerySet):
    def subscribed_to(self, event: str):
        return self.filter(active=True, events__contains=[event])


class WebhookEndpoint(models.Model):
    url = models.URLField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=60), verbose_name=_("events"), default=list, blank=True)
    # Shared with the receiver, who needs it in clear to check signatures: shown to admins only.
    secret = EncryptedTextField(_("signing secret"), default=new_secret, editable=False)  # encrypted at rest
    secret_rotated_at = models.DateTimeField(_("secret changed"), null=True, blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["url", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [GinIndex(fields=["events"], name="webhook_endpoint_events_gin")]

    def __str__(self):
        return self.description or self.url

    def get_absolute_url(self):
        return pk_url("webhooks:endpoint_edit", self.pk)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


UNFINISHED = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]


class WebhookDeliveryQuerySet(models.QuerySet):
    def unblocked(self):
        """Rows with no earlier unfinished delivery of the same record to the same endpoint:
        the changes of one record reach a receiver in the order they happened."""
        earlier = WebhookDelivery.objects.filter(
            endpoint_id=OuterRef("endpoint_id"), object_type=OuterRef("object_type"),
            object_id=OuterRef("object_id"), sequence__lt=OuterRef("sequence"), status__in=UNFINISHED,
        )
        return self.exclude(Exists(earlier))

    def newest_first(self):
        return self.order_by("-id")


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=60)
    object_type = models.CharField(_("record type"), max_length=100)
    object_id = models.CharField(_("record id"), max_length=64)
    # Order of the changes of one record. Taken from a database sequence at INSERT; the change
    # itself has already locked the record's row, so a later change of the same record always
    # gets a higher number (see services.emit).
    sequence = models.BigIntegerField(
        _("sequence"), editable=False,
        db_default=models.Func(models.Value(SEQUENCE_NAME), function="nextval", output_field=models.BigIntegerField()),
    )
    # One change of one record is emitted to an endpoint once, whoever calls emit() again.
    idempotency_key = models.CharField(max_length=200, editable=False)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Pending: when the scheduler tick (re)sends it. Right after emit() it is a safety net a few
    # minutes ahead: the task enqueued on commit normally sends it first.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    resend_of = models.ForeignKey(
        "self", verbose_name=_("resend of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="resends"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "idempotency_key"], name="webhook_delivery_once"),
            # A double-clicked "Resend" queues one copy, not two.
            models.UniqueConstraint(fields=["resend_of"], condition=Q(status__in=UNFINISHED),
                                    name="webhook_one_resend_in_flight"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint_idx"),
            models.Index(fields=["status", "-id"], name="webhook_delivery_status_idx"),
            models.Index(fields=["event", "-id"], name="webhook_delivery_event_idx"),
            # The scheduler's due rows and the per-record ordering check read only unfinished rows.
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due_idx",
                         condition=Q(status__in=UNFINISHED)),
            models.Index(fields=["endpoint", "object_type", "object_id", "sequence"], name="webhook_delivery_order_idx",
                         condition=Q(status__in=UNFINISHED)),
        ]

    def __str__(self):
        return f"{self.event} #{self.pk}"

    def get_absolute_url(self):
        return pk_url("webhooks:delivery_detail", self.pk)

    @property
    def is_finished(self) -> bool:
        return self.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)
