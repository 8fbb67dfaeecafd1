"""Merging duplicate accounts: the account's rules on top of the engine in crm/merge.py."""

from collections.abc import Mapping, Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Account
from crm.merge import MergeError, MergeResult, MergeSpec, merge_records
from crm.models import User


def _check_parent(account: Account, other_ids: list[int]) -> None:
    """A merged account cannot be its own parent, directly or up the chain."""
    if account.parent_id in {account.pk, *other_ids}:
        account.parent_id = None
    seen, node = set(), account.parent_id
    while node is not None and node not in seen:
        if node == account.pk:
            raise MergeError(_("That parent account belongs to this account's own subsidiaries. "
                               "Choose another parent account."))
        seen.add(node)
        node = Account._base_manager.filter(pk=node).values_list("parent_id", flat=True).first()


ACCOUNTS = MergeSpec(model=Account, check=_check_parent)


@transaction.atomic
def accounts_merge(*, primary: Account, others: Sequence[Account], choices: Mapping[str, int],
                   actor: User) -> MergeResult:
    """Merge `others` into `primary`; contacts, activities and subsidiaries move to it."""
    return merge_records(ACCOUNTS, primary=primary, others=others, choices=choices, actor=actor)
