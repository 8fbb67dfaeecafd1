"""E-mails of the portal app: the satisfaction survey (at most once per survey), invitations and
password resets.

The survey sender claims the row (`emailed_at`) with a compare-and-set UPDATE and queues the e-mail in
the mail outbox (crm/outbox.py) in the same transaction, as service/mail.py does for replies: a task
delivered twice, or the sweep running beside it, queues nothing the second time; the outbox sends it
with retries, so a mail server that is down delays it, never loses it.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import outbox, scheduler
from portal.models import Survey
from portal.services import survey_token

SWEEP_AFTER = timedelta(minutes=2)


def public_url(path: str) -> str:
    """An absolute link for an e-mail sent outside a request (PUBLIC_URL: where customers reach us)."""
    base = getattr(settings, "PUBLIC_URL", "http://localhost:8000")
    return base.rstrip("/") + path


def survey_url(survey: Survey) -> str:
    return public_url(reverse("portal:survey", args=[survey_token(survey)]))


@transaction.atomic
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
    outbox.queue(EmailMessage(subject, body, to=[survey.emailed_to]), key=f"survey-{survey.pk}")
    return True


@scheduler.source("portal_survey_mail")
def send_pending_surveys(now: datetime) -> int:
    pending = (Survey.objects.filter(emailed_at__isnull=True, answered_at__isnull=True,
                                     created_at__lte=now - SWEEP_AFTER).exclude(emailed_to="")
               .order_by("id").values_list("pk", flat=True)[:200])
    sent = 0
    for pk in list(pending):
        sent += survey_send(survey_id=pk)
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
    # One message per link: the link's own token makes the key (and the Message-ID).
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    outbox.queue(EmailMessage(subject, body, to=[portal_user.email]), key=f"portal-{purpose}-{portal_user.pk}-{digest}")
