"""Staff pages of the portal app (staff sign-in, as every page): inviting a contact to the portal, their
access, and the list of low ratings and complaints for the support lead."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.db.models import Avg, Count, Max, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.models import Contact
from crm.list_tools import to_int
from crm.visibility import get_visible_or_404, require_create, require_read
from portal import mail, services
from portal.models import LOW_RATING, PortalUser, Survey, TokenPurpose
from service.models import Category, Ticket

PERIODS = (30, 90, 365)
GROUPS = {
    # group: (the survey's key fields, the ticket's key fields)
    "product": (("ticket__product_id", "ticket__product__name"), ("product_id", "product__name")),
    "category": (("ticket__category",), ("category",)),
    "account": (("ticket__account_id", "ticket__account__name"), ("account_id", "account__name")),
}
GROUP_ROWS = 50
LATEST_ROWS = 25


def _may_manage_access(user) -> None:
    require_create(user, Ticket)
    require_create(user, PortalUser)


@require_POST
def invite(request, contact_pk: int):
    """Invites the contact (or sends a fresh invitation): a single-use link, valid for a week."""
    user = request.user
    _may_manage_access(user)
    contact = get_visible_or_404(Contact, user, pk=contact_pk)
    try:
        portal_user, token = services.portal_invite(contact=contact, actor=user,
                                                    sees_account_tickets=request.POST.get("sees_account") == "1"
                                                    if "sees_account" in request.POST else None)
    except services.InviteError as error:
        messages.error(request, str(error))
        return redirect(contact)
    url = request.build_absolute_uri(reverse("portal:set_password", args=[token]))
    transaction.on_commit(lambda: mail.link_send(portal_user=portal_user, url=url, purpose=TokenPurpose.INVITE))
    messages.success(request, _("Portal invitation sent to %(email)s.") % {"email": portal_user.email})
    return redirect(contact)


@require_POST
def access(request, contact_pk: int):
    user = request.user
    _may_manage_access(user)
    contact = get_visible_or_404(Contact, user, pk=contact_pk)
    portal_user = PortalUser.objects.filter(contact=contact).first()
    if portal_user is None:
        messages.error(request, _("This contact has not been invited to the portal."))
        return redirect(contact)
    action = request.POST.get("action")
    changes = {
        "revoke": ({"is_active": False}, _("Portal access revoked.")),
        "restore": ({"is_active": True}, _("Portal access restored.")),
        "account_on": ({"sees_account_tickets": True}, _("The contact now sees every ticket of their company.")),
        "account_off": ({"sees_account_tickets": False}, _("The contact now sees only their own tickets.")),
    }
    if action not in changes:
        messages.error(request, _("Unknown action."))
        return redirect(contact)
    fields, text = changes[action]
    services.portal_user_update(portal_user=portal_user, **fields)
    messages.success(request, text)
    return redirect(contact)


def _label(group: str, row: dict, ticket_keys: tuple) -> tuple:
    key = row[ticket_keys[0]]
    if group == "category":
        return key, Category(key).label if key in Category.values else key
    return key, row[ticket_keys[1]] if key is not None else None


def feedback(request):
    """Low ratings (1–2) and complaints, grouped by product, category or account, over a period; with the
    latest of each. Six queries whatever the numbers."""
    user = request.user
    require_read(user, Survey)
    group = request.GET.get("group") if request.GET.get("group") in GROUPS else "product"
    days = to_int(request.GET.get("days"))
    days = days if days in PERIODS else PERIODS[0]
    since = timezone.now() - timedelta(days=days)
    survey_keys, ticket_keys = GROUPS[group]
    answered = Survey.objects.visible_to(user).filter(answered_at__gte=since, ticket__deleted_at__isnull=True)
    low = answered.filter(rating__lte=LOW_RATING)
    complaints = Ticket.objects.visible_to(user).filter(category=Category.COMPLAINT, created_at__gte=since)

    groups: dict = {}
    for row in low.values(*survey_keys).annotate(count=Count("id"), last=Max("answered_at")).order_by(
            "-count")[:GROUP_ROWS]:
        renamed = {ticket_keys[i]: row[name] for i, name in enumerate(survey_keys)}
        key, label = _label(group, renamed, ticket_keys)
        groups[key] = {"label": label, "low": row["count"], "complaints": 0, "last": row["last"]}
    for row in complaints.values(*ticket_keys).annotate(count=Count("id"), last=Max("created_at")).order_by(
            "-count")[:GROUP_ROWS]:
        key, label = _label(group, row, ticket_keys)
        entry = groups.setdefault(key, {"label": label, "low": 0, "complaints": 0, "last": row["last"]})
        entry["complaints"] = row["count"]
        entry["last"] = max(entry["last"], row["last"])
    rows = sorted(groups.values(), key=lambda g: (-(g["low"] + g["complaints"]), str(g["label"] or "")))
    totals = answered.aggregate(answers=Count("id"), average=Avg("rating"),
                                low=Count("id", filter=Q(rating__lte=LOW_RATING)))
    totals["complaints"] = complaints.count()
    latest_low = list(low.select_related("ticket", "ticket__account", "ticket__product", "agent")
                      .order_by("-answered_at", "-id")[:LATEST_ROWS])
    latest_complaints = list(complaints.select_related("account", "product", "owner")
                             .order_by("-created_at", "-id")[:LATEST_ROWS])
    return render(request, "portal/feedback.html", {
        "rows": rows[:GROUP_ROWS], "group": group, "groups": [
            ("product", _("Product")), ("category", _("Category")), ("account", _("Account"))],
        "days": days, "periods": PERIODS, "totals": totals, "latest_low": latest_low,
        "latest_complaints": latest_complaints, "nav_section": "service",
        # "Export list": every answer of the period (the export job, `portal.survey`; filters as /api/surveys/).
        "current_query": urlencode({"answered": "yes", "answered_after": timezone.localdate(since).isoformat()}),
    })
