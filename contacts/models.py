"""People: contacts. (Leads live in sales: they convert into deals.)"""

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from crm.choices import LeadSource  # noqa: F401 - re-exported for contacts.*
from crm.models import OwnedModel, OwnedQuerySet
from crm.phones import TAIL_SEPARATOR, PhoneTails
from crm.urlcache import pk_url
from crm.visibility import CUSTOMER_DATA


class PointKind(models.TextChoices):
    """What a phone number or an e-mail address is for (vCard's TYPE)."""

    MOBILE = "mobile", _("mobile")
    WORK = "work", _("work")
    HOME = "home", _("home")
    FAX = "fax", _("fax")
    OTHER = "other", _("other")


class PreferredChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("Messenger")
    MEETING = "meeting", _("In person")


class ContactQuerySet(OwnedQuerySet):
    def with_phone(self, e164: str | list[str], tail: str = ""):
        """Contacts with this number (E.164), or with any of these numbers (a list), or (`tail`)
        with a number ending in these digits (contact_phone_tails_trgm serves it)."""
        numbers = [e164] if isinstance(e164, str) else [number for number in e164 if number]
        condition = models.Q(phones__overlap=numbers) if len(numbers) > 1 else models.Q(phones__contains=numbers)
        if not tail:
            return self.filter(condition)
        tails = models.Q(phone_tails__contains=tail + TAIL_SEPARATOR)
        return self.alias(phone_tails=PhoneTails("phones")).filter((condition | tails) if numbers else tails)

    def with_email(self, email: str):
        return self.filter(emails__contains=[email.strip().lower()])


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at", "full_name", "phone_kinds", "email_kinds"],  # the kinds: shown with the numbers
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
    # What each number / address is for, by value: {"+79123456789": "mobile"}, {"ivan@example.com": "work"};
    # a value without an entry has no stated kind. Kept in step with `phones` / `emails` by `save()`.
    phone_kinds = models.JSONField(_("phone kinds"), default=dict, blank=True)
    email_kinds = models.JSONField(_("e-mail kinds"), default=dict, blank=True)
    website = models.URLField(_("website"), blank=True)
    # Numbers an import could not read, kept as written for someone to check (never dropped).
    phones_to_check = ArrayField(models.CharField(max_length=40), verbose_name=_("phone numbers to check"),
                                 default=list, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=PreferredChannel.choices, blank=True
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    address = models.TextField(_("street address"), blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
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
            # The end of a number ("638-38-11"): crm_phone_tails(phones) LIKE '%6383811|%'.
            GinIndex(OpClass(PhoneTails("phones"), name="gin_trgm_ops"), name="contact_phone_tails_trgm"),
            GinIndex(fields=["full_name"], name="contact_full_name_trgm", opclasses=["gin_trgm_ops"]),
            # icontains compiles to UPPER(full_name) LIKE UPPER(%s): this index serves it.
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="contact_full_name_up_trgm"),
            # Live rows in list order, so deep pages and "recently changed" read the index only.
            models.Index(fields=["last_name", "first_name", "id"], name="contact_live_name_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["-updated_at", "-id"], name="contact_live_updated_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            # A rep's "shared with my team" arm of the visibility scope (issue 16): without it the team index
            # returned the team's 200,000 rows to keep the 29,000 shared ones (a manager's team is
            # contact_team_live_name_idx, read index-only).
            models.Index(fields=["team", "id"], name="contact_shared_team_idx",
                         condition=models.Q(shared_with_team=True, deleted_at__isnull=True)),
            GinIndex(fields=["tags"], name="contact_tags_gin"),
            GinIndex(fields=["custom"], name="contact_custom_gin", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self):
        return self.full_name or self.last_name

    def save(self, *args, **kwargs):
        self.full_name = self.compose_full_name()
        self.phone_kinds = {n: k for n, k in (self.phone_kinds or {}).items() if n in (self.phones or [])}
        self.email_kinds = {e: k for e, k in (self.email_kinds or {}).items() if e in (self.emails or [])}
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "full_name", "phone_kinds", "email_kinds"}
        super().save(*args, **kwargs)

    def phones_with_kinds(self) -> list[tuple[str, str]]:
        """(number, its kind's name or "") for the page."""
        kinds = self.phone_kinds or {}
        return [(number, PointKind(kinds[number]).label if kinds.get(number) in PointKind.values else "")
                for number in self.phones or []]

    def emails_with_kinds(self) -> list[tuple[str, str]]:
        kinds = self.email_kinds or {}
        return [(email, PointKind(kinds[email]).label if kinds.get(email) in PointKind.values else "")
                for email in self.emails or []]

    @property
    def postal_lines(self) -> list[str]:
        """The address as it is written on an envelope: street lines, "postcode city, region", country."""
        town = " ".join(part for part in (self.postal_code, self.city) if part)
        town = ", ".join(part for part in (town, self.region) if part)
        return [line for line in [*(self.address or "").splitlines(), town, self.country] if line.strip()]

    def compose_full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)

    def get_absolute_url(self):
        return pk_url("contacts:detail", self.pk)

    @property
    def primary_email(self) -> str:
        return self.emails[0] if self.emails else ""

    @property
    def primary_phone(self) -> str:
        return self.phones[0] if self.phones else ""
