"""Replies to the customer by e-mail, each queued once.

The sender claims the message (`emailed_at`) with a compare-and-set UPDATE and queues the e-mail in the
mail outbox (crm/outbox.py) in the same transaction: a task delivered twice, or the scheduler's sweep
running beside it, queues nothing the second time; the outbox sends it with retries, so a mail server
that is down delays the reply, never loses it.
"""

from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import outbox, scheduler
from service.models import MessageKind, TicketMessage

SWEEP_AFTER = timedelta(minutes=2)  # replies the queue did not send by then are sent by the tick


def _mail_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "crm.local"


def subject_for(ticket) -> str:
    """The ticket number in brackets: a customer's answer to it finds its way back to the ticket."""
    return f"[{ticket.number}] {ticket.subject}"


@transaction.atomic
def reply_send(*, message_id: int) -> bool:
    """Claims the reply and queues its e-mail (crm/outbox.py) in one transaction: a reply is queued once,
    and a mail server that is down only delays it."""
    claimed = TicketMessage.objects.filter(pk=message_id, kind=MessageKind.REPLY, emailed_at__isnull=True).exclude(
        emailed_to="").update(emailed_at=timezone.now())
    if not claimed:
        return False
    message = TicketMessage.objects.select_related("ticket", "author").get(pk=message_id)
    ticket = message.ticket
    with translation.override(settings.LANGUAGE_CODE):
        footer = _("Please keep %(number)s in the subject when you answer.") % {"number": ticket.number}
    email = EmailMessage(subject_for(ticket), f"{message.body}\n\n--\n{footer}", to=[message.emailed_to],
                         headers={"References": f"<ticket-{ticket.pk}@{_mail_domain()}>"})
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.name, handle.read(), attachment.content_type)
    queued = outbox.queue(email, key=f"ticket-{ticket.pk}-{message.pk}")  # Message-ID <ticket-1-2@domain>
    TicketMessage.objects.filter(pk=message_id).update(email_message_id=queued.message_id)
    return True


@scheduler.source("service_reply_mail")
def send_pending_replies(now: datetime) -> int:
    pending = (TicketMessage.objects.filter(kind=MessageKind.REPLY, emailed_at__isnull=True,
                                            created_at__lte=now - SWEEP_AFTER).exclude(emailed_to="")
               .order_by("id").values_list("pk", flat=True)[:200])
    sent = 0
    for pk in list(pending):
        sent += reply_send(message_id=pk)
    return sent
