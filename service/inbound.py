"""E-mail to ticket: what becomes of one message, and the Maildir drop folder read by the scheduler tick.

Mail reaches the desk two ways: IMAP mailboxes the CRM reads itself (service/imap.py, set up under
Desk set-up → IMAP mailboxes), and a Maildir (`SERVICE_MAILDIR`) that an MTA or fetchmail/getmail
delivers into, each message one file, which stays until the message is recorded. Both hand each
message to `message_process`.

Each message counts once. Its Message-ID (or, with none, a hash of its bytes) is unique in
`InboundEmail`, written in the same transaction as the ticket it opens or the reply it adds: a second
run, or a run that resumes after a worker was killed mid-way, finds the row and only tidies the file
away; a run killed before the commit leaves nothing, and the next one does the whole message.

A message opens a ticket, or is added to one when its subject carries a ticket number
(`[T-2026-000123]`, as our replies do). The sender is matched to a contact by e-mail address; an
unknown sender becomes a contact, owned by the default queue's lead. Automatic replies (out of office,
bounces) and mail loops (our own address, or one sender flooding the desk) are recorded and ignored.
"""

import email
import email.policy
import hashlib
import logging
import mailbox
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import strip_tags

from contacts.models import Contact
from contacts.services import contact_create
from crm import scheduler
from crm.models import Role, User
from sales.product_services import check_document
from service import services
from service.models import Channel, ImapMailbox, InboundEmail, InboundOutcome, MessageKind, Queue, Ticket

logger = logging.getLogger(__name__)

BATCH = 100
NUMBER = re.compile(r"\[(T-\d{4}-\d{6})\]")
FLOOD_LIMIT = 20  # more messages than this from one sender in an hour is a loop, not a customer
AUTO_SUBJECTS = re.compile(r"^\s*(auto(matic)?[ -]?(reply|response)|out of (the )?office|автоответ|"
                           r"undeliverable|delivery status notification|mail delivery failed)", re.IGNORECASE)
MAX_BODY = 20_000


def read_mailbox(now: datetime | None = None, folder: Path | None = None) -> int:
    """Processes the messages waiting in the Maildir; returns how many were new to us."""
    now = now or timezone.now()
    folder = Path(folder or settings.SERVICE_MAILDIR)
    if not (folder / "new").is_dir():
        return 0
    box = mailbox.Maildir(folder, factory=None, create=False)
    done = 0
    for key in sorted(box.iterkeys())[:BATCH]:
        try:
            raw = box.get_bytes(key)
        except (KeyError, FileNotFoundError):
            continue  # another run took it
        if message_process(raw, now=now):
            done += 1
        try:
            box.discard(key)  # recorded (by this run or an earlier one): the file has done its job
        except FileNotFoundError:
            pass
    return done


@scheduler.source("service_inbound_mail")
def read_mailbox_tick(now: datetime) -> int:
    return read_mailbox(now)


def _message_id(message: EmailMessage, raw: bytes) -> str:
    value = (message.get("Message-ID") or "").strip()
    return value[:300] if value else "sha256:" + hashlib.sha256(raw).hexdigest()


