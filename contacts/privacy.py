"""Data-subject requests for a contact: everything we hold as one package, and erasure.

Erasure anonymises instead of deleting, so counts stay right (the contact still counts as
one contact of its account; its calls still count in activity figures), and removes the
old values from the audit history, which would otherwise keep them.
"""

import io
import json
import zipfile

import pghistory
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact
from crm import hooks, security
from crm.models import SecurityEventKind

PERSONAL_FIELDS = [
    "first_name", "middle_name", "last_name", "title", "department", "emails", "phones", "preferred_channel",
    "birthday", "address", "lead_source", "tags", "description", "custom",
]
CONSENT_FIELDS = ["email_opt_in", "email_opt_in_at", "email_opt_in_source", "email_opt_in_wording",
                  "email_opted_out_at", "do_not_call"]


def contact_personal_data(contact: Contact) -> dict:
    """The contact, its consent and history, plus one section from each module that keeps something
    about the person (activities, deals…: subscribers of hooks.CONTACT_PERSONAL_DATA)."""
    sections: dict = {}
    for contributed in hooks.collect(hooks.CONTACT_PERSONAL_DATA, contact=contact):
        sections.update(contributed)
    return {
        "contact": {
            "id": contact.pk,
            **{name: getattr(contact, name) for name in PERSONAL_FIELDS},
            "account": str(contact.account) if contact.account_id else None,
            "owner": str(contact.owner),
            "created_at": contact.created_at,
            "updated_at": contact.updated_at,
        },
        "consent": {name: getattr(contact, name) for name in CONSENT_FIELDS},
        **sections,
        "history": [
            {"when": event.pgh_created_at, "change": event.pgh_label, "values": event.pgh_diff}
            for event in pghistory.models.Events.objects.tracks(contact).order_by("pgh_created_at")
        ],
        "exported_at": timezone.now(),
    }


def contact_data_package(contact: Contact) -> bytes:
    """A ZIP with the data as JSON and a short explanation."""
    data = contact_personal_data(contact)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("personal-data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        archive.writestr("README.txt", _(
            "Everything the CRM holds about this person: the contact record, consent, every call, meeting, "
            "task, note and e-mail about them, and the history of changes.\n"))
    return buffer.getvalue()


@transaction.atomic
def contact_erase(*, contact: Contact, actor) -> Contact:
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    # The audit history holds old values (names, e-mails, phones): they go too.
    contact.pgh_event_model.objects.filter(pgh_obj_id=contact.pk).delete()
    with pghistory.context(erasure=True):
        hooks.publish(hooks.CONTACT_ERASE, contact=contact, actor=actor)  # each module erases its copies
        contact.first_name = ""
        contact.middle_name = ""
        contact.last_name = _("Erased contact #%(id)s") % {"id": contact.pk}
        contact.title = contact.department = contact.address = contact.description = ""
        contact.emails, contact.phones, contact.tags, contact.custom = [], [], [], {}
        contact.birthday = None
        contact.preferred_channel = contact.lead_source = ""
        # Never contact them again: the strictest consent.
        contact.email_opt_in = False
        contact.email_opt_in_source = contact.email_opt_in_wording = ""
        contact.email_opt_in_at = None
        contact.email_opted_out_at = contact.email_opted_out_at or timezone.now()
        contact.do_not_call = True
        contact.save()
    _erase_copies(contact)
    security.log(SecurityEventKind.ERASURE, actor=actor, contact=contact.pk)
    return contact


def _erase_copies(contact: Contact) -> None:
    """Other places that keep copies of the person's data: import undo records, webhook
    payloads, and list exports made before the erasure that can still be downloaded."""
    from exports.models import ExportJob, ExportStatus
    from imports.models import ImportRow
    from webhooks.models import WebhookDelivery

    label = Contact._meta.label_lower
    ImportRow.objects.filter(job__target=label, object_id=contact.pk).update(previous=None, values=None)
    WebhookDelivery.objects.filter(object_type=label, object_id=str(contact.pk)).update(
        payload={"erased": True, "id": contact.pk})
    for job in ExportJob.objects.filter(target=label, status=ExportStatus.DONE).exclude(file_name=""):
        job.path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(file_name="")
