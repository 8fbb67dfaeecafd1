"""Campaigns: the record (type, status, dates, budget, cost lines, expected revenue, parent), its
members with their status, and the attribution of leads and deals to the campaign they came from.

Attribution lives here, not on the sales rows: sales sits below marketing and must not know it.
A lead or a deal has at most one source campaign (the attribution row's primary key is the
lead's or the deal's), and the campaign page computes its figures from these rows."""

from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models import HeartbeatJob, OwnedModel, OwnedQuerySet
from crm.translated import in_language
from crm.urlcache import pk_url
from crm.visibility import CAMPAIGN_DATA

MONEY = {"max_digits": 16, "decimal_places": 2}
LIVE = models.Q(deleted_at__isnull=True)


class CampaignType(models.TextChoices):
    EMAIL = "email", _("E-mail")
    TELEMARKETING = "telemarketing", _("Telemarketing")
    EVENT = "event", _("Event")
    ADVERTISING = "advertising", _("Advertising")
    WEBINAR = "webinar", _("Webinar")
    OTHER = "other", _("Other")


class CampaignStatus(models.TextChoices):
    # "campaign status": Russian and Ukrainian agree the adjective with "campaign" (feminine).
    PLANNED = "planned", pgettext_lazy("campaign status", "Planned")
    ACTIVE = "active", pgettext_lazy("campaign status", "Active")
    COMPLETED = "completed", pgettext_lazy("campaign status", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")


class CampaignQuerySet(OwnedQuerySet):
    def running(self):
        return self.filter(status=CampaignStatus.ACTIVE)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at"],
    model_name="CampaignEvent",
)
class Campaign(OwnedModel):
    visibility_policy = CAMPAIGN_DATA

    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=CampaignType.choices, default=CampaignType.EMAIL)
    status = models.CharField(_("status"), max_length=20, choices=CampaignStatus.choices,
                              default=CampaignStatus.PLANNED)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=settings.DEFAULT_CURRENCY)
    budget = models.DecimalField(_("budget"), default=Decimal(0), validators=[MinValueValidator(Decimal(0))],
                                 **MONEY)
    expected_revenue = models.DecimalField(_("expected revenue"), default=Decimal(0),
                                           validators=[MinValueValidator(Decimal(0))], **MONEY)
    parent = models.ForeignKey("self", verbose_name=_("parent campaign"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="children")
    description = models.TextField(_("description"), blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [
            models.Index(fields=["-start_date", "-id"], name="campaign_start_idx", condition=LIVE),
            models.Index(fields=["name", "id"], name="campaign_name_idx", condition=LIVE),
            models.Index(fields=["status", "-start_date"], name="campaign_status_idx", condition=LIVE),
            models.Index(fields=["owner", "-start_date"], name="campaign_owner_idx", condition=LIVE),
            models.Index(fields=["parent"], name="campaign_parent_idx", condition=models.Q(parent__isnull=False)),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="campaign_name_up_trgm"),  # global search
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__isnull=True) | models.Q(start_date__isnull=True)
                                   | models.Q(end_date__gte=models.F("start_date")), name="campaign_dates_in_order"),
            models.CheckConstraint(condition=models.Q(budget__gte=0) & models.Q(expected_revenue__gte=0),
                                   name="campaign_money_not_negative"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return pk_url("marketing:campaign_detail", self.pk)

    def clean(self):
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The campaign cannot end before it starts.")})
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A campaign cannot be its own parent.")})


class CampaignCost(models.Model):
    """One cost line (printing, ads, the venue …), in the campaign's currency."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="costs")
    description = models.CharField(_("what for"), max_length=200)
    amount = models.DecimalField(_("amount"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    incurred_on = models.DateField(_("date"), default=timezone.localdate)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["incurred_on", "id"]
        verbose_name = _("cost line")
        verbose_name_plural = _("cost lines")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="campaign_cost_positive")]

    def __str__(self):
        return f"{self.description}: {self.amount}"


class MemberStatus(models.TextChoices):
    TARGETED = "targeted", _("Targeted")
    SENT = "sent", _("Sent")
    RESPONDED = "responded", _("Responded")
    CONVERTED = "converted", _("Converted")


class CampaignMember(models.Model):
    """A contact the campaign reaches, once per campaign, with how far they got."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey("contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="campaign_memberships")
    status = models.CharField(_("status"), max_length=20, choices=MemberStatus.choices,
                              default=MemberStatus.TARGETED)
    added_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)

    class Meta:
        ordering = ["-added_at", "-id"]
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"], name="campaign_member_once")]
        indexes = [
            models.Index(fields=["campaign", "status"], name="campaign_member_status_idx"),
            models.Index(fields=["contact", "-added_at"], name="campaign_member_contact_idx"),
        ]

    def __str__(self):
        return f"{self.contact_id} in {self.campaign_id}: {self.status}"


