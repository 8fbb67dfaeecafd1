"""Global search: accounts and contacts (later leads, deals, tickets) the user may see.

By phone in any format (normalised to E.164, exact array/index match), by e-mail, by
tax number, and by name with pg_trgm: substring or similar (typo-tolerant), best first.
Terms shorter than MIN_LENGTH answer with a hint instead of a slow query.
"""

from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Q

from accounts.models import Account
from contacts.models import Contact
from crm.phones import looks_like_phone, normalize_phone
from crm.visibility import with_visibility_flag

MIN_LENGTH = 3
PER_GROUP = 8
CANDIDATES = 200


@dataclass
class SearchResults:
    query: str
    too_short: bool = False
    accounts: list = field(default_factory=list)
    contacts: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.accounts or self.contacts)

    @property
    def groups(self):
        return [("accounts", self.accounts), ("contacts", self.contacts)]


def search(user, query: str, per_group: int = PER_GROUP) -> SearchResults:
    query = " ".join(query.split())[:100]
    if len(query) < MIN_LENGTH:
        return SearchResults(query=query, too_short=True)
    accounts = Account.objects.visible_to(user).select_related("owner")
    contacts = with_visibility_flag(Contact.objects.visible_to(user).select_related("owner", "account"), user,
                                    "account")

    if "@" in query:
        email = query.lower()
        return SearchResults(
            query=query,
            accounts=list(accounts.filter(email__iexact=email)[:per_group]),
            contacts=list(contacts.with_email(email)[:per_group]),
        )
    if looks_like_phone(query):
        e164 = normalize_phone(query)
        if e164:
            return SearchResults(
                query=query,
                accounts=list(accounts.filter(Q(phone_e164=e164) | Q(tax_number=query))[:per_group]),
                contacts=list(contacts.with_phone(e164)[:per_group]),
            )
        # Digits that are no valid phone: maybe a tax number.
        return SearchResults(query=query, accounts=list(accounts.filter(tax_number=query)[:per_group]))

    account_hits = _ranked(accounts, "name", query, Q(name__icontains=query) | Q(tax_number=query),
                           per_group, ("name", "id"))
    contact_hits = _ranked(contacts, "full_name", query, Q(full_name__icontains=query), per_group,
                           ("last_name", "id"))
    if not account_hits and not contact_hits:
        # Nothing contains the term: perhaps a typo. The slower similarity search runs only now.
        account_hits = _ranked(accounts, "name", query, Q(name__trigram_word_similar=query), per_group,
                               ("name", "id"))
        contact_hits = _ranked(contacts, "full_name", query, Q(full_name__trigram_word_similar=query), per_group,
                               ("last_name", "id"))
    return SearchResults(query=query, accounts=account_hits, contacts=contact_hits)


def _ranked(queryset, field, query, condition: Q, per_group: int, tie_break) -> list:
    """Best matches first, from a bounded set of candidates: a common term ("Smith") may match
    70,000 rows, so only the first CANDIDATES found through the trigram index are ranked."""
    candidates = queryset.filter(condition).order_by().values("pk")[:CANDIDATES]
    return list(queryset.filter(pk__in=candidates).annotate(rank=TrigramWordSimilarity(query, field))
                .order_by("-rank", *tie_break)[:per_group])
