"""The calendar: day/week/month pages, team scope, drag-to-reschedule endpoint, iCalendar feed."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AccountFactory
from activities.calendar_services import activity_reschedule, user_regenerate_calendar_token
from activities.models import Activity, Reminder, ReminderStatus, TaskStatus

pytestmark = pytest.mark.django_db

CALENDAR = "/calendar/"


def meeting(owner, subject="Kick-off", *, starts, minutes=60, **extra):
    return Activity.objects.create(
        owner=owner, team=owner.team, kind="meeting", subject=subject,
        occurred_at=starts, ends_at=starts + timedelta(minutes=minutes), **extra,
    )


def task(owner, subject="Send the quote", *, due, status=TaskStatus.OPEN, **extra):
    return Activity.objects.create(
        owner=owner, team=owner.team, kind="task", subject=subject, occurred_at=due, status=status, **extra
    )


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def shown(response) -> list[str]:
    return [item.activity.subject for item in response.context["items"]]


def slot_of(response, subject):
    """(local date, hour) of the slot that holds the item, from the rendered grid."""
    for day in response.context["days"]:
        for slot in day.slots:
            if any(item.activity.subject == subject for item in slot.items):
                return slot.date.isoformat(), slot.hour
    return None


def set_zone(user, name):
    user.time_zone = name
    user.save(update_fields=["time_zone"])


# --- The page ----------------------------------------------------------------------


def test_calendar_requires_sign_in(client):
    response = client.get(CALENDAR)
    assert response.status_code == 302
    assert "/auth/login/" in response["Location"]


def test_week_view_shows_items_in_the_users_time_zone(client, owner):
    set_zone(owner, "America/New_York")
    meeting(owner, "Pipeline review", starts=utc(2025, 6, 10, 14, 0))  # 10:00 in New York
    # 02:30 UTC on Monday is still Sunday evening in New York: the week before.
    meeting(owner, "Late call", starts=utc(2025, 6, 9, 2, 30))
    client.force_login(owner)

    response = client.get(CALENDAR, {"view": "week", "date": "2025-06-11"})

    assert response.status_code == 200
    assert [day.date.isoformat() for day in response.context["days"]][0] == "2025-06-09"
    assert len(response.context["days"]) == 7
    assert shown(response) == ["Pipeline review"]
    assert slot_of(response, "Pipeline review") == ("2025-06-10", 10)
    content = response.content.decode()
    assert ">10:00<" in content and "–11:00" in content
    assert "America/New_York" in content
    assert 'href="/activities/new/?kind=meeting"' in content

    previous = client.get(CALENDAR, {"view": "week", "date": "2025-06-02"})
    assert slot_of(previous, "Late call") == ("2025-06-08", 22)


def test_week_across_the_spring_daylight_saving_change_in_london(client, owner):
    """Clocks go forward at 01:00 UTC on Sunday 30 March 2025: the week ends at 23:00 UTC."""
    set_zone(owner, "Europe/London")
    meeting(owner, "Monday early", starts=utc(2025, 3, 24, 0, 10))        # 00:10 GMT, Mon 24
    meeting(owner, "Saturday GMT", starts=utc(2025, 3, 29, 10, 0))        # 10:00 GMT, Sat 29
    meeting(owner, "Sunday BST", starts=utc(2025, 3, 30, 9, 0))           # 10:00 BST, Sun 30
    meeting(owner, "Next Monday", starts=utc(2025, 3, 30, 23, 30))        # 00:30 BST, Mon 31
    client.force_login(owner)

    response = client.get(CALENDAR, {"view": "week", "date": "2025-03-27"})

    assert shown(response) == ["Monday early", "Saturday GMT", "Sunday BST"]
    assert slot_of(response, "Monday early") == ("2025-03-24", 0)
    assert slot_of(response, "Saturday GMT") == ("2025-03-29", 10)
    assert slot_of(response, "Sunday BST") == ("2025-03-30", 10)

    following = client.get(CALENDAR, {"view": "week", "date": "2025-03-31"})
    assert shown(following) == ["Next Monday"]
    assert slot_of(following, "Next Monday") == ("2025-03-31", 0)


def test_day_across_the_autumn_change_has_25_hours_of_items(client, owner):
    set_zone(owner, "Europe/London")
    meeting(owner, "Just after midnight", starts=utc(2025, 10, 25, 23, 5))  # 00:05 BST, Sun 26
    meeting(owner, "Just before midnight", starts=utc(2025, 10, 26, 23, 55))  # 23:55 GMT, Sun 26
    meeting(owner, "Monday", starts=utc(2025, 10, 27, 0, 5))
    client.force_login(owner)

    response = client.get(CALENDAR, {"view": "day", "date": "2025-10-26"})

    assert response.status_code == 200
    assert shown(response) == ["Just after midnight", "Just before midnight"]
    assert slot_of(response, "Just before midnight") == ("2025-10-26", 23)
    assert len(response.context["days"][0].slots) == 24


def test_month_view_is_a_six_week_grid(client, owner):
    meeting(owner, "Board meeting", starts=utc(2025, 2, 14, 9, 0))
    task(owner, "Renewal call list", due=utc(2025, 3, 2, 17, 0))  # shown greyed, in the grid's last row
    client.force_login(owner)

    response = client.get(CALENDAR, {"view": "month", "date": "2025-02-20"})

    assert response.status_code == 200
    days = response.context["days"]
    assert len(days) == 42 and len(response.context["weeks"]) == 6
    assert days[0].date.isoformat() == "2025-01-27" and days[0].date.weekday() == 0
    by_date = {day.date.isoformat(): day for day in days}
    assert [item.activity.subject for item in by_date["2025-02-14"].items] == ["Board meeting"]
    assert [item.activity.subject for item in by_date["2025-03-02"].items] == ["Renewal call list"]
    assert not by_date["2025-03-02"].in_period
    content = response.content.decode()
    assert "February 2025" in content
    assert "view=month&amp;date=2025-01-01" in content and "view=month&amp;date=2025-03-01" in content


def test_navigation_and_view_links_keep_view_date_and_scope(client, manager):
    client.force_login(manager)
    response = client.get(CALENDAR, {"view": "day", "date": "2025-06-11", "scope": "team"})
    assert response.context["previous_url"] == "/calendar/?view=day&date=2025-06-10&scope=team"
    assert response.context["next_url"] == "/calendar/?view=day&date=2025-06-12&scope=team"
    today = timezone.localdate()
    assert response.context["today_url"] == f"/calendar/?view=day&date={today.isoformat()}&scope=team"
    assert ("week", "Week", "/calendar/?view=week&date=2025-06-11&scope=team") in response.context["view_links"]


def test_bad_parameters_fall_back_to_this_week(client, owner):
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "year", "date": "31/12/2025", "scope": "galaxy"})
    assert response.status_code == 200
    assert response.context["view"] == "week" and response.context["scope"] == "mine"
    assert response.context["anchor"] == timezone.localdate()
    far = client.get(CALENDAR, {"date": "0001-01-01"})
    assert far.status_code == 200 and far.context["anchor"] == timezone.localdate()


def test_empty_calendar_says_what_it_is_for(client, owner):
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "month", "date": "2030-01-15"})
    content = response.content.decode()
    assert "meetings and tasks you own or attend" in content
    assert 'href="/activities/new/?kind=meeting"' in content


def test_only_meetings_and_tasks_that_i_own_or_attend(client, owner, teammate):
    day = utc(2025, 6, 10, 9, 0)
    meeting(owner, "Mine", starts=day)
    task(owner, "My task", due=day + timedelta(hours=1))
    Activity.objects.create(owner=owner, team=owner.team, kind="call", subject="A call", occurred_at=day)
    invited = meeting(teammate, "Teammate invited me", starts=day + timedelta(hours=2), shared_with_team=True)
    invited.attendees.add(owner)
    meeting(teammate, "Teammate alone", starts=day + timedelta(hours=3), shared_with_team=True)
    gone = meeting(owner, "Deleted", starts=day)
    gone.deleted_at = timezone.now()
    gone.save(update_fields=["deleted_at"])
    client.force_login(owner)

    response = client.get(CALENDAR, {"view": "day", "date": "2025-06-10"})

    assert shown(response) == ["Mine", "My task", "Teammate invited me"]


def test_an_outsiders_meeting_never_shows(client, owner, outsider, manager, executive):
    account = AccountFactory(owner=owner)
    day = utc(2025, 6, 10, 9, 0)
    secret = meeting(outsider, "Outsider secret", starts=day)
    meeting(owner, "Mine", starts=day, account=account)

    for user, scope in [(owner, "mine"), (owner, "team"), (manager, "team"), (manager, "mine")]:
        client.force_login(user)
        response = client.get(CALENDAR, {"view": "week", "date": "2025-06-10", "scope": scope})
        assert "Outsider secret" not in response.content.decode(), (user, scope)

    secret.attendees.add(owner)  # an invited colleague sees the meeting (docs/architecture.md)
    client.force_login(owner)
    invited = client.get(CALENDAR, {"view": "week", "date": "2025-06-10"})
    assert "Outsider secret" in invited.content.decode()

    client.force_login(executive)
    everyone = client.get(CALENDAR, {"view": "week", "date": "2025-06-10", "scope": "team"})
    assert set(shown(everyone)) == {"Outsider secret", "Mine"}


def test_team_scope_for_a_manager(client, owner, teammate, manager, outsider):
    day = utc(2025, 6, 10, 9, 0)
    meeting(owner, "Owner demo", starts=day)
    meeting(teammate, "Teammate demo", starts=day + timedelta(hours=1))
    meeting(manager, "Manager one-to-one", starts=day + timedelta(hours=2))
    meeting(outsider, "Other team demo", starts=day)
    client.force_login(manager)

    mine = client.get(CALENDAR, {"view": "week", "date": "2025-06-10"})
    team = client.get(CALENDAR, {"view": "week", "date": "2025-06-10", "scope": "team"})

    assert shown(mine) == ["Manager one-to-one"]
    assert shown(team) == ["Owner demo", "Teammate demo", "Manager one-to-one"]
    assert "My team" in team.content.decode()
    assert all(item.editable for item in team.context["items"])


def test_team_scope_falls_back_to_mine_for_a_rep(client, owner, teammate):
    meeting(teammate, "Teammate demo", starts=utc(2025, 6, 10, 9, 0))
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "week", "date": "2025-06-10", "scope": "team"})
    assert response.context["scope"] == "mine"
    assert shown(response) == []
    assert "My team" not in response.content.decode()


# Session, user, managed teams, the activities, and what base.html reads for every page.
PAGE_QUERY_BUDGET = 10


def test_constant_number_of_queries(client, owner, teammate, django_assert_max_num_queries):
    account = AccountFactory(owner=owner)
    start = utc(2025, 6, 9, 8, 0)

    def add(numbers):
        for number in numbers:
            item = meeting(owner, f"Meeting {number}", starts=start + timedelta(hours=number * 3), account=account)
            item.attendees.add(teammate)

    def count_queries(view, budget):
        with django_assert_max_num_queries(budget) as captured:
            response = client.get(CALENDAR, {"view": view, "date": "2025-06-09"})
        assert response.status_code == 200
        return len(captured), len(response.context["items"])

    client.force_login(owner)
    client.get(CALENDAR)  # the first request after sign-in also renews the session
    add(range(1))
    with_one = {view: count_queries(view, PAGE_QUERY_BUDGET) for view in ("day", "week", "month")}
    add(range(1, 30))  # every three hours from Monday 08:00: six on Monday, all 30 in the week
    shown_with_thirty = {"day": 6, "week": 30, "month": 30}
    for view, (queries, items) in with_one.items():
        assert items == 1
        assert count_queries(view, queries) == (queries, shown_with_thirty[view])


def test_subscribe_panel_shows_the_absolute_feed_address(client, owner):
    """On the profile (a personal setting); the calendar page only links to it."""
    client.force_login(owner)
    assert owner.calendar_token not in client.get(CALENDAR).content.decode()
    response = client.get(reverse("profile"))
    content = response.content.decode()
    assert f"http://testserver/calendar/feed/{owner.calendar_token}.ics" in content
    assert f"webcal://testserver/calendar/feed/{owner.calendar_token}.ics" in content
    assert reverse("calendar_token_regenerate") in content


def test_the_page_has_no_inline_script_or_style(client, owner):
    meeting(owner, starts=timezone.now())
    client.force_login(owner)
    content = client.get(CALENDAR).content.decode()
    assert "style=" not in content
    assert "<script>" not in content
    assert "crm/calendar.js" in content and "crm/calendar.css" in content


# --- Drag to reschedule ----------------------------------------------------------------


def reschedule(client, activity_id, starts_at):
    return client.post(reverse("calendar_reschedule"), {"activity": activity_id, "starts_at": starts_at})


def test_reschedule_moves_a_meeting_and_keeps_its_length(client, owner):
    set_zone(owner, "Europe/London")
    item = meeting(owner, "Demo", starts=utc(2025, 6, 10, 9, 0), minutes=90)
    client.force_login(owner)

    response = reschedule(client, item.pk, "2025-06-12T15:30")  # 15:30 BST

    assert response.status_code == 200
    data = response.json()
    assert data["ok"] and data["date"] == "2025-06-12" and data["time"] == "15:30"
    assert "Demo" in data["message"]
    item.refresh_from_db()
    assert item.occurred_at == utc(2025, 6, 12, 14, 30)
    assert item.ends_at == utc(2025, 6, 12, 16, 0)


def test_reschedule_a_task_without_an_end(client, owner):
    item = task(owner, due=utc(2025, 6, 10, 17, 0))
    client.force_login(owner)
    assert reschedule(client, item.pk, "2025-06-11T17:00").status_code == 200
    item.refresh_from_db()
    assert item.occurred_at == utc(2025, 6, 11, 17, 0) and item.ends_at is None


def test_manager_reschedules_a_team_members_meeting(client, owner, manager):
    item = meeting(owner, starts=utc(2025, 6, 10, 9, 0))
    client.force_login(manager)
    assert reschedule(client, item.pk, "2025-06-10T11:00").status_code == 200


def test_forged_id_of_a_hidden_meeting_is_404_and_changes_nothing(client, owner, outsider):
    item = meeting(outsider, "Outsider secret", starts=utc(2025, 6, 10, 9, 0))
    client.force_login(owner)
    response = reschedule(client, item.pk, "2025-06-12T10:00")
    assert response.status_code == 404
    assert "Outsider secret" not in response.content.decode()
    item.refresh_from_db()
    assert item.occurred_at == utc(2025, 6, 10, 9, 0)
    assert reschedule(client, 987654321, "2025-06-12T10:00").status_code == 404


def test_executive_may_see_but_not_reschedule(client, owner, executive):
    item = meeting(owner, starts=utc(2025, 6, 10, 9, 0))
    client.force_login(executive)
    assert reschedule(client, item.pk, "2025-06-12T10:00").status_code == 403
    item.refresh_from_db()
    assert item.occurred_at == utc(2025, 6, 10, 9, 0)


def test_only_meetings_and_tasks_can_be_rescheduled(client, owner):
    call = Activity.objects.create(
        owner=owner, team=owner.team, kind="call", subject="Call", occurred_at=timezone.now()
    )
    client.force_login(owner)
    assert reschedule(client, call.pk, "2025-06-12T10:00").status_code == 404


def test_reschedule_rejects_bad_input(client, owner):
    item = meeting(owner, starts=utc(2025, 6, 10, 9, 0))
    client.force_login(owner)
    response = reschedule(client, item.pk, "next tuesday")
    assert response.status_code == 400 and response.json()["ok"] is False
    assert reschedule(client, "abc", "2025-06-12T10:00").status_code == 400
    assert client.get(reverse("calendar_reschedule")).status_code == 405


def test_reschedule_needs_a_csrf_token(owner):
    from django.test import Client

    item = meeting(owner, starts=utc(2025, 6, 10, 9, 0))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert reschedule(strict, item.pk, "2025-06-12T10:00").status_code == 403


def test_reschedule_service_moves_the_reminders_too(owner, teammate):
    item = meeting(owner, starts=utc(2025, 6, 10, 9, 0), remind_minutes_before=15)
    Reminder.objects.create(activity=item, user=owner, fire_at=utc(2025, 6, 10, 8, 45))
    activity_reschedule(activity=item, actor=owner, starts_at=utc(2025, 6, 11, 9, 0))
    reminder = Reminder.objects.get(activity=item, user=owner)
    assert reminder.fire_at == utc(2025, 6, 11, 8, 45) and reminder.status == ReminderStatus.PENDING


def test_reschedule_service_refuses_a_reader(owner, executive):
    from django.core.exceptions import PermissionDenied

    item = meeting(owner, starts=utc(2025, 6, 10, 9, 0))
    with pytest.raises(PermissionDenied):
        activity_reschedule(activity=item, actor=executive, starts_at=utc(2025, 6, 11, 9, 0))


# --- The iCalendar feed ---------------------------------------------------------------


def feed_url(user):
    return reverse("calendar_feed", args=[user.calendar_token])


def test_feed_is_valid_icalendar_with_events_and_todos(client, owner, teammate, outsider,
                                                       django_assert_max_num_queries):
    now = timezone.now().replace(microsecond=0)
    account = AccountFactory(owner=owner, name="Initech")
    demo = meeting(owner, "Demo, with commas; and semicolons", starts=now + timedelta(days=2), minutes=45,
                   location="Room 4", body="Bring the\nprototype", account=account)
    invited = meeting(teammate, "Teammate invited me", starts=now + timedelta(days=3), shared_with_team=True)
    invited.attendees.add(owner)
    task(owner, "Open task", due=now + timedelta(days=1))
    done = task(owner, "Done task", due=now - timedelta(days=1), status=TaskStatus.DONE, completed_at=now)
    task(owner, "Cancelled task", due=now - timedelta(days=2), status=TaskStatus.CANCELLED)
    meeting(owner, "Long ago", starts=now - timedelta(days=120))
    meeting(owner, "Far away", starts=now + timedelta(days=400))
    meeting(outsider, "Outsider secret", starts=now + timedelta(days=2))
    Activity.objects.create(owner=owner, team=owner.team, kind="call", subject="A call", occurred_at=now)

    with django_assert_max_num_queries(3):  # the user by token, the activities (and a savepoint at most)
        response = client.get(feed_url(owner))  # no session: the token is the credential

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content.decode()
    assert "Outsider secret" not in raw and "Long ago" not in raw and "A call" not in raw
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert calendar["PRODID"] and calendar["X-WR-CALNAME"]
    events = calendar.walk("VEVENT")
    todos = calendar.walk("VTODO")
    assert sorted(str(event["SUMMARY"]) for event in events) == [
        "Demo, with commas; and semicolons", "Teammate invited me"
    ]
    assert len(todos) == 3

    event = next(event for event in events if str(event["UID"]) == f"activity-{demo.pk}@crm")
    assert event.decoded("DTSTART") == demo.occurred_at
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=45)
    assert "DTSTART:" + demo.occurred_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") in raw
    assert str(event["LOCATION"]) == "Room 4"
    assert "prototype" in str(event["DESCRIPTION"]) and "Initech" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == f"http://testserver{demo.get_absolute_url()}"
    assert "DTSTAMP" in event

    statuses = {str(todo["SUMMARY"]): str(todo["STATUS"]) for todo in todos}
    assert statuses == {"Open task": "NEEDS-ACTION", "Done task": "COMPLETED", "Cancelled task": "CANCELLED"}
    done_todo = next(todo for todo in todos if str(todo["UID"]) == f"activity-{done.pk}@crm")
    assert done_todo.decoded("DUE") == done.occurred_at


def test_feed_answers_404_for_an_unknown_token_or_an_inactive_user(client, owner):
    assert client.get(reverse("calendar_feed", args=["not-a-real-token"])).status_code == 404
    url = feed_url(owner)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


def test_regenerating_the_token_cuts_off_the_old_address(client, owner):
    old_url = feed_url(owner)
    assert client.get(old_url).status_code == 200
    client.force_login(owner)

    response = client.post(reverse("calendar_token_regenerate"))

    assert response.status_code == 302
    assert response["Location"] == "/profile/#subscribe"
    owner.refresh_from_db()
    assert feed_url(owner) != old_url
    client.logout()
    assert client.get(old_url).status_code == 404
    assert client.get(feed_url(owner)).status_code == 200


def test_regenerate_is_post_only(client, owner):
    client.force_login(owner)
    token = owner.calendar_token
    assert client.get(reverse("calendar_token_regenerate")).status_code == 405
    owner.refresh_from_db()
    assert owner.calendar_token == token


def test_regenerate_service_sets_a_new_unique_token(owner, teammate):
    before = owner.calendar_token
    user_regenerate_calendar_token(user=owner)
    owner.refresh_from_db()
    assert owner.calendar_token != before and len(owner.calendar_token) >= 40
    assert owner.calendar_token != teammate.calendar_token


def test_day_and_week_items_are_as_tall_as_their_meeting_and_overlaps_share_the_column():
    """Layout classes: an hour is four quarters, a 90-minute meeting six; two overlapping meetings take one
    lane each, a later one the whole width again."""
    from activities.calendar_views import CalendarItem, _lay_out

    nine = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)

    def item(start_minutes: int, minutes: int | None) -> CalendarItem:
        starts = nine + timedelta(minutes=start_minutes)
        ends = starts + timedelta(minutes=minutes) if minutes is not None else None
        return CalendarItem(activity=None, starts=starts, ends=ends, url="", editable=False)

    hour, overlapping, task, later = item(0, 60), item(30, 90), item(45, None), item(240, 30)
    _lay_out([later, task, overlapping, hour])
    assert hour.layout.split() == ["cal-timed", "cal-q4", "cal-at0", "cal-lanes-3", "cal-lane-0"]
    assert overlapping.layout.split() == ["cal-timed", "cal-q6", "cal-at2", "cal-lanes-3", "cal-lane-1"]
    assert task.layout.split() == ["cal-timed", "cal-q2", "cal-at3", "cal-lanes-3", "cal-lane-2"]
    assert later.layout.split() == ["cal-timed", "cal-q2", "cal-at0", "cal-lanes-1", "cal-lane-0"]
    late = item(23 * 60 - 9 * 60 + 30, 120)  # 23:30 for two hours: cut at midnight
    _lay_out([late])
    assert "cal-q2" in late.layout.split()


@pytest.mark.parametrize(("language", "week", "day"), [
    ("en", "7 Dec – 13 Dec 2026", "Monday, 7 December 2026"),
    ("ru", "7 декабря – 13 декабря 2026", "понедельник, 7 декабря 2026"),
    ("uk", "7 грудня – 13 грудня 2026", "понеділок, 7 грудня 2026"),
])
def test_calendar_titles_read_right_in_each_language(language, week, day):
    """The month in the reader's grammar: "7 декабря", never "7 Дек" or "7 Декабрь"."""
    from datetime import date

    from django.utils import translation

    from activities.calendar_views import _period_label

    monday, sunday = date(2026, 12, 7), date(2026, 12, 13)
    with translation.override(language):
        assert _period_label("week", monday, monday, sunday) == week
        assert _period_label("day", monday, monday, monday).lower() == day.lower()
