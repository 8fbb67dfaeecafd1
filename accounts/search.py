"""Accounts in the global search and the caller lookup (crm/search.py)."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from crm import search
from crm.search import CallerHit, Hit, Kind, Query


def _hit(account: Account) -> Hit:
    return Hit(title=account.name, subtitle=search.joined(account.city, account.phone, account.owner),
               url=account.get_absolute_url(), record=account)


@search.register
class AccountSearch(search.SearchProvider):
    """By e-mail, phone in any format (E.164 index), tax number, or name (trigram index)."""

    key = "accounts"
    label = _("Accounts")
    icon = "building"
    order = 10
    matches_phone = True
    caller_order = 20

    def rows(self, user):
        return Account.objects.visible_to(user).select_related("owner")

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        accounts = self.rows(user)
        if query.kind == Kind.EMAIL:
            found = accounts.filter(email__iexact=query.email)[:limit]
        elif query.kind == Kind.PHONE:
            # Digits that are no valid phone: maybe a tax number.
            condition = Q(tax_number=query.text) | (Q(phone_e164__in=query.e164s) if query.e164s else Q(pk__in=[]))
            if query.tail:  # the end of a number (account_phone_trgm)
                condition |= Q(phone_e164__endswith=query.tail) & ~Q(phone_e164="")
            found = accounts.filter(condition)[:limit]
        else:
            found = search.ranked(accounts, "name", query.text, Q(name__icontains=query.text)
                                  | Q(tax_number=query.text), limit, ("name", "id"))
        return [_hit(account) for account in found]

    def typo_search(self, user, query: Query, limit: int) -> list[Hit]:
        return [_hit(account) for account in search.ranked(
            self.rows(user), "name", query.text, Q(name__trigram_word_similar=query.text), limit, ("name", "id"))]

    def caller_hits(self, user, e164: str, limit: int) -> list[CallerHit]:
        return [CallerHit(text=str(account), links={"account": (account.pk, str(account))})
                for account in Account.objects.visible_to(user).filter(
                    phone_e164__in=search.phone_numbers(e164))[:limit]]
