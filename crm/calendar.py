"""Calendar sources: what modules below `activities` put on a person's calendar.

The calendar page and the iCalendar feed live in `activities` (above `service`), and the modules
below it may not import it. So the calendar reads, besides its own meetings and tasks, every source
registered here; a module registers one in its `calendar_sources.py` (imported at start-up by
`crm/apps.py`, like panels):

    @calendar.source("service.work_orders")
    def work_orders(viewer, who, starts, ends) -> list[calendar.Entry]: ...

A source answers the entries of the people `who` names, starting in [starts, ends), read through the
visibility policy of its own model, in at most a few bounded queries. Entries are read-only on the
calendar (they move on their own page), so the source owns its rows and nothing is copied into
activities: there is no second row to keep in step.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crm.models import User


@dataclass(frozen=True)
class Who:
    """Whose calendar is read: the viewer alone, plus the teams they manage, or everybody."""

    user_id: int
    team_ids: frozenset[int] = frozenset()
    everyone: bool = False


@dataclass(frozen=True)
class Entry:
    key: str  # unique across sources, stable: the feed's UID ("work-order-12")
    title: str
    starts: datetime
    ends: datetime | None
    url: str
    icon: str = "calendar-event"  # a Bootstrap Icons name
    kind: str = "other"  # a CSS hook: cal-kind-<kind>
    kind_label: str = ""
    location: str = ""
    description: str = ""
    owner_name: str = ""
    done: bool = False
    updated_at: datetime | None = None


Source = Callable[["User", Who, datetime, datetime], list[Entry]]

_SOURCES: dict[str, Source] = {}


def source(name: str) -> Callable[[Source], Source]:
    def decorator(function: Source) -> Source:
        _SOURCES[name] = function
        return function

    return decorator


def entries(viewer: "User", who: Who, starts: datetime, ends: datetime) -> list[Entry]:
    """Every source's entries, in start order."""
    found: list[Entry] = []
    for name in sorted(_SOURCES):
        found.extend(_SOURCES[name](viewer, who, starts, ends))
    return sorted(found, key=lambda entry: (entry.starts, entry.key))


def registered() -> list[str]:
    return sorted(_SOURCES)
