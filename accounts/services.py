"""Writes on accounts."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from crm.models import User


@transaction.atomic
def account_create(*, actor: User, owner: User | None = None, **fields) -> Account:
    owner = owner or actor
    account = Account(owner=owner, team_id=owner.team_id, **fields)
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def account_update(*, account: Account, actor: User, **fields) -> Account:
    for name, value in fields.items():
        setattr(account, name, value)
    if "owner" in fields:
        account.team_id = account.owner.team_id  # the record follows its owner's team
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def account_delete(*, account: Account, actor: User) -> None:
    """Soft delete: the row leaves every list but stays restorable and in the history."""
    account.deleted_at = timezone.now()
    account.save(update_fields=["deleted_at", "updated_at"])
