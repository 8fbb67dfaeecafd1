"""Duplicate prevention at entry: who else already has this customer?

Matches are searched across ALL rows, not only the visible ones, so two reps never
unknowingly work the same customer. For a row the user may not open we reveal only that
it exists and who owns it. One query per check, whatever the table size (trigram and
array indexes). Each module finds its own rows (with `find`: accounts/duplicates.py,
contacts/duplicates.py, sales/lead_services.py) and registers the check its form runs
while being typed (`register_entry_check`).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity

from crm import visibility

NAME_SIMILARITY = 0.45
LIMIT = 6


@dataclass
class Match:
    kind: str  # "account" / "contact" / "lead"
    pk: int
    label: str  # empty when the user may not open the row
    owner: str
    reasons: list[str]
    url: str

    @property
    def hidden(self) -> bool:
        return not self.label


# --- The check while a form is being typed (/duplicates/, htmx) ---------------------

EntryCheck = Callable[..., list["Match"]]  # (user, data: QueryDict, exclude_pk) -> matches
_entry_checks: dict[str, EntryCheck] = {}


def register_entry_check(entity: str, check: EntryCheck) -> None:
    """A module's check for its form: `entity` is what the form posts (`account`, `contact`)."""
    _entry_checks[entity] = check


def entry_check(entity: str) -> EntryCheck | None:
    return _entry_checks.get(entity)


def lenient_values(field, raw: str) -> list[str]:
    """Parse what can be parsed of a list field while the user is still typing."""
    values = []
    for part in raw.replace(";", ",").replace("\n", ",").split(","):
        try:
            values += field.to_python(part)
        except Exception:  # noqa: BLE001, S112 - half-typed values are simply not checked yet
            continue
    return values


# --- Finding matches ---------------------------------------------------------------


def find(queryset, condition, name_field: str, name: str, kind: str, user, exclude_pk: int | None,
         reasons_for: Callable[[object], list[str]]) -> list[Match]:
    """One query over ALL live rows: the best LIMIT matches, each with why it matched; a row the
    user may not open is reported without its name or link."""
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
