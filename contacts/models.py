"""People: contacts (and, with the sales issue, leads)."""

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.choices import LeadSource  # noqa: F401 - re-exported for contacts.*
from crm.models import OwnedModel, OwnedQuerySet
from crm.visibility import CUSTOMER_DATA, LEAD_DATA


class PreferredChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("Messenger")
    MEETING = "meeting", _("In person")


class ContactQuerySet(OwnedQuerySet):
    def with_phone(self, e164: str):
        return self.filter(phones__contains=[e164])

    def with_email(self, email: str):
        return self.filter(emails__contains=[email.strip().lower()])


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at", "full_name"],
    model_name="ContactEvent",
)
class Contact(OwnedModel):
    visibility_policy = CUSTOMER_DATA

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name / patronymic"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    full_name = models.CharField(max_length=310, editable=False, db_index=False)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    department = models.CharField(_("department"), max_length=150, blank=True)
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="contacts",
    )
    emails = ArrayField(models.EmailField(), verbose_name=_("e-mails"), default=list, blank=True)
    phones = ArrayField(models.CharField(max_length=20), verbose_name=_("phones"), default=list, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=PreferredChannel.choices, blank=True
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    address = models.TextField(_("address"), blank=True)
    lead_source = models.CharField(_("lead source"), max_length=20, choices=LeadSource.choices, blank=True)
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True)
    description = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("additional fields"), default=dict, blank=True)
    # Consent: what the person agreed to, when, where and in which words.
    email_opt_in = models.BooleanField(_("agreed to marketing e-mail"), default=False)
    email_opt_in_at = models.DateTimeField(_("agreed on"), null=True, blank=True)
    email_opt_in_source = models.CharField(_("where they agreed"), max_length=200, blank=True)
    email_opt_in_wording = models.TextField(_("wording they agreed to"), blank=True)
    email_opted_out_at = models.DateTimeField(_("opted out on"), null=True, blank=True)
    do_not_call = models.BooleanField(_("do not call"), default=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["owner", "last_name", "id"], name="contact_owner_name_idx"),
            models.Index(fields=["team", "last_name", "first_name", "id"], name="contact_team_live_name_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            models.Index(fields=["account", "last_name"], name="contact_account_idx"),
            # No pending list: imports match 1,000 e-mails per query, which would scan it linearly.
            GinIndex(fields=["emails"], name="contact_emails_gin", fastupdate=False),
            GinIndex(fields=["phones"], name="contact_phones_gin", fastupdate=False),
            GinIndex(fields=["full_name"], name="contact_full_name_trgm", opclasses=["gin_trgm_ops"]),
            # icontains compiles to UPPER(full_name) LIKE UPPER(%s): this index serves it.
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="contact_full_name_up_trgm"),
            # Live rows in list order, so deep pages and "recently changed" read the index only.
            models.Index(fields=["last_name", "first_name", "id"], name="contact_live_name_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["-updated_at", "-id"], name="contact_live_updated_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            GinIndex(fields=["tags"], name="contact_tags_gin"),
            GinIndex(fields=["custom"], name="contact_custom_gin", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self):
        return self.full_name or self.last_name

    def save(self, *args, **kwargs):
        self.full_name = self.compose_full_name()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "full_name"}
        super().save(*args, **kwargs)

    def compose_full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)

    def get_absolute_url(self):
        return reverse("contacts:detail", args=[self.pk])

    @property
    def primary_email(self) -> str:
        return self.emails[0] if self.emails else ""

    @property
    def primary_phone(self) -> str:
        return self.phones[0] if self.phones else ""


# --- Leads ------------------------------------------------------------------------


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("Working")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class DisqualifyReason(models.TextChoices):
    NO_BUDGET = "no_budget", _("No budget")
    NO_NEED = "no_need", _("No need")
    NO_AUTHORITY = "no_authority", _("Not a decision maker")
    UNREACHABLE = "unreachable", _("Could not reach")
    COMPETITOR = "competitor", _("Works with a competitor")
    DUPLICATE = "duplicate", _("Duplicate")
    SPAM = "spam", _("Spam / fake")
    OTHER = "other", _("Other")


class LeadRating(models.TextChoices):
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


LIVE = models.Q(deleted_at__isnull=True)


class LeadQuerySet(OwnedQuerySet):
    def unassigned(self):
        return self.filter(owner__isnull=True)

    def open(self):
        return self.filter(status__in=[LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED])


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at", "phone_e164"],
    model_name="LeadEvent",
)
class Lead(OwnedModel):
    """Someone who may buy, not yet qualified. An unassigned lead has no owner and waits in its
    team's queue (its team's managers see it) until a rule or a manager assigns it."""

    visibility_policy = LEAD_DATA

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_e164 = models.CharField(max_length=20, blank=True, editable=False)
    website = models.URLField(_("website"), blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    territory = models.ForeignKey("crm.Territory", verbose_name=_("territory"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices, blank=True)
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    disqualify_reason = models.CharField(_("disqualified because"), max_length=20, choices=DisqualifyReason.choices,
                                         blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=LeadRating.choices, blank=True)
    description = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("additional fields"), default=dict, blank=True)
    # What the lead became (set once, by the conversion).
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True, editable=False)
    converted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    converted_account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", editable=False)
    converted_contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", editable=False)
    converted_opportunity = models.ForeignKey("sales.Opportunity", null=True, blank=True,
                                              on_delete=models.SET_NULL, related_name="+", editable=False)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="lead_live_created_idx", condition=LIVE),
            models.Index(fields=["owner", "status", "-created_at"], name="lead_owner_status_idx", condition=LIVE),
            models.Index(fields=["team", "-created_at"], name="lead_queue_idx",
                         condition=models.Q(deleted_at__isnull=True, owner__isnull=True)),
            models.Index(fields=["email"], name="lead_email_idx", condition=~models.Q(email="")),
            models.Index(fields=["phone_e164"], name="lead_phone_idx", condition=~models.Q(phone_e164="")),
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="lead_last_name_up_trgm"),
            GinIndex(OpClass(Upper("company"), name="gin_trgm_ops"), name="lead_company_up_trgm"),
        ]

    def __str__(self):
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return f"{name} ({self.company})" if self.company else name

    def save(self, *args, **kwargs):
        from crm.phones import normalize_phone

        self.phone_e164 = normalize_phone(self.phone) or ""
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_e164"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("contacts:lead_detail", args=[self.pk])


class LeadRuleMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin among the team's reps")
    USER = "user", _("Always to one person")


class LeadAssignmentRule(models.Model):
    """Distribution of unassigned leads: the first active rule (by position) whose conditions
    match a lead assigns it. Empty conditions match every lead."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    territory = models.ForeignKey("crm.Territory", verbose_name=_("when the lead's territory is in"), null=True,
                                  blank=True, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("when the source is"), max_length=20, choices=LeadSource.choices, blank=True)
    team = models.ForeignKey("crm.Team", verbose_name=_("assign within team"), on_delete=models.CASCADE,
                             related_name="+")
    method = models.CharField(_("how"), max_length=20, choices=LeadRuleMethod.choices,
                              default=LeadRuleMethod.ROUND_ROBIN)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    # Round-robin pointer: the last person this rule assigned to (updated under a row lock).
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", editable=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")

    def __str__(self):
        return self.name
