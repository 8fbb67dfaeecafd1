"""Marketing e-mail on a contact's timeline (activities/timeline.py's registry): the first open, the
first click, an unsubscribe and a bounce of each mailing the person received. One bounded query; none
for a role that reads no campaigns."""

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from activities.timeline import TimelineEntry, timeline_source
from contacts.models import Contact
from crm.models import User
from crm.visibility import can_read
from marketing.models import Campaign, Delivery, Mailing

EVENTS = Q(opened_at__isnull=False) | Q(clicked_at__isnull=False) | Q(unsubscribed_at__isnull=False) | Q(
    bounced_at__isnull=False)


def _events(user: User, contact: Contact):
    return Delivery.objects.filter(EVENTS, contact=contact, mailing__in=Mailing.objects.visible_to(user))


def mailing_events_probe(user: User, contact: Contact):
    return _events(user, contact) if can_read(user, Campaign) else []  # nothing to read: no query either way


@timeline_source("contact", probe=mailing_events_probe)
def mailing_events(user: User, contact: Contact, before: datetime | None, limit: int) -> list[TimelineEntry]:
    if not can_read(user, Campaign):
        return []
    deliveries = (_events(user, contact).select_related("mailing").order_by("-sent_at", "-id"))
    if before is not None:
        deliveries = deliveries.filter(sent_at__lt=before)
    entries: list[TimelineEntry] = []
    for delivery in deliveries[:limit]:
        subject, url = delivery.mailing.subject, delivery.mailing.get_absolute_url()
        for when, icon, title in (
            (delivery.opened_at, "envelope-open", _("Opened the e-mail “%(subject)s”")),
            (delivery.clicked_at, "cursor", _("Clicked a link in “%(subject)s”")),
            (delivery.unsubscribed_at, "envelope-slash", _("Unsubscribed through “%(subject)s”")),
            (delivery.bounced_at, "envelope-exclamation", _("“%(subject)s” bounced (%(kind)s)")),
        ):
            if when is None or (before is not None and when >= before):
                continue
            entries.append(TimelineEntry(occurred_at=when, icon=icon, url=url, detail=_("Marketing e-mail"),
                                         title=title % {"subject": subject, "kind": delivery.get_bounce_display()}))
    return entries
