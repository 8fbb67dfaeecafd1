"""What activities do when records of the modules below change (see crm/hooks.py)."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Activity, ActivityKind, ArchivedActivity, Direction
from activities.services import activity_create
from crm import hooks


@hooks.subscribe(hooks.LEAD_CONVERTED)
def move_lead_activities(*, lead, account, contact, opportunity, **_kwargs) -> None:
    """The history follows the customer; Activity.lead stays set, so the lead's timeline still shows it."""
    moved = {"account": account, "contact": contact, "updated_at": timezone.now()}
    if opportunity is not None:
        moved["opportunity"] = opportunity
    Activity.objects.filter(lead=lead).update(**moved)


@hooks.subscribe(hooks.QUOTE_SENT)
def log_quote_email(*, quote, actor, subject: str, body: str, **_kwargs) -> None:
    activity_create(actor=actor, kind=ActivityKind.EMAIL, account=quote.account, contact=quote.contact,
                    opportunity=quote.opportunity, subject=subject[:200], direction=Direction.OUTBOUND, body=body)


def _about(contact):
    return Activity.objects.filter(Q(contact=contact) | Q(contact_attendees=contact)).distinct().order_by(
        "occurred_at", "id")


def _archived_about(contact):
    """The same, in the archive of finished activities (activities/archive.py)."""
    return ArchivedActivity.objects.filter(Q(contact=contact) | Q(contact_attendee_ids__contains=[contact.pk])) \
        .order_by("occurred_at", "id")


@hooks.subscribe(hooks.CONTACT_PERSONAL_DATA)
def contact_activities(*, contact, **_kwargs) -> dict:
    rows = [*_about(contact).select_related("owner"), *_archived_about(contact).select_related("owner")]
    rows.sort(key=lambda a: (a.occurred_at, a.pk))
    return {"activities": [
        {"id": a.pk, "kind": a.kind, "subject": a.subject, "details": a.body, "when": a.occurred_at,
         "direction": a.direction, "outcome": a.outcome, "owner": str(a.owner), "deleted": a.deleted_at is not None,
         "archived": a.is_archived}
        for a in rows
    ]}


@hooks.subscribe(hooks.CONTACT_ERASE)
def erase_contact_activities(*, contact, **_kwargs) -> None:
    """Calls and meetings stay (they count in figures) but lose what they said; their history goes. The archive
    too: an erasure reaches every copy."""
    ids = list(_about(contact).values_list("pk", flat=True))
    archived = list(_archived_about(contact).values_list("pk", flat=True))
    Activity.pgh_event_model.objects.filter(pgh_obj_id__in=ids + archived).delete()
    Activity.objects.filter(pk__in=ids).update(subject=_("(erased)"), body="", location="")
    ArchivedActivity.objects.filter(pk__in=archived).update(subject=_("(erased)"), body="", location="")
