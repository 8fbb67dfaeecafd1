"""E-mails of the portal app: the satisfaction survey (at most once per survey), invitations and
password resets.

The survey sender claims the row (`emailed_at`) with a compare-and-set UPDATE before sending, as
service/mail.py does for replies: a task delivered twice, or the sweep running beside it, sends
nothing the second time; a crash between claim and send loses that e-mail rather than doubling it; a
refusal by the mail server releases the claim so the sweep tries again.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import scheduler
from portal.models import Survey
from portal.services import survey_token

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=2)


def public_url(path: str) -> str:
    """An absolute link for an e-mail sent outside a request (PUBLIC_URL: where customers reach us)."""
    base = getattr(settings, "PUBLIC_URL", "http://localhost:8000")
    return base.rstrip("/") + path


def survey_url(survey: Survey) -> str:
    return public_url(reverse("portal:survey", args=[survey_token(survey)]))


def survey_send(*, survey_id: int) -> bool:
    claimed = Survey.objects.filter(pk=survey_id, emailed_at__isnull=True, answered_at__isnull=True).exclude(
        emailed_to="").update(emailed_at=timezone.now())
    if not claimed:
        return False
    survey = Survey.objects.select_related("ticket", "ticket__contact").get(pk=survey_id)
    ticket = survey.ticket
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[%(number)s] How did we do?") % {"number": ticket.number}
        url = survey_url(survey)
        body = render_to_string("portal/email/survey.txt", {
            "ticket": ticket, "contact": ticket.contact, "url": url,
            "ratings": [(value, f"{url}?rating={value}") for value in range(1, 6)],
        })
    try:
        EmailMessage(subject, body, to=[survey.emailed_to]).send()
    except Exception:
        Survey.objects.filter(pk=survey_id).update(emailed_at=None)
        logger.exception("Ticket %s: survey %s could not be sent", ticket.number, survey_id)
        raise
    return True


@scheduler.source("portal_survey_mail")
def send_pending_surveys(now: datetime) -> int:
    pending = (Survey.objects.filter(emailed_at__isnull=True, answered_at__isnull=True,
                                     created_at__lte=now - SWEEP_AFTER).exclude(emailed_to="")
               .order_by("id").values_list("pk", flat=True)[:200])
    sent = 0
    for pk in list(pending):
        try:
            sent += survey_send(survey_id=pk)
        except Exception:  # noqa: BLE001, S112 - logged in survey_send; the next tick tries again
            continue
    return sent


def link_send(*, portal_user, url: str, purpose: str) -> None:
    """An invitation or a password-reset link, to the portal user's address."""
    with translation.override(settings.LANGUAGE_CODE):
        if purpose == "invite":
            subject = _("Your access to our customer portal")
        else:
            subject = _("Reset your portal password")
        body = render_to_string("portal/email/link.txt", {
            "portal_user": portal_user, "contact": portal_user.contact, "url": url, "purpose": purpose})
    EmailMessage(subject, body, to=[portal_user.email]).send()
