"""Writes on people and jobs. Keyword-only, typed, atomic."""

from django.apps import apps
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from crm import outbox, security
from crm.models import OwnedModel, Role, SecurityEventKind, Team, Territory, User


def invitation_link(*, user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url.rstrip("/") + reverse("invite_accept", kwargs={"uidb64": uid, "token": token})


@transaction.atomic
def user_invite(
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    team: Team | None,
    territories: list[Territory],
    invited_by: User,
    base_url: str,
) -> User:
    """Creates an account without a usable password and e-mails a link to choose one."""
    user = User(email=User.objects.normalize_email(email), first_name=first_name, last_name=last_name,
                role=role, team=team, is_staff=role == Role.ADMIN)
    user.set_unusable_password()
    user.save()
    user.territories.set(territories)
    link = invitation_link(user=user, base_url=base_url)
    body = render_to_string("registration/invitation_email.txt", {"user": user, "link": link, "inviter": invited_by,
                                                                    "app_name": settings.APP_NAME})
    # Queued with the new account (crm/outbox.py): a mail server that is down delays the invitation.
    subject = _("You are invited to %(app_name)s") % {"app_name": settings.APP_NAME}
    outbox.queue(EmailMessage(subject, body, to=[user.email]), key=f"invitation:{user.pk}")
    return user


@transaction.atomic
def user_update(*, user: User, role: str, team: Team | None, territories: list[Territory],
                first_name: str, last_name: str, actor: User | None = None, request=None) -> User:
    before = User.objects.values("role", "team_id").get(pk=user.pk)
    team_changed = before["team_id"] != (team.pk if team else None)
    if before["role"] != role:
        security.log(SecurityEventKind.ROLE_CHANGED, request=request, user=user, actor=actor,
                     before=before["role"], after=role)
    if team_changed:
        security.log(SecurityEventKind.TEAM_CHANGED, request=request, user=user, actor=actor,
                     before=before["team_id"], after=team.pk if team else None)
    user.role = role
    user.team = team
    user.first_name = first_name
    user.last_name = last_name
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["role", "team", "first_name", "last_name", "is_staff"])
    user.territories.set(territories)
    if team_changed:
        _move_records_to_team(user)
    return user


def _move_records_to_team(user: User) -> None:
    """A record's team is its owner's team: the new manager sees it, the old one no longer. Every
    owned model of every module follows (the core does not need to know them)."""
    for model in apps.get_models():
        if issubclass(model, OwnedModel) and not model._meta.proxy:
            model.objects.filter(owner=user).exclude(team_id=user.team_id).update(team_id=user.team_id)


@transaction.atomic
def user_set_active(*, user: User, active: bool, actor: User, request=None) -> User:
    """Deactivating ends the user's sessions at once: Django's ModelBackend refuses an
    inactive user on every request, and we also delete their stored sessions."""
    if user.pk == actor.pk and not active:
        raise ValueError(_("You cannot deactivate yourself."))
    user.is_active = active
    user.save(update_fields=["is_active"])
    security.log(SecurityEventKind.USER_ACTIVATED if active else SecurityEventKind.USER_DEACTIVATED,
                 request=request, user=user, actor=actor)
    if not active:
        from crm.models import UserSession

        UserSession.end_all_for(user)
    return user
