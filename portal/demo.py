"""The portal's demo: a portal user for one demo contact (password: the demo password), survey answers
on the desk's resolved demo tickets, and a resolved ticket of that contact waiting for their rating.
Loaded by demo's seed_demo after the service demo."""

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from crm.models import User
from portal.models import PortalUser, Survey
from portal.services import survey_answer
from service import services
from service.models import Status, Ticket

PORTAL_CONTACT_TICKET = "Invoice INV-2026-0003 shows the wrong VAT number"  # has an internal note to hide
ANSWERS = {
    "Request: training session for new staff": (5, "Clear and quick, thank you."),
    "Export to Excel loses Cyrillic names": (2, "It took four days and two reminders."),
}


def load(password: str) -> PortalUser | None:
    ticket = Ticket.objects.select_related("contact").filter(subject=PORTAL_CONTACT_TICKET).first()
    if ticket is None or ticket.contact is None or not ticket.contact.primary_email:
        return None
    contact = ticket.contact
    now = timezone.now()
    portal_user = PortalUser.objects.create(contact=contact, email=contact.primary_email.lower(),
                                            password=make_password(password), sees_account_tickets=True,
                                            invited_at=now, activated_at=now)
    for subject, (rating, comment) in ANSWERS.items():
        survey = Survey.objects.filter(ticket__subject=subject).order_by("-resolved_at").first()
        if survey is not None:
            survey_answer(survey=survey, rating=rating, comment=comment)
    agent = User.objects.get(email="support@demo.crm")
    solved = services.ticket_create(actor=agent, subject="Password reset e-mail never arrives", contact=contact,
                                    owner=agent, now=now - timedelta(hours=30),
                                    description="I asked for a new password twice; nothing came.")
    services.ticket_reply(ticket=solved, actor=agent, now=now - timedelta(hours=29),
                          body=f"Hello {contact.first_name}, your mail server refused our messages; we have "
                               "sent the link again from our new address.", status=Status.RESOLVED)
    return portal_user


def login_line() -> str:
    portal_user = PortalUser.objects.filter(is_active=True).order_by("id").first()
    if portal_user is None:
        return ""
    return f"  {portal_user.email:<26} Customer portal, at /portal/ ({portal_user.contact})"
