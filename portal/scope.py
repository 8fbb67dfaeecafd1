"""What a portal user may see: the tickets that name them, or every ticket of their company when their
access says so; of each ticket only the public conversation (replies and the customer's own messages,
never an internal note or an agent's call log) and its attachments; of the knowledge base only the
published public articles."""

from typing import cast

from django.db.models import Q, QuerySet

from portal.models import PortalUser
from service.models import Article, MessageKind, Ticket, TicketAttachment, TicketMessage

# A whitelist: a kind added later stays hidden until someone decides it is for the customer.
PUBLIC_KINDS = (MessageKind.REPLY, MessageKind.CUSTOMER)


def tickets_for(portal_user: PortalUser) -> "QuerySet[Ticket]":
    contact = portal_user.contact
    scope = Q(contact_id=contact.pk)
    if portal_user.sees_account_tickets and contact.account_id:
        scope |= Q(account_id=contact.account_id)
    return Ticket.objects.filter(scope, deleted_at__isnull=True)


def public_messages(ticket: Ticket) -> "QuerySet[TicketMessage]":
    return TicketMessage.objects.filter(ticket=ticket, kind__in=PUBLIC_KINDS)


def public_attachments(ticket: Ticket) -> "QuerySet[TicketAttachment]":
    return TicketAttachment.objects.filter(ticket=ticket, message__kind__in=PUBLIC_KINDS)


def public_articles() -> "QuerySet[Article]":
    """The knowledge base as customers see it: published, public, not deleted."""
    # ArticleQuerySet.public() is the desk's own rule (not yet annotated, hence the cast).
    public = Article.objects.public()  # type: ignore[no-untyped-call]
    return cast("QuerySet[Article]", public.filter(deleted_at__isnull=True))
