"""The calendar: meetings and tasks by day, week or month; drag to reschedule; a private iCalendar feed."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import icalendar
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from activities.calendar_services import activity_reschedule, user_regenerate_calendar_token
from activities.models import Activity, ActivityKind, TaskStatus
from crm import calendar as calendar_sources
from crm.models import Role, User
from crm.visibility import can_edit, get_editable_or_404, managed_team_ids

DAY, WEEK, MONTH = "day", "week", "month"
MINE, TEAM = "mine", "team"
# A month of a whole company is bounded too: past this many items the page says so.
MAX_ITEMS = 1000
FEED_MAX_ITEMS = 5000
FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=365)
# Meetings saved without an end still need one in other calendar apps.
DEFAULT_MEETING_LENGTH = timedelta(minutes=30)
# Week and day grids open scrolled to the working day.
WORKDAY_START_HOUR = 7
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2999, 12, 1)

ICAL_TODO_STATUS = {
    TaskStatus.OPEN: "NEEDS-ACTION",
    TaskStatus.DONE: "COMPLETED",
    TaskStatus.CANCELLED: "CANCELLED",
}
ICAL_PRIORITY = {"high": 1, "normal": 5, "low": 9}


# --- Reading: which activities the calendar shows -------------------------------


def wide_scope(user) -> str | None:
    """What "scope=team" means for this user: "all" (admin, executive), "team" (a manager) or None."""
    if user.is_admin or user.role == Role.EXECUTIVE:
        return "all"
    if managed_team_ids(user):
        return "team"
    return None


def calendar_queryset(user, *, scope: str, starts: datetime, ends: datetime) -> QuerySet:
    """Meetings and tasks starting (or due) in [starts, ends), always through the visibility policy.

    "mine" is what the user owns or attends; "team" adds the teams they manage, or everybody
    for admins and executives. One query whatever the number of rows."""
    mine = Q(owner_id=user.pk) | Q(
        pk__in=Activity.attendees.through.objects.filter(user_id=user.pk).values("activity_id")
    )
    wide = wide_scope(user) if scope == TEAM else None
    if wide == "all":
        who = Q()
    elif wide == "team":
        who = mine | Q(owner__team_id__in=managed_team_ids(user))
    else:
        who = mine
    return (
        Activity.objects.visible_to(user)
        .calendar_items()
        .filter(who, occurred_at__gte=starts, occurred_at__lt=ends)
        .select_related("owner", "account", "contact")
        .order_by("occurred_at", "pk")
    )


# --- The page --------------------------------------------------------------------


class CalendarQueryForm(forms.Form):
    """The URL's view, date and scope. A bad value falls back to its default instead of failing."""

    view = forms.ChoiceField(choices=[(DAY, DAY), (WEEK, WEEK), (MONTH, MONTH)], required=False)
    date = forms.DateField(input_formats=["%Y-%m-%d"], required=False)
    scope = forms.ChoiceField(choices=[(MINE, MINE), (TEAM, TEAM)], required=False)

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise ValidationError("out of range")
        return value

    def values(self, *, today: date, can_widen: bool) -> tuple[str, date, str]:
        self.is_valid()
        data = self.cleaned_data
        scope = data.get("scope") or MINE
        return data.get("view") or WEEK, data.get("date") or today, scope if can_widen else MINE


@dataclass
class CalendarItem:
    activity: Activity
    starts: datetime  # in the viewer's time zone
    ends: datetime | None
    url: str
    editable: bool
    # In the day and week grids: where the item sits (CSS classes, the CSP allows no inline style).
    layout: str = ""

    @property
    def done(self) -> bool:
        return self.activity.kind == ActivityKind.TASK and self.activity.status in (TaskStatus.DONE,
                                                                                     TaskStatus.CANCELLED)


QUARTER = timedelta(minutes=15)
MAX_LANES = 4