class LeadAttribution(models.Model):
    """The campaign a lead came from."""

    lead = models.OneToOneField("sales.Lead", on_delete=models.CASCADE, primary_key=True,
                                related_name="attribution")
    campaign = models.ForeignKey(Campaign, verbose_name=_("source campaign"), on_delete=models.PROTECT,
                                 related_name="lead_attributions")
    attributed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["campaign", "-attributed_at"], name="lead_attribution_campaign_idx")]

    def __str__(self):
        return f"lead {self.lead_id} from campaign {self.campaign_id}"


class DealAttribution(models.Model):
    """The campaign a deal came from (carried over from its lead when the lead converts)."""

    opportunity = models.OneToOneField("sales.Opportunity", on_delete=models.CASCADE, primary_key=True,
                                       related_name="attribution")
    campaign = models.ForeignKey(Campaign, verbose_name=_("source campaign"), on_delete=models.PROTECT,
                                 related_name="deal_attributions")
    attributed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["campaign", "-attributed_at"], name="deal_attribution_campaign_idx")]

    def __str__(self):
        return f"deal {self.opportunity_id} from campaign {self.campaign_id}"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at"],
    model_name="SegmentEvent",
)
class Segment(OwnedModel):
    """A dynamic audience: criteria over contacts, their accounts and their purchases, built in a
    form and evaluated as one query each time it is used (marketing/segments.py)."""

    visibility_policy = CAMPAIGN_DATA

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        indexes = [models.Index(fields=["name", "id"], name="segment_name_idx", condition=LIVE),
                   models.Index(fields=["-updated_at", "-id"], name="segment_updated_idx", condition=LIVE)]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return pk_url("marketing:segment_detail", self.pk)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at"],
    model_name="StaticListEvent",
)
class StaticList(OwnedModel):
    """A hand-picked list of contacts (a prospect list, the guests of an event): people are added
    from any contacts list's ticked rows and removed one by one; it changes only when someone
    changes it, unlike a segment."""

    visibility_policy = CAMPAIGN_DATA

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("static list")
        verbose_name_plural = _("static lists")
        indexes = [models.Index(fields=["name", "id"], name="staticlist_name_idx", condition=LIVE)]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return pk_url("marketing:static_list_detail", self.pk)


