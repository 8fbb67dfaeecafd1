"""Core models: people (User, Team, Territory), the owned-record base, scheduled jobs, notifications,
hand-overs, custom fields, saved views and API tokens. Nothing here knows a module."""

import secrets
import zoneinfo
from importlib import import_module
from typing import Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.cache import caches
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.encryption import EncryptedTextField
from crm.phones import region_choices
from crm.roles import Role
from crm.translated import in_language, reader_language

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    # Numbers the team types without a country code are read as this country's (crm/phones.py).
    country = models.CharField(_("country for phone numbers"), max_length=2, blank=True, choices=region_choices,
                               help_text=_("Phone numbers typed without a country code are read as this "
                                           "country's."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name


class Territory(models.Model):
    """A region in a tree (World > Europe > Germany > Bavaria)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    translations = models.JSONField(_("name in other languages"), default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="territory_unique_name_in_parent")]

    def __str__(self):
        return in_language(self.name, self.translations)

    def ancestors(self) -> list["Territory"]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    def subtree_ids(self) -> set[int]:
        """This region and every region below it (a filter on a region includes its sub-regions)."""
        ids, frontier = {self.pk}, {self.pk}
        while frontier:
            frontier = set(Territory.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - ids
            ids |= frontier
        return ids

    @property
    def full_name(self) -> str:
        return " › ".join([str(t) for t in self.ancestors()] + [str(self)])


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class UserManager(DjangoUserManager):
    """Users sign in with their e-mail address; there is no separate username."""

    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email or username)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(None, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(None, email, password, **extra_fields)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES_REP)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    territories = models.ManyToManyField(Territory, verbose_name=_("territories"), blank=True, related_name="users")
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    phone_region = models.CharField(_("country for phone numbers"), max_length=2, blank=True, choices=region_choices,
                                    help_text=_("Phone numbers you type without a country code are read as this "
                                                "country's. Empty: your team's country."))
    # Secret for the private iCalendar subscription URL; regenerating it cuts off old subscribers.
    calendar_token = models.CharField(max_length=43, default=new_calendar_token, unique=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["first_name", "last_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def initials(self) -> str:
        parts = [self.first_name[:1], self.last_name[:1]]
        return ("".join(parts) or self.email[:2]).upper()


class OwnedQuerySet(models.QuerySet):
    """Reads for any record with an owner. Visibility lives in crm.visibility."""

    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user: User) -> Self:
        from crm import visibility

        return visibility.visible(self, user)

    def editable_by(self, user: User) -> Self:
        from crm import visibility

        return visibility.editable(self, user)


class OwnedModel(models.Model):
    """Base for every record with an owner: the visibility policy and the audit history apply."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared_with_team = models.BooleanField(
        _("shared with my team"), default=False, help_text=_("Teammates can see and edit this record.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        abstract = True


class HeartbeatJob(models.Model):
    """A background job row that reports while it runs (crm/jobs.py): whoever holds `run_token` beats
    `heartbeat_at`; a job not heard from for JOB_STALE_SECONDS lost its worker and is taken over."""

    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    run_token = models.UUIDField(null=True, blank=True, editable=False)
    run_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        abstract = True


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ScheduledJob(models.Model):
    """A unit of work due at a time, claimed by the scheduler tick (see crm/scheduler.py)."""

    kind = models.CharField(max_length=50)
    run_at = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set just before an effect that cannot be undone (an e-mail sent): a retried job skips it.
    effect_claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["run_at"], name="scheduledjob_due_idx", condition=models.Q(status__in=["pending", "running"])
            )
        ]

    def __str__(self):
        return f"{self.kind} at {self.run_at:%Y-%m-%d %H:%M}"


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMail(models.Model):
    """One e-mail, queued in the same transaction as the change that causes it and sent from here with
    retries (crm/outbox.py). `key` names the cause ("invoice-overdue:12"): the same cause queues once,
    and the Message-ID is derived from it, so a message sent again after a crash is recognisably the same."""

    key = models.CharField(max_length=200, unique=True)
    message_id = models.CharField(max_length=300)
    from_email = models.CharField(max_length=300)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300, blank=True)
    raw = models.BinaryField()  # the whole message as it goes on the wire, attachments included
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)  # the last refused attempt
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_due_idx",
                         condition=models.Q(status__in=["queued", "sending"])),
            models.Index(fields=["-failed_at"], name="outbox_failed_idx", condition=models.Q(failed_at__isnull=False)),
            models.Index(fields=["-sent_at"], name="outbox_sent_idx", condition=models.Q(sent_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.key}: {self.status}"


class UserSession(models.Model):
    """Which session belongs to whom, so deactivating a user can end their sessions at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"session of user {self.user_id}"

    @classmethod
    def end_all_for(cls, user, keep: str | None = None) -> int:
        """Ends the user's sessions (all but `keep`, the current one, when given): the rows and,
        as sessions are read from the cache first (settings.SESSION_ENGINE), the cached copies."""
        from django.contrib.sessions.models import Session

        rows = cls.objects.filter(user=user).exclude(session_key=keep or "")
        keys = list(rows.values_list("session_key", flat=True))
        prefix = getattr(import_module(settings.SESSION_ENGINE).SessionStore, "cache_key_prefix", None)
        if prefix and keys:
            # First, and not tolerant of a Redis that does not answer: a cached copy left behind would
            # keep a signed-out device signed in, so nothing is ended until the copies are gone.
            caches[settings.SESSION_CACHE_ALIAS].delete_many([prefix + key for key in keys])
        Session.objects.filter(session_key__in=keys).delete()
        rows.delete()
        return len(keys)


# --- Notifications -------------------------------------------------------------


class NotificationKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder")
    ASSIGNMENT = "assignment", _("Assignment")
    HANDOVER = "handover", _("Hand-over")
    MENTION = "mention", _("Mention")
    ALERT = "alert", _("Alert")


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    # What happened, as a message key and its parameters (crm/notifications.py), put into words in
    # the reader's language when read; `text` is the English rendering (all that older rows have).
    message = models.CharField(max_length=60, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Exactly once: what caused the notification ("reminder:12:<when it was due>"); a cause
    # notifies at most once, whichever worker gets there first.
    key = models.CharField(max_length=100, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
            models.Index(fields=["user"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)),
        ]

    def __str__(self):
        return self.display

    @property
    def display(self) -> str:
        """The notification in the active language."""
        from crm.notifications import render

        return render(self)


class HandOver(models.Model):
    """One hand-over of a user's book to another user: the audit entry the managers read."""

    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    counts = models.JSONField(default=dict)  # {"accounts": 12, "contacts": 40, "activities": 7}
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.from_user} → {self.to_user} ({self.created_at:%Y-%m-%d})"


class CustomFieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    BOOLEAN = "boolean", _("Yes/no")


class CustomFieldTarget(models.TextChoices):
    ACCOUNT = "accounts.account", _("Accounts")
    CONTACT = "contacts.contact", _("Contacts")
    LEAD = "sales.lead", _("Leads")
    OPPORTUNITY = "sales.opportunity", _("Opportunities")


# The records that take custom fields: the core's own list, and each module adds its records from its
# AppConfig.ready() (`register_custom_field_target("service.ticket", _("Tickets"))`), so the core names
# no module's model. The key is also the exporter's and the saved views' target.
_CUSTOM_FIELD_TARGETS: dict[str, object] = dict(CustomFieldTarget.choices)


def register_custom_field_target(key: str, label) -> None:
    if len(key) > 40:
        raise ValueError(f"Custom field target {key!r} is longer than 40 characters")
    _CUSTOM_FIELD_TARGETS[key] = label


def custom_field_targets() -> list[tuple[str, object]]:
    return list(_CUSTOM_FIELD_TARGETS.items())


class CustomField(models.Model):
    """An extra field an admin adds to a model without a migration; values live in the
    record's `custom` JSON column (GIN-indexed for filters)."""

    target = models.CharField(_("for"), max_length=40, choices=custom_field_targets)
    key = models.SlugField(_("key"), max_length=40, help_text=_("Used in imports, exports and the API; cannot change."))
    label = models.CharField(_("label"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=CustomFieldKind.choices, default=CustomFieldKind.TEXT)
    choices = models.TextField(_("choices"), blank=True, help_text=_("For a choice field: one option per line."))
    required = models.BooleanField(_("required"), default=False)
    filterable = models.BooleanField(_("show as a list filter"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    # The label and the options per language: {"ru": "Сегмент"} and {"ru": ["Малый", "Средний"]},
    # options in the order of `choices`; stored values stay the typed options (crm/translated.py).
    translations = models.JSONField(_("label in other languages"), default=dict, blank=True)
    choice_translations = models.JSONField(_("options in other languages"), default=dict, blank=True)

    class Meta:
        ordering = ["target", "position", "label"]
        constraints = [models.UniqueConstraint(fields=["target", "key"], name="customfield_unique_key")]

    def __str__(self):
        return self.shown_label

    @property
    def shown_label(self) -> str:
        return in_language(self.label, self.translations)

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    @property
    def shown_choices(self) -> list[tuple[str, str]]:
        """(stored option, the reader's name for it); an option without a translation shows as typed."""
        names = (self.choice_translations or {}).get(reader_language()) or []
        return [(option, names[i] if i < len(names) and names[i] else option)
                for i, option in enumerate(self.choice_list)]

    def shown_choice(self, value: str) -> str:
        return dict(self.shown_choices).get(value, value)

    def choice_names(self) -> list[tuple[str, str]]:
        """Every name an option goes by, as (stored option, name): typed, in each language, and the
        reader's last (so a dict of them names each option for the reader). Imports match any of them."""
        pairs = [(option, option) for option in self.choice_list]
        for names in (self.choice_translations or {}).values():
            pairs += [(option, name) for option, name in zip(self.choice_list, names or [], strict=False) if name]
        return pairs + self.shown_choices


class SavedView(models.Model):
    """A named set of list filters and sort: private to its owner or shared with everyone
    (rows still pass through each viewer's own visibility)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    target = models.CharField(max_length=40, choices=CustomFieldTarget.choices)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    shared = models.BooleanField(_("share with everyone"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["target", "user"], name="savedview_target_user_idx")]

    def __str__(self):
        return self.name


class ApiToken(models.Model):
    """A personal key for the REST API. Only a SHA-256 digest of the key is stored (a stolen
    database yields no usable key); the key itself is shown once, when it is created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # The key's first characters, so its owner can tell which key is which.
    prefix = models.CharField(_("key starts with"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_idx")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# --- Security: the security log, two-factor sign-in ----------------------------------------


class SecurityEventKind(models.TextChoices):
    SIGN_IN = "sign_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
    LOCKED = "locked", _("Locked out")
    UNLOCKED = "unlocked", _("Unlocked by an admin")
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", _("Signed out everywhere")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
    TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-factor sign-in turned on")
    TWO_FACTOR_DISABLED = "two_factor_disabled", _("Two-factor sign-in turned off")
    TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor sign-in reset by an admin")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
    TWO_FACTOR_POLICY = "two_factor_policy", _("Two-factor rule for a role changed")
    ROLE_CHANGED = "role_changed", _("Role changed")
    TEAM_CHANGED = "team_changed", _("Team changed")
    USER_DEACTIVATED = "user_deactivated", _("User deactivated")
    USER_ACTIVATED = "user_activated", _("User reactivated")
    EXPORT = "export", _("Export")
    API_TOKEN_USED = "api_token_used", _("API token used")
    HANDOVER = "handover", _("Hand-over")
    ERASURE = "erasure", _("Personal data erased")
    HIDDEN_DUPLICATE = "hidden_duplicate", _("Duplicate check matched a hidden record")


class SecurityEvent(models.Model):
    """One line of the security log (crm/security.py writes it; admins read it at
    /admin-tools/security-log/; rows older than SECURITY_LOG_DAYS are purged by the scheduler).
    Failed sign-ins are counted from here for the lockout, by address and by IP."""

    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=30, choices=SecurityEventKind.choices)
    # Whom the event concerns, and who did it when that is someone else (an admin).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    email = models.CharField(_("e-mail address"), max_length=254, blank=True)  # as typed, lower-cased
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [
            models.Index(fields=["-at"], name="securityevent_at_idx"),
            models.Index(fields=["email", "-at"], name="securityevent_email_idx"),
            models.Index(fields=["user", "-at"], name="securityevent_user_idx"),
            models.Index(fields=["ip", "-at"], name="securityevent_failed_ip_idx",
                         condition=models.Q(kind="sign_in_failed")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.email or self.user_id} at {self.at:%Y-%m-%d %H:%M}"


class TwoFactorDevice(models.Model):
    """A user's authenticator app (TOTP, RFC 6238). `confirmed_at` is set once the user has typed
    a first code; `last_step` is the last 30-second step accepted, so a code works only once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor")
    secret = EncryptedTextField()  # encrypted at rest (crm/encryption.py)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)

    def __str__(self):
        return f"authenticator of user {self.user_id}"


class RecoveryCode(models.Model):
    """A single-use code for a lost phone. Only its SHA-256 digest is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recoverycode_unique")]

    def __str__(self):
        return f"recovery code of user {self.user_id}"


class RoleSecurity(models.Model):
    """An admin's choice for a role; a role without a row follows TWO_FACTOR_REQUIRED_ROLES."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, unique=True)
    two_factor_required = models.BooleanField(_("two-factor sign-in required"), default=False)

    def __str__(self):
        return self.get_role_display()
