"""Possible duplicates of an account: same tax number, phone or e-mail, or a similar name,
across ALL accounts (crm/duplicates.py says why and what a hidden match shows)."""

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Account
from crm import duplicates
from crm.duplicates import Match
from crm.phones import normalize_phone, phone_region


def account_duplicates(*, user, name: str = "", tax_number: str = "", phone_e164: str = "", email: str = "",
                       exclude_pk: int | None = None) -> list[Match]:
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
        if getattr(account, "similarity", 0) >= duplicates.NAME_SIMILARITY:
            found.append(_("similar name"))
        return found

    return duplicates.find(Account.objects.all(), condition, "name", name, "account", user, exclude_pk, reasons)


def duplicates_of(user, account: Account) -> list[Match]:
    """Other accounts that may be this one (the merge page's candidates)."""
    return account_duplicates(user=user, name=account.name, tax_number=account.tax_number,
                              phone_e164=account.phone_e164
                              or normalize_phone(account.phone, phone_region(user, account.country)) or "",
                              email=account.email, exclude_pk=account.pk)


def _entry_check(user, data, exclude_pk: int | None) -> list[Match]:
    return account_duplicates(user=user, name=data.get("name", ""), tax_number=data.get("tax_number", ""),
                              phone_e164=normalize_phone(data.get("phone", ""),
                                                         phone_region(user, data.get("country"))) or "",
                              email=data.get("email", ""), exclude_pk=exclude_pk)


duplicates.register_entry_check("account", _entry_check)
