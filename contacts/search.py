"""Contacts in the global search and the caller lookup (crm/search.py)."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact
from crm import search
from crm.phones import format_phone
from crm.search import CallerHit, Hit, Kind, Query
from crm.visibility import with_visibility_flag


def _hit(contact: Contact) -> Hit:
    reach = format_phone(contact.primary_phone) if contact.primary_phone else contact.primary_email
    return Hit(title=str(contact),
               subtitle=search.joined(contact.account if contact.account_visible else "", reach),
               url=contact.get_absolute_url(), record=contact)


def _visible(user):
    """The user's contacts, each knowing whether its account may be named."""
    return with_visibility_flag(Contact.objects.visible_to(user).select_related("owner", "account"), user, "account")


@search.register
class ContactSearch(search.SearchProvider):
    """By e-mail or phone (array indexes), or full name (trigram index)."""

    key = "contacts"
    label = _("Contacts")
    icon = "person"
    order = 20
    matches_phone = True
    caller_order = 10

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        contacts = _visible(user)
        if query.kind == Kind.EMAIL:
            found = contacts.with_email(query.email)[:limit]
        elif query.kind == Kind.PHONE:
            if not query.e164s and not query.tail:
                return []
            found = contacts.with_phone(list(query.e164s), tail=query.tail)[:limit]
        else:
            found = search.ranked(contacts, "full_name", query.text, Q(full_name__icontains=query.text), limit,
                                  ("last_name", "id"))
        return [_hit(contact) for contact in found]

    def typo_search(self, user, query: Query, limit: int) -> list[Hit]:
        return [_hit(contact) for contact in search.ranked(
            _visible(user), "full_name", query.text, Q(full_name__trigram_word_similar=query.text), limit,
            ("last_name", "id"))]

    def caller_hits(self, user, e164: str, limit: int) -> list[CallerHit]:
        hits = []
        for contact in _visible(user).with_phone(search.phone_numbers(e164))[:limit]:
            links = {"contact": (contact.pk, str(contact))}
            if contact.account_visible and contact.account_id:
                links["account"] = (contact.account_id, str(contact.account))
            hits.append(CallerHit(text=" · ".join(text for _, text in links.values()), links=links))
        return hits
