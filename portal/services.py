"""Writes of the portal app: surveys (created when a ticket is resolved, answered once), portal users
(invited, their password set through a single-use link, signed in with a lockout)."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact
from crm.models import User
from portal.models import PortalToken, PortalUser, Survey, TokenPurpose
from service.models import Ticket
from webhooks.services import emit

SURVEY_SALT = "portal.survey"
SURVEY_VALID_FOR = timedelta(days=30)
INVITE_VALID_FOR = timedelta(days=7)
RESET_VALID_FOR = timedelta(hours=2)
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MAX_COMMENT = 2000


# --- Surveys ------------------------------------------------------------------------------------


def survey_create(*, ticket: Ticket, now: datetime) -> Survey | None:
    """One survey per resolution (the unique constraint makes a repeated hook a no-op). Runs inside the
    resolving transaction; the caller sends the e-mail once that commits."""
    contact = ticket.contact if ticket.contact_id else None
    email = contact.primary_email if contact is not None and contact.deleted_at is None else ""
    try:
        with transaction.atomic():  # a savepoint: a duplicate must not break the resolving transaction
            return Survey.objects.create(ticket=ticket, resolved_at=ticket.resolved_at or now,
                                         agent_id=ticket.owner_id, queue_id=ticket.queue_id, emailed_to=email,
                                         created_at=now)
    except IntegrityError:
        return None


def survey_token(survey: Survey) -> str:
    """The signed link's token: the survey and its ticket, signed with a salt of its own and a time stamp."""
    return signing.dumps([survey.pk, survey.ticket_id], salt=SURVEY_SALT)


class SurveyLinkError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "invalid" or "expired"


def survey_from_token(token: str) -> Survey:
    """The survey a link names. A tampered, re-signed or foreign token is "invalid"; an old one "expired".
    The signed ticket id must match the survey's, so a token cannot be pointed at another ticket."""
    try:
        survey_id, ticket_id = signing.loads(token, salt=SURVEY_SALT, max_age=SURVEY_VALID_FOR)
    except signing.SignatureExpired:
        raise SurveyLinkError("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise SurveyLinkError("invalid") from None
    survey = (Survey.objects.select_related("ticket").filter(pk=survey_id, ticket_id=ticket_id,
                                                             ticket__deleted_at__isnull=True).first()
              if isinstance(survey_id, int) and isinstance(ticket_id, int) else None)
    if survey is None:
        raise SurveyLinkError("invalid")
    return survey


@transaction.atomic
def survey_answer(*, survey: Survey, rating: int, comment: str = "", in_portal: bool = False,
                  now: datetime | None = None) -> bool:
    """Records the answer once: False when the survey was already answered (nothing changes). The
    `survey.answered` webhook is recorded in the same transaction, once (its key is the survey's)."""
    if rating not in range(1, 6):
        raise ValidationError({"rating": _("Choose a rating from 1 to 5.")})
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": _("Keep the comment under %(count)s characters.") % {"count": MAX_COMMENT}})
    answered = Survey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        rating=rating, comment=comment, answered_at=now or timezone.now(), answered_in_portal=in_portal)
    if answered != 1:
        return False
    emit("survey.answered", Survey.objects.get(pk=survey.pk), key=f"survey.answered:{survey.pk}")
    return True


# --- Portal users -------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_issue(*, portal_user: PortalUser, purpose: str, now: datetime | None = None) -> str:
    """A new single-use link; earlier unused links of the same purpose stop working."""
    now = now or timezone.now()
    valid_for = INVITE_VALID_FOR if purpose == TokenPurpose.INVITE else RESET_VALID_FOR
    PortalToken.objects.filter(portal_user=portal_user, purpose=purpose, used_at__isnull=True).update(used_at=now)
    token = secrets.token_urlsafe(32)
    PortalToken.objects.create(portal_user=portal_user, purpose=purpose, token_hash=_hash(token),
                               expires_at=now + valid_for, created_at=now)
    return token


def token_find(token: str, now: datetime | None = None) -> PortalToken | None:
    """The live token (unused, not expired, its portal user allowed in), or None."""
    now = now or timezone.now()
    return (PortalToken.objects.select_related("portal_user", "portal_user__contact")
            .filter(token_hash=_hash(token), used_at__isnull=True, expires_at__gt=now,
                    portal_user__is_active=True, portal_user__contact__deleted_at__isnull=True).first())


class InviteError(ValueError):
    pass


