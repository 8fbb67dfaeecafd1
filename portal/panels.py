"""What the portal app adds to the desk's pages (crm/panels.py): a ticket's survey answers, the agent's and
the queues' satisfaction over 30 days on the work page, and the portal access button on the contact page.
One bounded query each."""

from datetime import timedelta

from django.db.models import Avg, Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from crm import panels
from crm.visibility import can_create, can_read
from portal.models import PortalUser, Survey
from service.models import Ticket

FIGURE_DAYS = 30
TICKET_ROWS = 5


@panels.register("service.ticket", slot=panels.SIDE, order=30)
def ticket_surveys(request, ticket, page):
    """The ticket's surveys, newest resolution first (the page already checked the ticket is visible)."""
    if not can_read(request.user, Survey):
        return None
    if ticket.resolved_at is None and not ticket.reopened_count:
        return None  # never resolved: no survey yet, and the open ticket's page keeps its query budget
    surveys = list(Survey.objects.filter(ticket=ticket).order_by("-resolved_at", "-id")[:TICKET_ROWS])
    if not surveys:
        return None
    return panels.Rendered("portal/panels/ticket_surveys.html", {"surveys": surveys})


def desk_figures(user, now=None) -> dict:
    """The agent's and every queue's average rating and answer count over FIGURE_DAYS, in one query:
    grouped by queue, with the agent's own sums as filtered aggregates."""
    since = (now or timezone.now()) - timedelta(days=FIGURE_DAYS)
    mine = Q(agent=user)
    rows = list(Survey.objects.filter(answered_at__gte=since).values("queue_id", "queue__name")
                .annotate(average=Avg("rating"), answers=Count("id"),
                          my_sum=Sum("rating", filter=mine), my_answers=Count("id", filter=mine))
                .order_by("queue__name", "queue_id"))
    my_answers = sum(row["my_answers"] for row in rows)
    my_sum = sum(row["my_sum"] or 0 for row in rows)
    return {
        "queues": rows, "days": FIGURE_DAYS,
        "my_answers": my_answers, "my_average": my_sum / my_answers if my_answers else None,
    }


@panels.register("service.desk", slot=panels.MAIN, order=50)
def desk_satisfaction(request, user, page):
    if not can_read(request.user, Survey):
        return None
    return panels.Rendered("portal/panels/desk_satisfaction.html", {
        **desk_figures(request.user), "feedback_url": reverse("portal_staff:feedback")})


def _may_invite(user) -> bool:
    return can_create(user, Ticket) and can_create(user, PortalUser)


def portal_access_probe(request, contact):
    return PortalUser.objects.filter(contact=contact) if _may_invite(request.user) else None


@panels.register("contacts.contact", slot=panels.ACTIONS, order=60, probe=portal_access_probe)
def portal_access(request, contact, page):
    """"Invite to the portal", or the contact's portal access, for those who may write tickets."""
    if not _may_invite(request.user):
        return None
    portal_user = PortalUser.objects.filter(contact=contact).first() if panels.has_rows(page, portal_access_probe) \
        else None
    return panels.Rendered("portal/panels/contact_access.html", {
        "contact": contact, "portal_user": portal_user, "has_email": bool(contact.primary_email)})
