"""Merging duplicate contacts: the contact's rules (consent) on top of the engine in crm/merge.py."""

from collections.abc import Mapping, Sequence

from django.db import transaction

from contacts.models import Contact
from crm.merge import MergeResult, MergeSpec, merge_records
from crm.models import User

CONTACTS = MergeSpec(model=Contact, consent=True)


@transaction.atomic
def contacts_merge(*, primary: Contact, others: Sequence[Contact], choices: Mapping[str, int],
                   actor: User) -> MergeResult:
    """Merge `others` into `primary`. `choices` maps a field name to the pk of the record whose
    value wins (absent: the primary's, or the first non-empty one); for emails/phones/tags, UNION
    (the default) combines every record's list. Consent needs an explicit choice (`email_opt_in`)."""
    return merge_records(CONTACTS, primary=primary, others=others, choices=choices, actor=actor)
