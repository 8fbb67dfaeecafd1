"""Reads of the audit history kept by django-pghistory (database triggers).

Triggers see every write, including bulk updates and imports, and the
HistoryMiddleware attaches the signed-in user and the URL to each change.
"""

from dataclasses import dataclass
from datetime import datetime

import pghistory.models

from crm.models import User

IGNORED_FIELDS = {"updated_at"}


@dataclass
class HistoryEntry:
    when: datetime
    action: str  # insert / update / delete
    user: User | None
    changes: list[tuple[str, object, object]]  # (field label, old, new)


def history_for(obj, limit: int = 50) -> list[HistoryEntry]:
    """Newest-first changes of one record, in two queries whatever its length."""
    events = list(
        pghistory.models.Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:limit]
    )
    user_ids = {_user_id(event) for event in events} - {None}
    users = User.objects.in_bulk(user_ids)
    labels = {f.attname: str(f.verbose_name) for f in type(obj)._meta.concrete_fields}
    labels.update({f.name: str(f.verbose_name) for f in type(obj)._meta.concrete_fields})
    entries = []
    for event in events:
        diff = event.pgh_diff or {}
        changes = [
            (labels.get(name, name), old, new)
            for name, (old, new) in sorted(diff.items())
            if name not in IGNORED_FIELDS
        ]
        action = event.pgh_label
        entries.append(HistoryEntry(event.pgh_created_at, action, users.get(_user_id(event)), changes))
    return entries


def _user_id(event) -> int | None:
    context = event.pgh_context or {}
    user = context.get("user")
    return int(user) if user is not None else None