def _lay_out(items: list[CalendarItem]) -> None:
    """Sizes a day's items by their duration and puts items that overlap side by side: an item is as
    tall as its meeting (in quarter hours, to the end of the day; a task or a meeting without an end is
    half an hour), starts at its minute within the hour, and takes one lane of its overlapping group."""
    group: list[tuple[CalendarItem, int]] = []
    group_end: datetime | None = None
    lane_ends: list[datetime] = []

    def close_group() -> None:
        lanes = min(MAX_LANES, max((lane for member, lane in group), default=0) + 1)
        for member, lane in group:
            member.layout += f" cal-lanes-{lanes} cal-lane-{min(lane, MAX_LANES - 1)}"

    for item in sorted(items, key=lambda item: item.starts):
        midnight = item.starts.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        ends = item.ends if item.ends and item.ends > item.starts else item.starts + 2 * QUARTER
        ends = min(ends, midnight)
        quarters = max(1, min(96, -(-(ends - item.starts) // QUARTER)))
        item.layout = f"cal-timed cal-q{quarters} cal-at{item.starts.minute // 15}"
        if group_end is not None and item.starts >= group_end:
            close_group()
            group, lane_ends, group_end = [], [], None
        lane = next((index for index, end in enumerate(lane_ends) if end <= item.starts), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(ends)
        else:
            lane_ends[lane] = ends
        group.append((item, lane))
        group_end = ends if group_end is None else max(group_end, ends)
    if group:
        close_group()


@dataclass
class EntryItem:
    """An entry another module puts on the calendar (crm/calendar.py): shown, not dragged."""

    entry: calendar_sources.Entry
    starts: datetime  # in the viewer's time zone
    ends: datetime | None
    url: str
    editable: bool = False
    layout: str = ""  # set by _lay_out, as for activities


def calendar_who(user, scope: str) -> calendar_sources.Who:
    """The people a calendar source reads for this scope (the same circle as calendar_queryset)."""
    wide = wide_scope(user) if scope == TEAM else None
    if wide == "all":
        return calendar_sources.Who(user_id=user.pk, everyone=True)
    if wide == "team":
        return calendar_sources.Who(user_id=user.pk, team_ids=managed_team_ids(user))
    return calendar_sources.Who(user_id=user.pk)


@dataclass
class Slot:
    date: date
    hour: int
    items: list["CalendarItem | EntryItem"] = field(default_factory=list)


@dataclass
class Day:
    date: date
    is_today: bool
    in_period: bool = True
    items: list["CalendarItem | EntryItem"] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)


def _zone() -> tzinfo:
    # UserTimezoneMiddleware has activated the signed-in user's own time zone.
    return timezone.get_current_timezone()


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _period(view: str, anchor: date) -> tuple[date, date, date, date]:
    """(first shown day, day after the last, previous anchor, next anchor)."""
    if view == DAY:
        return anchor, anchor + timedelta(days=1), anchor - timedelta(days=1), anchor + timedelta(days=1)
    if view == WEEK:
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=7), monday - timedelta(days=7), monday + timedelta(days=7)
    first = anchor.replace(day=1)
    grid_start = first - timedelta(days=first.weekday())
    previous_month = (first - timedelta(days=1)).replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return grid_start, grid_start + timedelta(days=42), previous_month, next_month


def _calendar_url(view: str, day: date, scope: str) -> str:
    return reverse("calendar") + "?" + urlencode({"view": view, "date": day.isoformat(), "scope": scope})


def _period_label(view: str, anchor: date, first: date, last: date) -> str:
    if view == DAY:
        return formats.date_format(anchor, "l, j E Y")  # E: "7 декабря" in Russian, "7 December" in English
    if view == MONTH:
        return formats.date_format(anchor, "YEAR_MONTH_FORMAT")
    day_month = formats.get_format("MONTH_DAY_FORMAT")  # "7 Dec", "7 декабря", "7 грудня"
    return _("%(first)s – %(last)s") % {
        "first": formats.date_format(first, day_month if first.year == last.year else f"{day_month} Y"),
        "last": formats.date_format(last, f"{day_month} Y"),
    }


def _feed_url(request, user) -> str:
    return request.build_absolute_uri(reverse("calendar_feed", args=[user.calendar_token]))


def calendar(request):
    user = request.user
    zone = _zone()
    today = timezone.localdate(timezone=zone)
    wide = wide_scope(user)
    view, anchor, scope = CalendarQueryForm(request.GET).values(today=today, can_widen=wide is not None)
    first, after_last, previous_anchor, next_anchor = _period(view, anchor)

    rows = list(
        calendar_queryset(
            user, scope=scope, starts=_local_midnight(first, zone), ends=_local_midnight(after_last, zone)
        )[: MAX_ITEMS + 1]
    )
    truncated = len(rows) > MAX_ITEMS
    days = [
        Day(date=first + timedelta(days=offset), is_today=first + timedelta(days=offset) == today)
        for offset in range((after_last - first).days)
    ]
    by_date = {day.date: day for day in days}
    if view != MONTH:
        for day in days:
            day.slots = [Slot(date=day.date, hour=hour) for hour in range(24)]
    else:
        for day in days:
            day.in_period = day.date.month == anchor.month

    items = []
    for activity in rows[:MAX_ITEMS]:
        starts = activity.occurred_at.astimezone(zone)
        item = CalendarItem(
            activity=activity,
            starts=starts,
            ends=activity.ends_at.astimezone(zone) if activity.ends_at else None,
            url=activity.get_absolute_url(),
            editable=can_edit(user, activity),
        )
        items.append(item)
        day = by_date.get(starts.date())
        if day is None:  # cannot happen for rows inside the period; skip rather than fail
            continue
        day.items.append(item)
        if day.slots:
            day.slots[starts.hour].items.append(item)

    # Visits and other entries the modules below activities register (crm/calendar.py).
    starts_at, ends_at = _local_midnight(first, zone), _local_midnight(after_last, zone)
    for entry in calendar_sources.entries(user, calendar_who(user, scope), starts_at, ends_at):
        local = entry.starts.astimezone(zone)
        entry_item = EntryItem(entry=entry, starts=local, ends=entry.ends.astimezone(zone) if entry.ends else None,
                               url=entry.url)
        items.append(entry_item)
        day = by_date.get(local.date())
        if day is None:
            continue
        day.items.append(entry_item)
        if day.slots:
            day.slots[local.hour].items.append(entry_item)
    for day in days:
        day.items.sort(key=lambda item: item.starts)
        for slot in day.slots:
            slot.items.sort(key=lambda item: item.starts)

    if view != MONTH:
        for day in days:
            _lay_out(day.items)
    scroll_hour = min([WORKDAY_START_HOUR] + [item.starts.hour for item in items])
    views = [(DAY, _("Day")), (WEEK, _("Week")), (MONTH, _("Month"))]
    scopes = [(MINE, _("Mine"))]
    if wide:
        scopes.append((TEAM, _("Everyone") if wide == "all" else _("My team")))
    context = {
        "view": view,
        "scope": scope,
        "anchor": anchor,
        "today": today,
        "days": days,
        "weeks": [days[start:start + 7] for start in range(0, len(days), 7)] if view == MONTH else [],
        "weekday_names": [formats.date_format(day.date, "D") for day in days[:7]],
        "hours": [f"{hour:02d}:00" for hour in range(24)],
        "items": items,
        "truncated": truncated,
        "max_items": MAX_ITEMS,
        "show_owner": scope == TEAM,
        "scroll_hour": scroll_hour,
        "period_label": _period_label(view, anchor, first, after_last - timedelta(days=1)),
        "previous_url": _calendar_url(view, previous_anchor, scope),
        "next_url": _calendar_url(view, next_anchor, scope),
        "today_url": _calendar_url(view, today, scope),
        "view_links": [(key, label, _calendar_url(key, anchor, scope)) for key, label in views],
        "scope_links": [(key, label, _calendar_url(view, anchor, key)) for key, label in scopes],
        "time_zone": str(zone),
    }
    return render(request, "activities/calendar.html", context)


# --- Drag to reschedule ----------------------------------------------------------


class RescheduleForm(forms.Form):
    activity = forms.IntegerField(min_value=1)
    # A local date-time ("2025-03-31T14:30") is read in the user's own time zone.
    starts_at = forms.DateTimeField()

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if not EARLIEST_DATE <= value.date() <= LATEST_DATE:
            raise ValidationError(_("Pick a date between 1900 and 2999."))
        return value


def _form_error(form: forms.Form) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)


@require_POST
def calendar_reschedule(request):
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "error": _form_error(form)}, status=400)
    activity = get_editable_or_404(Activity.objects.calendar_items(), request.user, pk=form.cleaned_data["activity"])
    try:
        activity = activity_reschedule(activity=activity, actor=request.user, starts_at=form.cleaned_data["starts_at"])
    except ValidationError as error:
        return JsonResponse({"ok": False, "error": " ".join(error.messages)}, status=400)
    local = activity.occurred_at.astimezone(_zone())
    return JsonResponse(
        {
            "ok": True,
            "id": activity.pk,
            "starts_at": activity.occurred_at.isoformat(),
            "ends_at": activity.ends_at.isoformat() if activity.ends_at else None,
            "date": local.date().isoformat(),
            "time": local.strftime("%H:%M"),
            "message": _("“%(subject)s” moved to %(when)s.")
            % {"subject": activity.subject,
               "when": formats.date_format(local, f"D {formats.get_format('MONTH_DAY_FORMAT')}, H:i")},
        }
    )


