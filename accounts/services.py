"""Writes on accounts."""

import pghistory
from django.db import transaction
from django.db.models import F, Func, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext_lazy

from accounts.models import Account
from crm import notifications
from crm.models import NotificationKind, User
from webhooks.services import emit


@transaction.atomic
def account_create(*, actor: User, owner: User | None = None, **fields) -> Account:
    owner = owner or actor
    account = Account(owner=owner, team_id=owner.team_id, **fields)
    account.full_clean()
    account.save()
    emit("account.created", account, actor=actor)
    return account


@transaction.atomic
def account_update(*, account: Account, actor: User, **fields) -> Account:
    for name, value in fields.items():
        setattr(account, name, value)
    if "owner" in fields:
        account.team_id = account.owner.team_id  # the record follows its owner's team
    account.full_clean()
    account.save()
    emit("account.updated", account, actor=actor)
    return account


@transaction.atomic
def account_delete(*, account: Account, actor: User) -> None:
    """Soft delete: the row leaves every list but stays restorable and in the history."""
    account.deleted_at = timezone.now()
    account.save(update_fields=["deleted_at", "updated_at"])
    emit("account.deleted", account, actor=actor)


ACCOUNTS_ASSIGNED = notifications.message(
    "account.assigned", ngettext_lazy(
        "%(actor)s assigned %(count)s account to you.",
        "%(actor)s assigned %(count)s accounts to you.", "count"))


@transaction.atomic
def accounts_assign(*, actor: User, accounts, owner: User) -> int:
    """Bulk re-assignment of accounts the actor may edit (the caller passes editable_by rows)."""
    with pghistory.context(bulk="assign"):
        count = accounts.update(owner=owner, team=owner.team, updated_at=timezone.now())
    if count and owner.pk != actor.pk:
        notifications.notify(user=owner, kind=NotificationKind.ASSIGNMENT,
                             url=reverse("accounts:list") + "?scope=mine", message=ACCOUNTS_ASSIGNED,
                             params={"actor": str(actor), "count": count})
    return count


@transaction.atomic
def accounts_tag(*, actor: User, accounts, tag: str, add: bool) -> int:
    tag = tag.strip()[:50]
    if not tag:
        return 0
    with pghistory.context(bulk="tag"):
        if add:
            return accounts.exclude(tags__contains=[tag]).update(
                tags=Func(F("tags"), Value(tag), function="array_append"), updated_at=timezone.now())
        return accounts.filter(tags__contains=[tag]).update(
            tags=Func(F("tags"), Value(tag), function="array_remove"), updated_at=timezone.now())
