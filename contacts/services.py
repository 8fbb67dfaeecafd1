"""Writes on contacts."""

from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from crm.models import User
from webhooks.services import emit


def _apply_consent(contact: Contact, before_opt_in: bool) -> None:
    """Keep the consent dates true to what changed."""
    if contact.email_opt_in and not before_opt_in:
        contact.email_opt_in_at = timezone.now()
        contact.email_opted_out_at = None
    elif before_opt_in and not contact.email_opt_in:
        contact.email_opted_out_at = timezone.now()


@transaction.atomic
def contact_create(*, actor: User, owner: User | None = None, **fields) -> Contact:
    owner = owner or actor
    contact = Contact(owner=owner, team_id=owner.team_id, **fields)
    _apply_consent(contact, before_opt_in=False)
    contact.full_clean()
    contact.save()
    emit("contact.created", contact, actor=actor)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor: User, **fields) -> Contact:
    # The stored value, not the instance's: a ModelForm has already written the new one onto it.
    before_opt_in = Contact.objects.filter(pk=contact.pk).values_list("email_opt_in", flat=True).get()
    for name, value in fields.items():
        setattr(contact, name, value)
    if "owner" in fields:
        contact.team_id = contact.owner.team_id
    _apply_consent(contact, before_opt_in)
    contact.full_clean()
    contact.save()
    emit("contact.updated", contact, actor=actor)
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor: User) -> None:
    contact.deleted_at = timezone.now()
    contact.save(update_fields=["deleted_at", "updated_at"])
    emit("contact.deleted", contact, actor=actor)