# --- Subscription feed -----------------------------------------------------------


@require_POST
def calendar_token_regenerate(request):
    user_regenerate_calendar_token(user=request.user)
    messages.success(request, _("Your calendar has a new subscription link. The old link no longer works."))
    return redirect(reverse("profile") + "#subscribe")


def _description(activity: Activity) -> str:
    lines = [activity.body.strip()] if activity.body.strip() else []
    if activity.account_id:
        lines.append(_("Account: %(name)s") % {"name": activity.account})
    if activity.contact_id:
        lines.append(_("Contact: %(name)s") % {"name": activity.contact})
    return "\n".join(lines)


def _ical_component(activity: Activity, *, url: str) -> icalendar.Event | icalendar.Todo:
    starts = activity.occurred_at.astimezone(UTC)
    if activity.kind == ActivityKind.MEETING:
        component = icalendar.Event()
        component.add("dtstart", starts)
        if activity.ends_at and activity.ends_at > activity.occurred_at:
            ends = activity.ends_at
        elif activity.duration_minutes:
            ends = activity.occurred_at + timedelta(minutes=activity.duration_minutes)
        else:
            ends = activity.occurred_at + DEFAULT_MEETING_LENGTH
        component.add("dtend", ends.astimezone(UTC))
        component.add("status", "CONFIRMED")
        component.add("transp", "OPAQUE")
    else:
        component = icalendar.Todo()
        component.add("due", starts)
        component.add("status", ICAL_TODO_STATUS.get(activity.status, "NEEDS-ACTION"))
        if activity.status == TaskStatus.DONE and activity.completed_at:
            component.add("completed", activity.completed_at.astimezone(UTC))
    component.add("uid", f"activity-{activity.pk}@crm")
    component.add("dtstamp", activity.updated_at.astimezone(UTC))
    component.add("created", activity.created_at.astimezone(UTC))
    component.add("last-modified", activity.updated_at.astimezone(UTC))
    component.add("summary", activity.subject)
    component.add("priority", ICAL_PRIORITY.get(activity.priority, 5))
    if activity.location:
        component.add("location", activity.location)
    description = _description(activity)
    if description:
        component.add("description", description)
    component.add("url", url)
    return component


