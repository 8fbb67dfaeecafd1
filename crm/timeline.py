"""The unified timeline of a customer: newest first, keyset-paged, constant queries."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from crm.models import Activity, ActivityKind
from crm.visibility import with_visibility_flag

PAGE_SIZE = 25


@dataclass
class TimelinePage:
    items: list[Activity]
    next_cursor: str  # empty on the last page
    kind: str


def _cursor(activity: Activity) -> str:
    return f"{activity.occurred_at.isoformat()}|{activity.pk}"


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        when, pk = cursor.rsplit("|", 1)
        parsed = parse_datetime(when)
        return (parsed, int(pk)) if parsed else None
    except (ValueError, TypeError):
        return None


def timeline_page(*, user, account=None, contact=None, kind: str = "", cursor: str = "") -> TimelinePage:
    """One indexed query: (account|contact, occurred_at desc, id desc). The caller has checked
    that the user may see the account or contact; linked records are flagged so the page
    never names one the user may not see."""
    activities = with_visibility_flag(with_visibility_flag(Activity.objects.alive(), user, "contact"), user,
                                      "account")
    if account is not None:
        activities = activities.filter(account=account)
    if contact is not None:
        activities = activities.filter(contact=contact)
    if kind in ActivityKind.values:
        activities = activities.filter(kind=kind)
    else:
        kind = ""
    after = _parse_cursor(cursor) if cursor else None
    if after:
        when, pk = after
        activities = activities.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, pk__lt=pk))
    rows = list(
        activities.select_related("owner", "contact", "account").order_by("-occurred_at", "-id")[: PAGE_SIZE + 1]
    )
    has_more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return TimelinePage(items=rows, next_cursor=_cursor(rows[-1]) if has_more else "", kind=kind)
