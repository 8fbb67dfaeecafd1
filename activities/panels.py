"""The timeline and the "log a call" buttons on the record pages of the modules below
(crm/panels.py). The page reads the record's history once and shares it as page["history"]."""

from urllib.parse import quote

from django.urls import reverse
from django.utils.safestring import mark_safe

from activities.models import Activity, ActivityKind, ArchivedActivity
from activities.timeline import last_contacts, source_probes, timeline_page
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


def archive_probe(request, record):
    """Whether the record has archived activities (activities/archive.py): most have none, and without the
    probe every short timeline asked the archive."""
    return ArchivedActivity.objects.alive().filter(**{LINK_FIELD[record._meta.label_lower]: record})


def sources_probe(request, record):
    """Whether the other modules' timeline sources (marketing's e-mail events) have anything for the record."""
    return source_probes(request.user, LINK_FIELD[record._meta.label_lower], record)


def timeline(request, record, page):
    field = LINK_FIELD[record._meta.label_lower]
    # The account page is at its query budget: its "last contact" figure rides on the timeline's query.
    with_last_contact = field == "account"
    found = timeline_page(user=request.user, kind=request.GET.get("kind", ""), history=page.get("history"),
                          with_last_contact=with_last_contact, archived=panels.has_rows(page, archive_probe),
                          sources=panels.has_rows(page, sources_probe), **{field: record})
    if with_last_contact:
        page["last_contact"] = found.last_contact
    return panels.Rendered("activities/timeline_panel.html", {
        "timeline": found,
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


def last_contact_probe(request, contact):
    return last_contacts(request.user, contact=contact) if can_read(request.user, Activity) else None


@panels.register("contacts.contact", slot=panels.FIGURES, order=10, probe=last_contact_probe)
def last_contact(request, contact, page):
    """When we last spoke to this person, and how: the latest call, meeting or e-mail that has
    happened (planned ones ahead do not count), one indexed query through `visible_to` (none when
    the page's probe found no such activity)."""
    if not can_read(request.user, Activity):
        return None
    latest = None
    if panels.has_rows(page, last_contact_probe):
        latest = last_contacts(request.user, contact=contact).select_related("owner").first()
    return panels.Rendered("activities/panels/last_contact.html", {"activity": latest})


# Order 110: after the timeline (100), whose query brought the figure along; last of the figures.
@panels.register("accounts.account", slot=panels.FIGURES, order=110)
def account_last_contact(request, account, page):
    """The account's last call, meeting or e-mail with anyone there, read by the timeline's query
    (no query of its own while the timeline panel runs first)."""
    if not can_read(request.user, Activity):
        return None
    if "last_contact" in page:
        latest = page["last_contact"]
    else:  # the timeline did not run (a page without it): one indexed query
        latest = last_contacts(request.user, account=account).select_related("owner").first()
    return panels.Rendered("activities/panels/last_contact.html", {"activity": latest})


for target in LINK_FIELD:
    panels.register(target, slot=panels.MAIN, order=100, probe=(archive_probe, sources_probe))(timeline)
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