@transaction.atomic
def portal_invite(*, contact: Contact, actor: User, sees_account_tickets: bool | None = None,
                  now: datetime | None = None) -> tuple[PortalUser, str]:
    """Invites the contact (or invites them again): returns the portal user and the invitation token,
    which the caller e-mails after commit. The e-mail is the contact's first address."""
    now = now or timezone.now()
    email = contact.primary_email.strip().lower()
    if not email:
        raise InviteError(_("Add an e-mail address to the contact first."))
    portal_user = PortalUser.objects.select_for_update().filter(contact=contact).first()
    if PortalUser.objects.filter(email__iexact=email).exclude(contact=contact).exists():
        raise InviteError(_("Another contact already signs in to the portal with %(email)s.") % {"email": email})
    if portal_user is None:
        portal_user = PortalUser(contact=contact, created_at=now)
    portal_user.email = email
    portal_user.is_active = True
    portal_user.invited_by = actor
    portal_user.invited_at = now
    if sees_account_tickets is not None:
        portal_user.sees_account_tickets = sees_account_tickets
    portal_user.save()
    return portal_user, token_issue(portal_user=portal_user, purpose=TokenPurpose.INVITE, now=now)


def portal_user_update(*, portal_user: PortalUser, is_active: bool | None = None,
                       sees_account_tickets: bool | None = None) -> PortalUser:
    fields = []
    if is_active is not None:
        portal_user.is_active = is_active
        fields.append("is_active")
        if not is_active:  # revoked: open links stop working too
            PortalToken.objects.filter(portal_user=portal_user, used_at__isnull=True).update(used_at=timezone.now())
    if sees_account_tickets is not None:
        portal_user.sees_account_tickets = sees_account_tickets
        fields.append("sees_account_tickets")
    if fields:
        portal_user.save(update_fields=fields)
    return portal_user


@transaction.atomic
def password_set_with_token(*, token: str, password: str, now: datetime | None = None) -> PortalUser:
    """Sets the password through an invitation or reset link, which is used up here (compare-and-set):
    two submissions of one link set the password once. Unlocks the account."""
    now = now or timezone.now()
    found = token_find(token, now)
    if found is None:
        raise ValidationError(_("This link is no longer valid. Ask for a new one."))
    validate_password(password)
    if not PortalToken.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now):
        raise ValidationError(_("This link is no longer valid. Ask for a new one."))
    portal_user = found.portal_user
    portal_user.password = make_password(password)
    portal_user.failed_logins = 0
    portal_user.locked_until = None
    portal_user.activated_at = portal_user.activated_at or now
    portal_user.save(update_fields=["password", "failed_logins", "locked_until", "activated_at"])
    return portal_user


class SignInError(Exception):
    def __init__(self, message: str, *, locked: bool = False):
        super().__init__(message)
        self.message = message
        self.locked = locked


def _locked_error() -> SignInError:
    return SignInError(_("Too many wrong passwords: sign-in is locked for %(minutes)s minutes. "
                         "Try again later or reset your password.") % {"minutes": int(LOCKOUT.total_seconds() // 60)},
                       locked=True)


def portal_authenticate(*, email: str, password: str, now: datetime | None = None) -> PortalUser:
    """Checks the password. MAX_FAILED_LOGINS wrong passwords in a row lock the account for LOCKOUT;
    while locked, even the right password is refused. Unknown e-mails and wrong passwords get the same
    message (and the same hashing work), so the form does not tell who has an account."""
    now = now or timezone.now()
    generic = _("The e-mail or password is not right.")
    portal_user = (PortalUser.objects.select_related("contact")
                   .filter(email__iexact=email.strip(), is_active=True, contact__deleted_at__isnull=True).first())
    if portal_user is None or not portal_user.has_password:
        make_password(password)  # the same work as a real check
        raise SignInError(generic)
    if portal_user.locked_until and portal_user.locked_until > now:
        raise _locked_error()
    if not check_password(password, portal_user.password):
        with transaction.atomic():
            # Counted in the database under the row's lock: two wrong passwords at once both count.
            failed = (PortalUser.objects.select_for_update().filter(pk=portal_user.pk)
                      .values_list("failed_logins", flat=True).get()) + 1
            locked = failed >= MAX_FAILED_LOGINS
            PortalUser.objects.filter(pk=portal_user.pk).update(
                failed_logins=0 if locked else failed, locked_until=now + LOCKOUT if locked else None)
        if locked:
            raise _locked_error()
        raise SignInError(generic)
    PortalUser.objects.filter(pk=portal_user.pk).update(failed_logins=0, locked_until=None, last_login=now)
    return portal_user
