"""Writes on tickets. Every write locks the ticket row first, so the SLA tick and two agents never
interleave their changes to the clock."""

import logging
import re
from datetime import datetime
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from crm import hooks, notifications
from crm.models import NotificationKind, User
from sales.product_services import check_document
from sales.services import next_number
from service import routing, sla_clock
from service.contract_services import covering_contract
from service.models import (
    CLOCK_STOPPED,
    CannedResponse,
    MessageKind,
    Queue,
    Status,
    Ticket,
    TicketAttachment,
    TicketMessage,
)
from webhooks.services import emit

logger = logging.getLogger(__name__)

MAX_ATTACHMENTS = 10


def next_ticket_number(on: datetime) -> str:
    """T-2026-000123: gap-free per year (the documents' numbering, sales.services.next_number)."""
    return next_number("ticket", "T", on=timezone.localdate(on), digits=6)


def _locked(ticket: Ticket) -> Ticket:
    fresh = (Ticket.objects.select_for_update(of=("self",))
             .select_related("sla_policy__calendar", "queue", "account", "contact", "owner").get(pk=ticket.pk))
    return fresh


TICKET_ASSIGNED = notifications.message(
    "ticket.assigned", gettext_lazy("%(actor)s assigned you ticket %(number)s “%(subject)s”."))


def _notify_assignee(ticket: Ticket, actor: User | None) -> None:
    owner = ticket.owner
    if owner is None or (actor is not None and owner.pk == actor.pk) or not owner.is_active:
        return
    who = str(actor) if actor is not None else notifications.phrase(gettext_noop("The customer portal"))
    notifications.notify(user=owner, kind=NotificationKind.ASSIGNMENT, url=ticket.get_absolute_url(),
                         message=TICKET_ASSIGNED, params={"actor": who, "number": ticket.number,
                                                          "subject": ticket.subject})


@transaction.atomic
def ticket_create(*, actor: User | None, subject: str, now: datetime | None = None, queue: Queue | None = None,
                  owner: User | None = None, call_note: str = "", **fields) -> Ticket:
    """Opens a ticket: numbered, routed to a queue (by category unless given), assigned by the queue's
    rule unless an assignee is given, with the SLA policy for its priority and customer tier."""
    now = now or timezone.now()
    ticket = Ticket(subject=subject, created_at=now, **fields)
    if ticket.contact_id and not ticket.account_id:
        ticket.account_id = ticket.contact.account_id
    ticket.queue = queue or routing.queue_for(ticket.category)
    if owner is None and ticket.queue is not None:
        queue_row = Queue.objects.select_for_update().get(pk=ticket.queue.pk)  # one turn at a time
        owner = routing.pick_assignee(queue_row)
        if owner is not None:
            Queue.objects.filter(pk=queue_row.pk).update(last_assigned=owner)
    ticket.owner = owner
    ticket.team_id = owner.team_id if owner else None
    ticket.status = Status.OPEN if owner else Status.NEW
    if ticket.contract_id is None:
        ticket.contract = covering_contract(account_id=ticket.account_id, product_id=ticket.product_id,
                                            on=timezone.localdate(now))
    ticket.sla_policy = routing.policy_for(ticket.priority, ticket.account if ticket.account_id else None,
                                           ticket.contract)
    ticket.queue_rank = routing.rank_for(ticket)
    ticket.number = "-"
    ticket.full_clean(exclude=["number"])
    ticket.number = next_ticket_number(now)
    sla_clock.start(ticket, now)
    ticket.save()
    if call_note.strip():
        TicketMessage.objects.create(ticket=ticket, kind=MessageKind.CALL, author=actor, body=call_note.strip(),
                                     created_at=now)
    _notify_assignee(ticket, actor)
    emit("ticket.created", ticket, actor=actor)
    return ticket


EDITABLE = {"subject", "description", "account", "contact", "channel", "category", "product", "priority", "tags",
            "custom", "shared_with_team"}


