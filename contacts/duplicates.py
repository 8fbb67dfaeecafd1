"""Possible duplicates of a contact: a shared e-mail or phone, or a similar name, across ALL
contacts (crm/duplicates.py says why and what a hidden match shows)."""

from django.db.models import Q
from django.utils.translation import gettext as _

from contacts.models import Contact
from crm import duplicates
from crm.duplicates import Match
from crm.fields import MultiEmailField, MultiPhoneField
from crm.phones import user_region


def contact_duplicates(*, user, full_name: str = "", emails=(), phones=(), exclude_pk: int | None = None
                       ) -> list[Match]:
    full_name = full_name.strip()
    emails = {e.lower() for e in emails if e}
    phones = {p for p in phones if p}
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(emails__overlap=sorted(emails))
    if phones:
        condition |= Q(phones__overlap=sorted(phones))
    if len(full_name) >= 3:
        condition |= Q(full_name__trigram_similar=full_name)

    def reasons(contact) -> list[str]:
        found = []
        if emails & set(contact.emails):
            found.append(_("same e-mail"))
        if phones & set(contact.phones):
            found.append(_("same phone"))
        if getattr(contact, "similarity", 0) >= duplicates.NAME_SIMILARITY:
            found.append(_("similar name"))
        return found

    return duplicates.find(Contact.objects.all(), condition, "full_name", full_name, "contact", user, exclude_pk,
                           reasons)


def duplicates_of(user, contact: Contact) -> list[Match]:
    """Other contacts that may be this one (the merge page's candidates)."""
    return contact_duplicates(user=user, full_name=contact.full_name, emails=contact.emails, phones=contact.phones,
                              exclude_pk=contact.pk)


def _entry_check(user, data, exclude_pk: int | None) -> list[Match]:
    full_name = " ".join(data.get(part, "").strip() for part in ("first_name", "middle_name", "last_name"))
    return contact_duplicates(user=user, full_name=full_name,
                              emails=duplicates.lenient_values(MultiEmailField(), data.get("emails", "")),
                              phones=duplicates.lenient_values(MultiPhoneField(region=user_region(user)),
                                                               data.get("phones", "")),
                              exclude_pk=exclude_pk)


duplicates.register_entry_check("contact", _entry_check)