class StaticListMember(models.Model):
    """A contact or a lead on a static list (exactly one of the two), once per list."""

    static_list = models.ForeignKey(StaticList, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey("contacts.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="static_list_memberships")
    lead = models.ForeignKey("sales.Lead", verbose_name=_("lead"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="static_list_memberships")
    added_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-added_at", "-id"]
        verbose_name = _("static list member")
        verbose_name_plural = _("static list members")
        constraints = [
            models.UniqueConstraint(fields=["static_list", "contact"], name="static_list_member_once"),
            models.UniqueConstraint(fields=["static_list", "lead"], name="static_list_lead_once"),
            models.CheckConstraint(condition=models.Q(contact__isnull=False, lead__isnull=True)
                                   | models.Q(contact__isnull=True, lead__isnull=False),
                                   name="static_list_member_contact_or_lead"),
        ]
        indexes = [models.Index(fields=["contact", "-added_at"], name="static_list_member_contact_idx"),
                   models.Index(fields=["lead", "-added_at"], name="static_list_member_lead_idx",
                                condition=models.Q(lead__isnull=False))]

    def __str__(self):
        if self.lead_id is not None:
            return f"lead {self.lead_id} in list {self.static_list_id}"
        return f"{self.contact_id} in list {self.static_list_id}"


class Topic(models.Model):
    """A subscription topic an admin defines (product news, events, the newsletter …). Customers choose
    their topics on the preference page; a mailing for a topic goes only to its subscribers."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("offered to customers"), default=True)
    # New products of this family (sales.Product.family, compared without case) are announced to the topic.
    product_family = models.CharField(_("product family"), max_length=100, blank=True,
                                      help_text=_("New products of this family are announced to the topic's "
                                                  "subscribers."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The name as customers read it in another language ({"ru": "Новинки"}); none: the name (crm/translated.py).
    translations = models.JSONField(_("name in other languages"), default=dict, blank=True)
    # The description the same way ({"uk": "Раз на місяць …"}); none: the description.
    description_translations = models.JSONField(_("description in other languages"), default=dict, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("subscription topic")
        verbose_name_plural = _("subscription topics")

    def __str__(self):
        return self.name

    def name_in(self, language: str | None = None) -> str:
        """The name in `language` (by default the reader's), the typed name without a translation."""
        return in_language(self.name, self.translations, (language or "").split("-")[0] or None)

    def description_in(self, language: str | None = None) -> str:
        """The description in `language` (by default the reader's), the typed one without a translation."""
        return in_language(self.description, self.description_translations, (language or "").split("-")[0] or None)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    model_name="ContactPreferenceEvent",
)
class ContactPreference(models.Model):
    """The language a contact wants marketing e-mail in (chosen on the preference page)."""

    contact = models.OneToOneField("contacts.Contact", on_delete=models.CASCADE, primary_key=True,
                                   related_name="marketing_preference")
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"contact {self.contact_id}: {self.language or '-'}"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.DeleteEvent(),
    model_name="TopicSubscriptionEvent",
)
class TopicSubscription(models.Model):
    """A contact subscribed to a topic. Every change is in the history (pghistory) with its source."""

    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="topic_subscriptions")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="subscriptions")
    subscribed_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "topic"], name="topic_subscription_once")]
        indexes = [models.Index(fields=["topic", "contact"], name="topic_subscription_topic_idx")]

    def __str__(self):
        return f"contact {self.contact_id} on topic {self.topic_id}"


class MailingStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("mailing status", "Draft")
    SCHEDULED = "scheduled", pgettext_lazy("mailing status", "Scheduled")
    SENDING = "sending", pgettext_lazy("mailing status", "Sending")
    SENT = "sent", pgettext_lazy("mailing status", "Sent")