@transaction.atomic
def ticket_update(*, ticket: Ticket, actor: User, now: datetime | None = None, **fields) -> Ticket:
    """Changes the ticket's details. A new priority or customer re-plans the SLA from the opening time
    (a breach already recorded stays) and moves the ticket in its queue."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    now = now or timezone.now()
    ticket = _locked(ticket)
    before = (ticket.priority, ticket.account_id)
    for name, value in fields.items():
        setattr(ticket, name, value)
    if ticket.contact_id and not ticket.account_id:
        ticket.account_id = ticket.contact.account_id
    ticket.full_clean()
    if (ticket.priority, ticket.account_id) != before:
        if ticket.account_id != before[1]:
            ticket.contract = covering_contract(account_id=ticket.account_id, product_id=ticket.product_id,
                                                on=timezone.localdate(now))
        ticket.sla_policy = routing.policy_for(ticket.priority, ticket.account if ticket.account_id else None,
                                               ticket.contract)
        ticket.queue_rank = routing.rank_for(ticket)
        sla_clock.start(ticket, now)
    ticket.lock_version += 1
    ticket.save()
    emit("ticket.updated", ticket, actor=actor)
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: User, owner: User | None, queue: Queue | None = None) -> Ticket:
    ticket = _locked(ticket)
    ticket.owner = owner
    ticket.team_id = owner.team_id if owner else None
    if queue is not None:
        ticket.queue = queue
    if owner is not None and ticket.status == Status.NEW:
        ticket.status = Status.OPEN
    ticket.lock_version += 1
    ticket.save(update_fields=["owner", "team", "queue", "status", "lock_version", "updated_at"])
    _notify_assignee(ticket, actor)
    emit("ticket.updated", ticket, actor=actor)
    return ticket


def ticket_take_next(*, actor: User, queue_ids) -> Ticket | None:
    """Gives the agent the first waiting ticket of their queues in serving order (docs/service.md).
    Two agents pressing at once get different tickets: the row is claimed with SKIP LOCKED."""
    with transaction.atomic():
        ticket = routing.waiting_in(queue_ids).select_for_update(skip_locked=True).first()
        if ticket is None:
            return None
        ticket.owner, ticket.team_id = actor, actor.team_id
        if ticket.status == Status.NEW:
            ticket.status = Status.OPEN
        ticket.lock_version += 1
        ticket.save(update_fields=["owner", "team", "status", "lock_version", "updated_at"])
        emit("ticket.updated", ticket, actor=actor)
    return ticket


def _set_status(ticket: Ticket, status: str, now: datetime) -> None:
    old = ticket.status
    if status == old:
        return
    ticket.status = status
    if status == Status.RESOLVED:
        sla_clock.status_changed(ticket, old, now)
        sla_clock.record_resolution(ticket, now)
    elif status == Status.CLOSED:
        ticket.closed_at = now
        if old != Status.RESOLVED:
            sla_clock.status_changed(ticket, old, now)
            sla_clock.record_resolution(ticket, now)
    else:
        if old in (Status.RESOLVED, Status.CLOSED):
            ticket.reopened_count += 1
            ticket.resolved_at = ticket.closed_at = ticket.resolution_minutes = ticket.sla_met = None
        sla_clock.status_changed(ticket, old, now)


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, actor: User, status: str, now: datetime | None = None) -> Ticket:
    if status not in Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    now = now or timezone.now()
    ticket = _locked(ticket)
    old = ticket.status
    _set_status(ticket, status, now)
    ticket.lock_version += 1
    ticket.save()
    if old != ticket.status:
        emit("ticket.resolved" if ticket.status == Status.RESOLVED else "ticket.updated", ticket, actor=actor)
        if ticket.status == Status.RESOLVED:
            hooks.publish(hooks.TICKET_RESOLVED, ticket=ticket, actor=actor, now=now)
    return ticket


def _attach(ticket: Ticket, message: TicketMessage, uploads, actor: User | None) -> list[TicketAttachment]:
    uploads = list(uploads)
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(_("Attach at most %(count)s files to one message.") % {"count": MAX_ATTACHMENTS})
    stored = []
    for upload in uploads:
        content_type = check_document(upload)
        name = PurePath(upload.name).name[:200]
        attachment = TicketAttachment(ticket=ticket, message=message, name=name, content_type=content_type,
                                      size=upload.size, uploaded_by=actor)
        attachment.file.save(name, upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


@transaction.atomic
def ticket_attach(*, ticket: Ticket, uploads, actor: User | None = None) -> list[TicketAttachment]:
    """Files that came with the ticket itself (an e-mail's attachments), checked like any other."""
    return _attach(ticket, None, uploads, actor)


@transaction.atomic
def ticket_reply(*, ticket: Ticket, actor: User, body: str, internal: bool = False, uploads=(),
                 status: str | None = None, article=None, now: datetime | None = None) -> TicketMessage:
    """A public reply (e-mailed to the contact, counts as the first response) or an internal note
    (never shown or sent to the customer). `status` is where the ticket goes next; a reply defaults
    to "pending customer", a note leaves it."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a message first.")})
    now = now or timezone.now()
    ticket = _locked(ticket)
    kind = MessageKind.NOTE if internal else MessageKind.REPLY
    message = TicketMessage(ticket=ticket, kind=kind, author=actor, body=body, created_at=now)
    if kind == MessageKind.REPLY and ticket.contact_id and ticket.contact.primary_email:
        message.emailed_to = ticket.contact.primary_email
    message.save()
    _attach(ticket, message, uploads, actor)
    if kind == MessageKind.REPLY:
        sla_clock.record_first_response(ticket, now)
        if ticket.owner_id is None:
            ticket.owner, ticket.team_id = actor, actor.team_id
        status = status or Status.PENDING
    old_status = ticket.status
    if status:
        if status not in Status.values:
            raise ValidationError({"status": _("Unknown status.")})
        _set_status(ticket, status, now)
    elif ticket.status == Status.NEW:
        _set_status(ticket, Status.OPEN, now)
    ticket.lock_version += 1
    ticket.save()
    if status == Status.RESOLVED and old_status != Status.RESOLVED:
        hooks.publish(hooks.TICKET_RESOLVED, ticket=ticket, actor=actor, now=now)
    if message.emailed_to:
        from service.tasks import send_reply

        transaction.on_commit(lambda: _enqueue(send_reply, message.pk))
    emit("ticket.updated", ticket, actor=actor)
    return message


def _enqueue(task, *args) -> None:
    """A broker that is down must not fail the page: the scheduler's sweep sends what is left."""
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 - any broker error; the sweep retries
        logger.warning("Could not queue %s%s; the scheduler will pick it up", task.name, args, exc_info=True)


@transaction.atomic
def ticket_customer_message(*, ticket: Ticket, body: str, kind: str = MessageKind.CUSTOMER,
                            author: User | None = None, uploads=(), now: datetime | None = None) -> TicketMessage:
    """The customer wrote (or called, logged by an agent): the message is added and a ticket that was
    waiting for them, resolved or closed is opened again."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write a message first.")})
    now = now or timezone.now()
    ticket = _locked(ticket)
    message = TicketMessage.objects.create(ticket=ticket, kind=kind, author=author, body=body, created_at=now)
    _attach(ticket, message, uploads, author)
    ticket.last_customer_reply_at = now
    if ticket.status in CLOCK_STOPPED or ticket.status == Status.NEW:
        _set_status(ticket, Status.OPEN, now)
    ticket.lock_version += 1
    ticket.save()
    emit("ticket.updated", ticket, actor=author)
    return message


@transaction.atomic
def ticket_delete(*, ticket: Ticket, actor: User) -> None:
    ticket = _locked(ticket)
    ticket.deleted_at = timezone.now()
    ticket.sla_next_at = None
    ticket.save(update_fields=["deleted_at", "sla_next_at", "updated_at"])
    emit("ticket.deleted", ticket, actor=actor)


# --- Canned responses ---------------------------------------------------------------------------

MERGE_FIELD = re.compile(r"\{\s*([a-z_]+)\.([a-z_]+)\s*\}")


def merge_fields(ticket: Ticket, agent: User) -> dict[str, str]:
    contact, account = ticket.contact, ticket.account
    return {
        "contact.first_name": contact.first_name if contact else "",
        "contact.name": str(contact) if contact else "",
        "account.name": account.name if account else "",
        "ticket.number": ticket.number,
        "ticket.subject": ticket.subject,
        "agent.name": agent.get_full_name() or agent.email,
        "agent.first_name": agent.first_name,
    }


def canned_render(canned: CannedResponse, *, ticket: Ticket, agent: User) -> str:
    """The response with its merge fields filled in; unknown fields are left as written (so a typo
    shows instead of vanishing). Plain text substitution: a value is never evaluated."""
    values = merge_fields(ticket, agent)

    def fill(match: re.Match) -> str:
        return values.get(f"{match.group(1)}.{match.group(2)}", match.group(0))

    return MERGE_FIELD.sub(fill, canned.body)
