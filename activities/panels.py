"""The timeline and the "log a call" buttons on the record pages of the modules below
(crm/panels.py). The page reads the record's history once and shares it as page["history"]."""

from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from activities.models import Activity, ActivityKind
from activities.timeline import timeline_page
from crm import panels
from crm.visibility import can_create, can_read

# Which record each page is, as the timeline's link field; and the buttons each page offers.
LINK_FIELD = {
    "accounts.account": "account",
    "contacts.contact": "contact",
    "sales.opportunity": "opportunity",
    "sales.lead": "lead",
}
BUTTONS = {
    "accounts.account": ("call", "meeting", "task", "note"),
    "contacts.contact": ("call", "meeting", "task", "note"),
    "sales.opportunity": ("call", "meeting", "task"),
    "sales.lead": ("call", "email", "meeting", "task", "note"),
}


def _link_query(request, record) -> str:
    field = LINK_FIELD[record._meta.label_lower]
    query = f"{field}={record.pk}"
    if field == "opportunity":
        query += f"&account={record.account_id}"
    if field == "lead":
        query += f"&next={quote(request.path)}"
    return query


def timeline(request, record, page):
    field = LINK_FIELD[record._meta.label_lower]
    return panels.Rendered("activities/timeline_panel.html", {
        "timeline": timeline_page(user=request.user, kind=request.GET.get("kind", ""), history=page.get("history"),
                                  **{field: record}),
        "timeline_url": f"{reverse('timeline')}?{field}={record.pk}",
        "activity_kinds": ActivityKind.choices,
        "hide_contact": field == "contact",
    })


def log_buttons(request, record, page):
    if not can_create(request.user, Activity):
        return None
    # Built from primary keys and a percent-encoded path only: nothing left to escape.
    link = mark_safe(_link_query(request, record))  # noqa: S308  # nosec B308 B703
    return panels.Rendered("activities/_log_buttons.html", {"link": link, "kinds": BUTTONS[record._meta.label_lower]})


# What counts as being in touch with someone: a call, a meeting or an e-mail (not a task or a note).
CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL)


@panels.register("contacts.contact", slot=panels.FIGURES, order=10)
def last_contact(request, contact, page):
    """When we last spoke to this person, and how: the latest call, meeting or e-mail that has
    happened (planned ones ahead do not count), one indexed query through `visible_to`."""
    if not can_read(request.user, Activity):
        return None
    latest = (Activity.objects.visible_to(request.user)
              .filter(contact=contact, kind__in=CONTACT_KINDS, occurred_at__lte=timezone.now())
              .select_related("owner").order_by("-occurred_at", "-id").first())
    return panels.Rendered("activities/panels/last_contact.html", {"activity": latest})


for target in LINK_FIELD:
    panels.register(target, slot=panels.MAIN, order=100)(timeline)
    panels.register(target, slot=panels.ACTIONS, order=10)(log_buttons)


@panels.register("service.hotline", slot=panels.MAIN, order=20)
def caller_interactions(request, contact, page):
    """The hotline's "last interactions" with the caller: their five latest activities."""
    recent = (Activity.objects.visible_to(request.user).filter(contact=contact).select_related("owner")
              .order_by("-occurred_at", "-id")[:5])
    return panels.Rendered("activities/panels/recent.html", {"activities": list(recent), "contact": contact})


@panels.register(panels.PROFILE, slot=panels.MAIN, order=10)
def calendar_feed(request, user, page):
    """The private iCalendar address (moved from the calendar page: it is a personal setting)."""
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[user.calendar_token]))
    return panels.Rendered("activities/panels/calendar_feed.html", {
        "feed_url": feed_url, "webcal_url": "webcal://" + feed_url.split("://", 1)[1]})
