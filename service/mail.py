"""Replies to the customer by e-mail, each sent at most once.

The sender claims the message (`emailed_at`) with a compare-and-set UPDATE before sending: a task
delivered twice, or the scheduler's sweep running beside it, sends nothing the second time. A
crash between the claim and the send loses that e-mail rather than doubling it (the reply is on the
ticket either way); a refusal by the mail server releases the claim so the sweep tries again.
"""

import logging
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import scheduler
from service.models import MessageKind, TicketMessage

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=2)  # replies the queue did not send by then are sent by the tick


def _mail_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "crm.local"


def subject_for(ticket) -> str:
    """The ticket number in brackets: a customer's answer to it finds its way back to the ticket."""
    return f"[{ticket.number}] {ticket.subject}"


def reply_send(*, message_id: int) -> bool:
    claimed = TicketMessage.objects.filter(pk=message_id, kind=MessageKind.REPLY, emailed_at__isnull=True).exclude(
        emailed_to="").update(emailed_at=timezone.now())
    if not claimed:
        return False
    message = TicketMessage.objects.select_related("ticket", "author").get(pk=message_id)
    ticket = message.ticket
    message_id_header = f"<ticket-{ticket.pk}-{message.pk}@{_mail_domain()}>"
    with translation.override(settings.LANGUAGE_CODE):
        footer = _("Please keep %(number)s in the subject when you answer.") % {"number": ticket.number}
    email = EmailMessage(subject_for(ticket), f"{message.body}\n\n--\n{footer}", to=[message.emailed_to],
                         headers={"Message-ID": message_id_header,
                                  "References": f"<ticket-{ticket.pk}@{_mail_domain()}>"})
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.name, handle.read(), attachment.content_type)
    try:
        email.send()
    except Exception:
        TicketMessage.objects.filter(pk=message_id).update(emailed_at=None)
        logger.exception("Ticket %s: reply %s could not be sent", ticket.number, message_id)
        raise
    TicketMessage.objects.filter(pk=message_id).update(email_message_id=message_id_header)
    return True


@scheduler.source("service_reply_mail")
def send_pending_replies(now: datetime) -> int:
    pending = (TicketMessage.objects.filter(kind=MessageKind.REPLY, emailed_at__isnull=True,
                                            created_at__lte=now - SWEEP_AFTER).exclude(emailed_to="")
               .order_by("id").values_list("pk", flat=True)[:200])
    sent = 0
    for pk in list(pending):
        try:
            sent += reply_send(message_id=pk)
        except Exception:  # noqa: BLE001, S112 - logged in reply_send; the next tick tries again
            continue
    return sent
