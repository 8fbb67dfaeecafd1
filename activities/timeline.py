"""The unified timeline of a customer: activities and the field changes that matter, newest
first, keyset-paged, in a constant number of queries whatever its length."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from activities.models import Activity, ActivityKind
from crm.history import CHANGES_SCANNED, history_for
from crm.visibility import with_visibility_flag

PAGE_SIZE = 25
CHANGES_KIND = "change"
# Changes worth a line on the timeline, per model; the full record is in the History card.
IMPORTANT_FIELDS = {
    "account": {"owner", "type", "tier", "is_vip", "parent"},
    "contact": {"owner", "account", "email_opt_in", "do_not_call"},
    "opportunity": {"owner", "stage", "amount", "expected_close_date", "forecast_category"},
    "lead": {"owner", "status", "rating", "disqualify_reason"},
}


@dataclass
class FieldChange:
    """A timeline line for "Owner: Anna → Boris"."""

    occurred_at: datetime
    user: object
    changes: list[tuple[str, object, object]]
    reason: str = ""
    is_change: bool = True


@dataclass
class TimelineEntry:
    """A line another module puts on a record's timeline (a marketing e-mail opened): a source
    registered with `timeline_source` returns these."""

    occurred_at: datetime
    icon: str  # a Bootstrap Icons name
    title: str
    detail: str = ""
    url: str = ""
    pk: int = 0
    is_change: bool = False
    is_entry: bool = True


# model key ("contact") -> sources: (user, record, before, limit) -> entries, newest first, each one bounded
# query that shows nothing the user may not see. They join the "All" and the "E-mail" filters.
TimelineSource = Callable[[Any, Any, datetime | None, int], list[TimelineEntry]]
_SOURCES: dict[str, list[TimelineSource]] = {}
SOURCE_KINDS = ("", ActivityKind.EMAIL)


def timeline_source(model_key: str) -> Callable[[TimelineSource], TimelineSource]:
    """A module above activities adds its own lines to a record's timeline without activities naming it."""
    def register(source: TimelineSource) -> TimelineSource:
        known = _SOURCES.setdefault(model_key, [])
        if source not in known:
            known.append(source)
        return source
    return register


@dataclass
class TimelinePage:
    items: list
    next_cursor: str  # empty on the last page
    kind: str


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        when, pk = cursor.rsplit("|", 1)
        parsed = parse_datetime(when)
        return (parsed, int(pk)) if parsed else None
    except (ValueError, TypeError):
        return None


def _changes(subject, user, model_key: str, before: datetime | None, history=None) -> list[FieldChange]:
    important = IMPORTANT_FIELDS[model_key]
    labels = {str(subject._meta.get_field(name).verbose_name) for name in important}
    if history is None or before is not None:
        history = history_for(subject, user=user, limit=CHANGES_SCANNED, before=before)
    found = []
    for entry in history:
        if entry.action != "update":
            continue
        kept = [change for change in entry.changes if change[0] in labels]
        if kept:
            found.append(FieldChange(occurred_at=entry.when, user=entry.user, changes=kept, reason=entry.reason))
    return found


def timeline_page(*, user, account=None, contact=None, opportunity=None, lead=None, kind: str = "",
                  cursor: str = "", history=None) -> TimelinePage:
    """Activities: one indexed query on (account|contact|opportunity|lead, occurred_at desc, id desc).
    Field changes: the record's history events (pass `history` when the page has already read it).
    The caller has checked that the user may see the record; linked records are flagged so the
    page never names a hidden one."""
    activities = with_visibility_flag(with_visibility_flag(Activity.objects.alive(), user, "contact"), user,
                                      "account")
    if account is not None:
        subject, model_key = account, "account"
    elif contact is not None:
        subject, model_key = contact, "contact"
    elif opportunity is not None:
        subject, model_key = opportunity, "opportunity"
    elif lead is not None:
        subject, model_key = lead, "lead"
    else:
        raise ValueError("timeline_page needs one of account, contact, opportunity or lead")
    activities = activities.filter(**{model_key: subject})
    if kind not in ActivityKind.values and kind != CHANGES_KIND:
        kind = ""
    if kind in ActivityKind.values:
        activities = activities.filter(kind=kind)
    after = _parse_cursor(cursor) if cursor else None
    if after:
        when, pk = after
        activities = activities.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))

    rows: list = []
    if kind != CHANGES_KIND:
        rows = list(activities.select_related("owner", "contact", "account")
                    .order_by("-occurred_at", "-id")[: PAGE_SIZE + 1])
    if kind in ("", CHANGES_KIND):
        rows += _changes(subject, user, model_key, after[0] if after else None, history)
    if kind in SOURCE_KINDS:
        for source in _SOURCES.get(model_key, []):
            rows += source(user, subject, after[0] if after else None, PAGE_SIZE + 1)
    rows.sort(key=lambda item: (item.occurred_at, getattr(item, "pk", 0)), reverse=True)
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = ""
    if has_more and rows:
        last = rows[-1]
        next_cursor = f"{last.occurred_at.isoformat()}|{getattr(last, 'pk', 0) or 0}"
    return TimelinePage(items=rows, next_cursor=next_cursor, kind=kind)
