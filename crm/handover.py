"""Hand-over: move a user's customers and open work to another user in one action.

The cure for "the rep left and took the customers with them": records stay, history
stays, the new owner gets them (and their team) at once. Only rows the actor may edit
move; the whole move is one transaction, one HandOver row and one audit context.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pghistory
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import notifications, security
from crm.models import HandOver, NotificationKind, SecurityEventKind, User

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Kind:
    """Something a hand-over can move, registered by the module that owns it (in its handover.py,
    loaded by its AppConfig.ready()). `rows(actor, from_user)` answers the rows that move: only rows
    the actor may edit. `move(rows, from_user, to_user)` moves them and answers how many; the default gives
    them the new owner and the new owner's team."""

    key: str
    label: str | Promise
    order: int
    rows: Callable[[User, User], QuerySet[Any]]
    move: Callable[[QuerySet[Any], User, User], int] | None = None


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    KINDS[kind.key] = kind
    return kind


def kinds() -> list[Kind]:
    return sorted(KINDS.values(), key=lambda kind: (kind.order, kind.key))


def give_to(rows: QuerySet[Any], from_user: User, to_user: User) -> int:
    return rows.update(owner=to_user, team=to_user.team, updated_at=timezone.now())


def movable(*, actor: User, from_user: User) -> dict[str, QuerySet[Any]]:
    return {kind.key: kind.rows(actor, from_user) for kind in kinds()}


@dataclass
class Preview:
    sections: list[tuple[str, int, list[Any]]]  # (label, count, the first rows)

    @property
    def total(self) -> int:
        return sum(count for _label, count, _rows in self.sections)


def handover_preview(*, actor: User, from_user: User, kinds: Iterable[str]) -> Preview:
    sets = movable(actor=actor, from_user=from_user)
    return Preview(sections=[
        (str(KINDS[key].label), sets[key].count(), list(sets[key].order_by("-updated_at")[:PREVIEW_ROWS]))
        for key in kinds if key in KINDS])


def describe(counts: dict[str, int]) -> str:
    """"Accounts: 3; Contacts: 2" for a hand-over's counts, in registration order."""
    return "; ".join(f"{kind.label}: {counts[kind.key]}" for kind in kinds() if kind.key in counts)


HANDED_OVER = notifications.message(
    "handover.received", gettext_lazy("%(actor)s handed %(from_user)s's customers over to you: %(moved)s."))


@transaction.atomic
def handover_run(*, actor: User, from_user: User, to_user: User, kinds: Iterable[str], note: str = "") -> HandOver:
    if from_user.pk == to_user.pk:
        raise ValueError(_("Choose two different people."))
    if not to_user.is_active:
        raise ValueError(_("The new owner's account is deactivated."))
    sets = movable(actor=actor, from_user=from_user)
    counts: dict[str, int] = {}
    with pghistory.context(handover=True, from_user=from_user.pk, to_user=to_user.pk):
        for key in kinds:
            move = KINDS[key].move or give_to
            counts[key] = move(sets[key], from_user, to_user)
    record = HandOver.objects.create(from_user=from_user, to_user=to_user, actor=actor, counts=counts, note=note)
    security.log(SecurityEventKind.HANDOVER, user=from_user, actor=actor, to_user=to_user.email, counts=counts)
    moved = describe(counts)
    notifications.notify(user=to_user, kind=NotificationKind.HANDOVER, url="/", message=HANDED_OVER,
                         params={"actor": str(actor), "from_user": str(from_user), "moved": moved})
    return record