def build_feed(*, user: User, activities, absolute_url, entries=()) -> bytes:
    feed = icalendar.Calendar()
    feed.add("prodid", "-//CRM//Calendar feed//EN")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", _("%(app_name)s: %(name)s") % {"app_name": settings.APP_NAME, "name": user})
    feed.add("x-wr-timezone", user.time_zone)
    # Ask subscribing apps to refresh hourly (the de-facto and the RFC 7986 spelling).
    feed.add("x-published-ttl", timedelta(hours=1))
    feed.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for activity in activities:
        feed.add_component(_ical_component(activity, url=absolute_url(activity.get_absolute_url())))
    for entry in entries:
        feed.add_component(_ical_entry(entry, url=absolute_url(entry.url)))
    return feed.to_ical()


def _ical_entry(entry: calendar_sources.Entry, *, url: str) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", f"{entry.key}@crm")
    component.add("dtstart", entry.starts.astimezone(UTC))
    component.add("dtend", (entry.ends or entry.starts + DEFAULT_MEETING_LENGTH).astimezone(UTC))
    component.add("dtstamp", (entry.updated_at or entry.starts).astimezone(UTC))
    component.add("summary", entry.title)
    component.add("status", "CONFIRMED")
    if entry.location:
        component.add("location", entry.location)
    if entry.description:
        component.add("description", entry.description)
    component.add("url", url)
    return component


@login_not_required
@never_cache
@require_GET
def calendar_feed(request, token: str):
    """The private subscription feed; the secret token in the address is the only credential."""
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None:
        raise Http404
    now = timezone.now()
    activities = calendar_queryset(user, scope=MINE, starts=now - FEED_PAST, ends=now + FEED_FUTURE)
    with translation.override(user.language):
        entries = calendar_sources.entries(user, calendar_sources.Who(user_id=user.pk), now - FEED_PAST,
                                           now + FEED_FUTURE)
        body = build_feed(
            user=user, activities=activities[:FEED_MAX_ITEMS], absolute_url=request.build_absolute_uri,
            entries=entries[:FEED_MAX_ITEMS],
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm-calendar.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response