class Mailing(OwnedModel, HeartbeatJob):
    """An e-mail to everyone in a segment or a static list, for a campaign. Starting it freezes the
    recipients into one Delivery row each; workers then send each delivery at most once. While it is
    sending, the worker that holds it beats (crm/jobs.py), so a dead worker's mailing is taken over."""

    visibility_policy = CAMPAIGN_DATA

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT,
                                 related_name="mailings")
    segment = models.ForeignKey(Segment, verbose_name=_("segment"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    static_list = models.ForeignKey(StaticList, verbose_name=_("static list"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="mailings")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)
    subject = models.CharField(_("subject"), max_length=200)
    # `html` written: the message is HTML with `body` its plain-text part (made from the HTML when saved);
    # `html` empty (mailings written before templates): plain text only, as before.
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    product = models.ForeignKey("sales.Product", verbose_name=_("announced product"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=MailingStatus.choices, default=MailingStatus.DRAFT)
    track = models.BooleanField(_("count opens and clicks"), default=True)
    hourly_limit = models.PositiveIntegerField(
        _("at most per hour"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("Messages of this mailing in any hour; empty: as fast as the site allows."))
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True, editable=False)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    # Paused (the hourly limit is reached, or messages wait to be tried again): no worker takes it before this.
    next_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    base_url = models.CharField(max_length=300, blank=True, editable=False)  # for the links in the messages
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        # A segment or a static list; or neither, for a topic's subscribers (a new-product notice).
        constraints = [models.CheckConstraint(
            condition=models.Q(segment__isnull=True, static_list__isnull=False)
            | models.Q(segment__isnull=False, static_list__isnull=True)
            | models.Q(segment__isnull=True, static_list__isnull=True, topic__isnull=False),
            name="mailing_one_audience")]
        indexes = [models.Index(fields=["scheduled_at"], name="mailing_scheduled_idx",
                                condition=models.Q(status="scheduled"))]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return pk_url("marketing:mailing_detail", self.pk)


class MailingVersion(models.Model):
    """The mailing in another language: recipients who chose that language get this version."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)

    class Meta:
        ordering = ["language"]
        constraints = [models.UniqueConstraint(fields=["mailing", "language"], name="mailing_version_once")]

    def __str__(self):
        return f"mailing {self.mailing_id} ({self.language})"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at"],
    model_name="EmailTemplateEvent",
)
class EmailTemplate(OwnedModel):
    """A reusable e-mail: a subject and an HTML body per language (marketing/templating.py). A marketer
    picks it when creating a mailing, which copies its versions; changing the template later changes no
    mailing."""

    visibility_policy = CAMPAIGN_DATA

    name = models.CharField(_("name"), max_length=200)
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        indexes = [models.Index(fields=["name", "id"], name="emailtemplate_name_idx", condition=LIVE)]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return pk_url("marketing:template_detail", self.pk)


class EmailTemplateVersion(models.Model):
    """The template in one language: subject and sanitised HTML."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    html = models.TextField(_("HTML"))

    class Meta:
        ordering = ["language"]
        constraints = [models.UniqueConstraint(fields=["template", "language"], name="email_template_version_once")]

    def __str__(self):
        return f"template {self.template_id} ({self.language})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", pgettext_lazy("delivery status", "Sent")
    SUPPRESSED = "suppressed", _("Suppressed")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown (interrupted)")


class BouncedAddress(models.Model):
    """An address mail bounced from: suppressed for good after a hard bounce, or after
    MARKETING_SOFT_BOUNCE_LIMIT soft ones. Every later mailing leaves it out ("bounced")."""

    email = models.CharField(_("e-mail"), max_length=254, unique=True)  # lower case
    soft_bounces = models.PositiveIntegerField(default=0)
    hard_bounced_at = models.DateTimeField(null=True, blank=True)
    suppressed_at = models.DateTimeField(null=True, blank=True)
    last_bounce_at = models.DateTimeField(default=timezone.now)
    last_reason = models.CharField(max_length=300, blank=True)
    # Someone cleared it (the address works again): mailings send to it until it bounces anew.
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("bounced address")
        verbose_name_plural = _("bounced addresses")
        indexes = [models.Index(fields=["-suppressed_at", "-id"], name="bounced_suppressed_idx",
                                condition=models.Q(suppressed_at__isnull=False))]

    def __str__(self):
        return self.email


class Delivery(models.Model):
    """One recipient of one mailing. Never twice: the row is unique per (mailing, contact), a worker
    claims it (pending → sending) in a committed compare-and-set before it sends, and marks it sent
    in its own commit after. A row a dead worker left in "sending" becomes "unknown" and is not
    sent again: the message may have gone out."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="deliveries")
    contact = models.ForeignKey("contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="+")
    email = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=10, blank=True)  # the version sent, frozen at the start
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # A temporary SMTP refusal puts the row back to pending, tried again after a back-off.
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)  # db_default: rows are INSERT … SELECTed
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # What came back to the VERP return path (marketing/bounces.py): the first bounce per delivery counts.
    bounce = models.CharField(max_length=4, blank=True, default="", db_default="",
                              choices=[("hard", _("Hard bounce")), ("soft", _("Soft bounce"))])
    bounced_at = models.DateTimeField(null=True, blank=True)
    # Tracking (marketing/tracking.py): the first open and the first click.
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mailing recipient")
        verbose_name_plural = _("mailing recipients")
        constraints = [models.UniqueConstraint(fields=["mailing", "contact"], name="delivery_once_per_contact")]
        indexes = [models.Index(fields=["mailing", "status", "id"], name="delivery_mailing_status_idx"),
                   # the hourly limits count the messages claimed in the last hour
                   models.Index(fields=["claimed_at"], name="delivery_claimed_idx",
                                condition=models.Q(claimed_at__isnull=False))]

    def __str__(self):
        return f"mailing {self.mailing_id} to contact {self.contact_id}: {self.status}"


class LinkClick(models.Model):
    """One recipient clicked one link of a mailing (marketing/tracking.py): one row per delivery and
    link, however often they click it, so a link's rows are its unique clicks. Read through its
    mailing (the mailing page), never on its own."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="link_clicks")
    url = models.TextField()
    clicked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("link click")
        verbose_name_plural = _("link clicks")
        constraints = [models.UniqueConstraint(fields=["delivery", "url"], name="link_click_once_per_recipient")]
        indexes = [models.Index(fields=["mailing", "url"], name="link_click_mailing_url_idx")]

    def __str__(self):
        return f"delivery {self.delivery_id} clicked {self.url}"


class WebForm(models.Model):
    """A public web-to-lead form an admin builds: the fields it asks for, a consent checkbox with its
    wording, a thank-you text and a language. Each submission becomes a lead in the chosen queue,
    attributed to the campaign (marketing/webforms.py)."""

    name = models.CharField(_("name"), max_length=200)
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="web_forms")
    team = models.ForeignKey("crm.Team", verbose_name=_("lead queue (team)"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    fields = models.JSONField(_("fields"), default=list, blank=True)
    consent_wording = models.TextField(_("consent wording"), blank=True,
                                       help_text=_("Empty: the form has no consent checkbox."))
    thank_you = models.TextField(_("thank-you text"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES,
                                default=settings.LANGUAGE_CODE)
    is_active = models.BooleanField(_("active"), default=True)
    embed_origins = models.TextField(
        _("sites that may embed the form"), blank=True,
        help_text=_("One address per line, such as https://www.example.com. Empty: any site may embed it."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")

    def __str__(self):
        return self.name

    def embed_origin_list(self) -> list[str]:
        return [line.strip() for line in self.embed_origins.splitlines() if line.strip()]


class WebFormSubmission(models.Model):
    """Every POST to a public form, kept for the per-IP limit and to show what came in."""

    class Outcome(models.TextChoices):
        LEAD = "lead", _("Lead created")
        HONEYPOT = "honeypot", _("Refused: a robot")
        LIMITED = "limited", _("Refused: too many from one address")
        MATCHED = "matched", _("Added to an existing lead or contact")

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # The lead it created, or the existing lead or contact it was added to ("matched").
    lead = models.ForeignKey("sales.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta:
        indexes = [models.Index(fields=["ip", "-created_at"], name="webform_submission_ip_idx"),
                   models.Index(fields=["form", "-created_at"], name="webform_submission_form_idx")]

    def __str__(self):
        return f"{self.form_id}: {self.outcome}"


class CallDistribution(models.TextChoices):
    EVEN = "even", _("Evenly among the agents")
    TERRITORY = "territory", _("By territory (the rest evenly)")
    SHARED = "shared", _("One shared queue: whoever is free takes the next")


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at"],
    model_name="CallListEvent",
)
class CallList(OwnedModel):
    """A telemarketing call list for a campaign: the people of a segment or a static list, frozen into
    one CallListItem each when the list is built, shared among the chosen agents. Each agent works their
    queue with the script and logs an outcome per call (marketing/calllists.py)."""

    visibility_policy = CAMPAIGN_DATA

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT,
                                 related_name="call_lists")
    name = models.CharField(_("name"), max_length=200)
    script = models.TextField(_("script"), blank=True,
                              help_text=_("What the agent says: the opening, the offer, answers to objections."))
    segment = models.ForeignKey(Segment, verbose_name=_("segment"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    static_list = models.ForeignKey(StaticList, verbose_name=_("static list"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    distribution = models.CharField(_("share the calls"), max_length=10, choices=CallDistribution.choices,
                                    default=CallDistribution.EVEN)
    agents = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("agents"), related_name="+")
    # Counted when the list was built: who was left out and why.
    left_out_do_not_call = models.PositiveIntegerField(default=0)
    left_out_no_phone = models.PositiveIntegerField(default=0)
    left_out_no_agent = models.PositiveIntegerField(default=0)
    left_out_leads = models.PositiveIntegerField(default=0)  # leads of the static list already closed (disqualified)
    # A closed list hands out no entries; reopening it carries on where it stopped.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("call list")
        verbose_name_plural = _("call lists")
        constraints = [models.CheckConstraint(
            condition=models.Q(segment__isnull=True, static_list__isnull=False)
            | models.Q(segment__isnull=False, static_list__isnull=True), name="call_list_one_audience")]
        indexes = [models.Index(fields=["campaign", "-created_at"], name="call_list_campaign_idx", condition=LIVE)]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return pk_url("marketing:call_list_detail", self.pk)


class CallStatus(models.TextChoices):
    QUEUED = "queued", _("To call")
    CALLBACK = "callback", _("Call back")
    DONE = "done", _("Done")


class CallResult(models.TextChoices):
    NO_ANSWER = "no_answer", _("No answer")
    CALLBACK = "callback", _("Call back at a time")
    NOT_INTERESTED = "not_interested", _("Not interested")
    INTERESTED = "interested", _("Interested")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    DO_NOT_CALL = "do_not_call", _("Asked not to be called")


class CallListItem(models.Model):
    """One person to call on a list, once per list. An agent takes the next one with a claim (a
    compare-and-set UPDATE over rows locked with SKIP LOCKED), so two agents never get the same
    person; a claim not followed by an outcome runs out after CALL_CLAIM_MINUTES."""

    call_list = models.ForeignKey(CallList, on_delete=models.CASCADE, related_name="items")
    # Whom to call: a contact, or a lead of a static list (exactly one of the two).
    contact = models.ForeignKey("contacts.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    lead_called = models.ForeignKey("sales.Lead", verbose_name=_("lead to call"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("agent"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")  # null: the shared queue
    status = models.CharField(_("status"), max_length=10, choices=CallStatus.choices, default=CallStatus.QUEUED)
    due_at = models.DateTimeField(_("call at"), null=True, blank=True)  # a call-back or a retry; null: now
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("calls"), default=0)
    result = models.CharField(_("outcome"), max_length=20, choices=CallResult.choices, blank=True)
    called_at = models.DateTimeField(_("last call"), null=True, blank=True)
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    lead = models.ForeignKey("sales.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opportunity = models.ForeignKey("sales.Opportunity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["id"]
        verbose_name = _("call list entry")
        verbose_name_plural = _("call list entries")
        constraints = [
            models.UniqueConstraint(fields=["call_list", "contact"], name="call_list_item_once"),
            models.UniqueConstraint(fields=["call_list", "lead_called"], name="call_list_lead_once"),
            models.CheckConstraint(condition=models.Q(contact__isnull=False, lead_called__isnull=True)
                                   | models.Q(contact__isnull=True, lead_called__isnull=False),
                                   name="call_list_item_contact_or_lead")]
        indexes = [models.Index(fields=["call_list", "agent", "status", "due_at", "id"], name="call_item_queue_idx"),
                   models.Index(fields=["contact"], name="call_item_contact_idx"),
                   models.Index(fields=["lead_called"], name="call_item_lead_idx")]

    def __str__(self):
        who = f"contact {self.contact_id}" if self.contact_id else f"lead {self.lead_called_id}"
        return f"call list {self.call_list_id}: {who} ({self.status})"