def message_process(raw: bytes, *, now: datetime, mailbox: ImapMailbox | None = None) -> bool:
    """Records one message and does what it asks, exactly once; False when it was already recorded.
    `mailbox`: the IMAP mailbox it was read from (its queue takes the new tickets), None for the Maildir."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = _message_id(message, raw)
    if InboundEmail.objects.filter(message_id=message_id).exists():
        return False
    sender = parseaddr(str(message.get("From", "")))[1].lower()[:254]
    subject = " ".join(str(message.get("Subject", "")).split())[:300]
    try:
        with transaction.atomic():
            record = InboundEmail.objects.create(message_id=message_id, sender=sender, subject=subject,
                                                 outcome=InboundOutcome.REFUSED, received_at=now,
                                                 mailbox=mailbox)
            outcome, reason, ticket = _handle(message, sender, subject, now, record.pk,
                                              mailbox.queue if mailbox is not None else None)
            record.outcome, record.reason, record.ticket = outcome, reason[:300], ticket
            record.save(update_fields=["outcome", "reason", "ticket"])
    except IntegrityError:
        return False  # a run beside this one recorded it first
    return True


def _handle(message: EmailMessage, sender: str, subject: str, now: datetime, record_id: int,
            queue: Queue | None = None):
    why = _automatic(message, sender)
    if why:
        return InboundOutcome.AUTO_REPLY, why, None
    why = _loop(sender, now, record_id)
    if why:
        return InboundOutcome.LOOP, why, None
    if not sender:
        return InboundOutcome.REFUSED, "no sender address", None
    body, files, skipped = _content(message)
    if skipped:
        body += "\n\n" + "\n".join(f"[{name}: {reason}]" for name, reason in skipped)
    found = NUMBER.search(subject)
    ticket = Ticket.objects.filter(number=found.group(1), deleted_at__isnull=True).first() if found else None
    if ticket is not None:
        services.ticket_customer_message(ticket=ticket, body=body or subject, kind=MessageKind.CUSTOMER,
                                         uploads=files, now=now)
        return InboundOutcome.REPLY, "", ticket
    contact = _contact_for(message, sender)
    actor = _desk_user()
    ticket = services.ticket_create(actor=actor, subject=(NUMBER.sub("", subject).strip() or sender)[:250],
                                    description=body[:MAX_BODY], channel=Channel.EMAIL, contact=contact, now=now,
                                    queue=queue)
    if files:
        services.ticket_attach(ticket=ticket, uploads=files)
    return InboundOutcome.NEW_TICKET, "", ticket


def _automatic(message: EmailMessage, sender: str) -> str:
    auto = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if message.get(header):
            return header
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    local = sender.partition("@")[0]
    if local in {"mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply"}:
        return f"sender {local}"
    if str(message.get("Return-Path", "")).strip() == "<>":
        return "empty Return-Path (a bounce)"
    if AUTO_SUBJECTS.search(str(message.get("Subject", ""))):
        return "automatic subject"
    return ""


def _loop(sender: str, now: datetime, record_id: int) -> str:
    ours = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    if sender and sender == ours:
        return "sent from our own address"
    recent = (InboundEmail.objects.filter(sender=sender, received_at__gte=now - timedelta(hours=1))
              .exclude(pk=record_id).count())
    if sender and recent > FLOOD_LIMIT:
        return f"more than {FLOOD_LIMIT} messages from this sender in an hour"
    return ""


def _content(message: EmailMessage) -> tuple[str, list, list[tuple[str, str]]]:
    """The text (plain preferred, else HTML without tags), the attachments we keep, and the ones we
    refused with the reason (they are named in the ticket so nothing vanishes silently)."""
    part = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if part is not None:
        text = part.get_content()
        if part.get_content_type() == "text/html":
            text = strip_tags(text)
    files, skipped = [], []
    for attachment in message.iter_attachments():
        name = attachment.get_filename() or "attachment"
        data = attachment.get_payload(decode=True) or b""
        upload = SimpleUploadedFile(name, data, attachment.get_content_type())
        try:
            check_document(upload)
        except ValidationError as error:
            skipped.append((name, " ".join(error.messages)))
            continue
        files.append(upload)
    return text.strip()[:MAX_BODY], files[: services.MAX_ATTACHMENTS], skipped


def _contact_for(message: EmailMessage, sender: str) -> Contact:
    contact = Contact.objects.alive().with_email(sender).order_by("id").first()
    if contact is not None:
        return contact
    name = str(message.get("From", ""))
    display = parseaddr(name)[0].strip() or sender.partition("@")[0]
    first, _space, last = display.rpartition(" ")
    owner = _desk_user()
    return contact_create(actor=owner, owner=owner, first_name=first[:100], last_name=(last or display)[:100],
                          emails=[sender], lead_source="", description="Wrote to the support mailbox.")


def _desk_user() -> User:
    """Who opens tickets and contacts that arrive by e-mail: the default queue's lead, else an admin."""
    queue = Queue.objects.filter(is_default=True).select_related("lead").first()
    if queue is not None and queue.lead is not None and queue.lead.is_active:
        return queue.lead
    user = User.objects.filter(is_active=True, role=Role.ADMIN).order_by("id").first()
    if user is None:
        raise ValidationError("Set a default queue with a lead, or keep one active admin, to receive e-mail.")
    return user
