"""Duplicate prevention at entry: who else already has this customer?

Matches are searched across ALL rows, not only the visible ones, so two reps never
unknowingly work the same customer. For a row the user may not open we reveal only that
it exists and who owns it. One query per check, whatever the table size (trigram and
array indexes).
"""

from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Q
from django.utils.translation import gettext as _

from crm import visibility

NAME_SIMILARITY = 0.45
LIMIT = 6


@dataclass
class Match:
    kind: str  # "account" / "contact"
    pk: int
    label: str  # empty when the user may not open the row
    owner: str
    reasons: list[str]
    url: str

    @property
    def hidden(self) -> bool:
        return not self.label


def account_duplicates(*, user, name: str = "", tax_number: str = "", phone_e164: str = "", email: str = "",
                       exclude_pk: int | None = None) -> list[Match]:
    from accounts.models import Account

    name, tax_number, email = name.strip(), tax_number.strip(), email.strip().lower()
    condition = Q(pk__in=[])
    if tax_number:
        condition |= Q(tax_number=tax_number)
    if phone_e164:
        condition |= Q(phone_e164=phone_e164)
    if email:
        condition |= Q(email__iexact=email)
    if len(name) >= 3:
        condition |= Q(name__trigram_similar=name)

    def reasons(account) -> list[str]:
        found = []
        if tax_number and account.tax_number == tax_number:
            found.append(_("same tax number"))
        if phone_e164 and account.phone_e164 == phone_e164:
            found.append(_("same phone"))
        if email and account.email.lower() == email:
            found.append(_("same e-mail"))
        if getattr(account, "similarity", 0) >= NAME_SIMILARITY:
            found.append(_("similar name"))
        return found

    return _find(Account.objects.all(), condition, "name", name, "account", user, exclude_pk, reasons)


def contact_duplicates(*, user, full_name: str = "", emails=(), phones=(), exclude_pk: int | None = None
                       ) -> list[Match]:
    from contacts.models import Contact

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
        if getattr(contact, "similarity", 0) >= NAME_SIMILARITY:
            found.append(_("similar name"))
        return found

    return _find(Contact.objects.all(), condition, "full_name", full_name, "contact", user, exclude_pk, reasons)


def _find(queryset, condition, name_field, name, kind, user, exclude_pk, reasons_for) -> list[Match]:
    rows = queryset.filter(condition, deleted_at__isnull=True).select_related("owner")
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    if name:
        rows = rows.annotate(similarity=TrigramSimilarity(name_field, name)).order_by("-similarity", "pk")
    matches = []
    for obj in rows[:LIMIT]:
        reasons = reasons_for(obj)
        if not reasons:
            continue  # trigram's loose match, below our similarity bar
        visible = visibility.can_see(user, obj)
        matches.append(Match(kind=kind, pk=obj.pk, label=str(obj) if visible else "", owner=str(obj.owner),
                             reasons=reasons, url=obj.get_absolute_url() if visible else ""))
    return matches
