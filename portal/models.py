"""Satisfaction surveys and the customer portal's sign-in.

A survey is one row per resolution of a ticket (unique on ticket + resolution time); its answer is
taken once, with a compare-and-set UPDATE. It names no contact of its own (the ticket does), so merging
contacts has one relation less to move. The agent and queue are copied from the ticket when it is
resolved, so the desk's figures read one table and later re-assignments do not move old ratings.

A portal user is a contact allowed into the portal. It is not a staff `User`: it has its own password,
lockout counters and session (portal/auth.py), so a portal session never opens a staff page.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.roles import Role
from crm.visibility import Policy, Scope

# The satisfaction figures: the desk, its leads, executives and admins read them; nobody edits them
# (customers answer through the signed link or the portal).
FEEDBACK_DATA = Policy(
    read={
        Role.ADMIN: Scope.ALL,
        Role.EXECUTIVE: Scope.ALL,
        Role.SUPPORT_LEAD: Scope.ALL,
        Role.SUPPORT_AGENT: Scope.ALL,
    },
)

# Who may invite a contact to the portal and change their access: whoever may write tickets.
PORTAL_ACCESS = Policy(
    read={Role.ADMIN: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL, Role.SUPPORT_AGENT: Scope.ALL},
    write={Role.ADMIN: Scope.ALL, Role.SUPPORT_LEAD: Scope.ALL, Role.SUPPORT_AGENT: Scope.ALL},
)

LOW_RATING = 2  # 1 and 2 are "low": listed for the support lead


class SurveyQuerySet(models.QuerySet["Survey"]):
    def visible_to(self, user):
        """The feedback readers (FEEDBACK_DATA), on the tickets they may see (a deleted ticket's surveys
        are gone with it)."""
        from crm.visibility import can_read
        from service.models import Ticket

        if not can_read(user, Survey):
            return self.none()
        return self.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))

    def answered(self):
        return self.filter(answered_at__isnull=False)


class Survey(models.Model):
    visibility_policy = FEEDBACK_DATA

    ticket = models.ForeignKey("service.Ticket", on_delete=models.CASCADE, related_name="+")
    resolved_at = models.DateTimeField(_("resolved"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("agent"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    queue = models.ForeignKey("service.Queue", verbose_name=_("queue"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # The e-mail goes out at most once: the sender claims the row (emailed_at) before sending.
    emailed_to = models.CharField(max_length=254, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_in_portal = models.BooleanField(default=False)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["-resolved_at", "-id"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "resolved_at"], name="survey_one_per_resolution"),
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                                   name="survey_rating_1_to_5"),
            models.CheckConstraint(condition=Q(answered_at__isnull=True) | Q(rating__isnull=False),
                                   name="survey_answer_has_rating"),
        ]
        indexes = [
            models.Index(fields=["ticket", "-resolved_at"], name="survey_ticket_idx"),
            # The desk's figures and the low-ratings list read answers of the last days.
            models.Index(fields=["answered_at"], name="survey_answered_idx", condition=Q(answered_at__isnull=False)),
            models.Index(fields=["id"], name="survey_unsent_idx",
                         condition=Q(emailed_at__isnull=True) & ~Q(emailed_to="")),
        ]

    def __str__(self):
        return f"Survey {self.pk} on ticket {self.ticket_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class PortalUser(models.Model):
    """A contact's way into the portal: e-mail and password, no staff rights whatsoever."""

    visibility_policy = PORTAL_ACCESS

    contact = models.OneToOneField("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(_("e-mail"))
    password = models.CharField(max_length=128, blank=True)  # a Django password hash; empty until set
    is_active = models.BooleanField(_("access allowed"), default=True)
    sees_account_tickets = models.BooleanField(
        _("sees every ticket of their company"), default=False,
        help_text=_("Otherwise only the tickets they opened or that name them."))
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    invited_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    last_login = models.DateTimeField(null=True, blank=True)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("portal user")
        verbose_name_plural = _("portal users")
        constraints = [models.UniqueConstraint(Lower("email"), name="portaluser_email_unique")]

    def __str__(self):
        return self.email

    @property
    def has_password(self) -> bool:
        return bool(self.password)


class TokenPurpose(models.TextChoices):
    INVITE = "invite", _("Invitation")
    RESET = "reset", _("Password reset")


class PortalToken(models.Model):
    """A single-use, expiring link (an invitation or a password reset). Only the SHA-256 of the token
    is stored; the link is used up with a compare-and-set UPDATE."""

    portal_user = models.ForeignKey(PortalUser, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=10, choices=TokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_purpose_display()} for {self.portal_user_id}"
