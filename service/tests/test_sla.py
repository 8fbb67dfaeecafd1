"""Business-time arithmetic (service/sla.py): examples first, then properties over random starts,
targets, weekends, holidays and a daylight-saving change."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.sla import ALWAYS, Hours, add_business_minutes, business_seconds_between, is_open

LONDON = ZoneInfo("Europe/London")
KYIV = ZoneInfo("Europe/Kyiv")
OFFICE = Hours("Europe/London", tuple(((540, 1020),) if day < 5 else () for day in range(7)),
               frozenset({date(2026, 12, 25), date(2026, 12, 28)}))


def at(year, month, day, hour=0, minute=0, zone=LONDON):
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_a_target_inside_one_day():
    assert add_business_minutes(OFFICE, at(2026, 12, 7, 10), 60) == at(2026, 12, 7, 11)


def test_time_outside_hours_does_not_count():
    # Friday 16:30 + 60 business minutes: 30 on Friday, 30 on Monday from 09:00.
    assert add_business_minutes(OFFICE, at(2026, 12, 4, 16, 30), 60) == at(2026, 12, 7, 9, 30)


def test_opened_at_night_starts_at_opening():
    assert add_business_minutes(OFFICE, at(2026, 12, 8, 3), 15) == at(2026, 12, 8, 9, 15)


def test_holidays_are_skipped():
    # Thursday 24 Dec 16:00 + 120: one hour on the 24th, then 25th (holiday), weekend, 28th (holiday): Tue 29th.
    assert add_business_minutes(OFFICE, at(2026, 12, 24, 16), 120) == at(2026, 12, 29, 10)


def test_seconds_between_counts_only_open_time():
    assert business_seconds_between(OFFICE, at(2026, 12, 4, 16), at(2026, 12, 7, 10)) == 2 * 3600
    assert business_seconds_between(OFFICE, at(2026, 12, 7, 10), at(2026, 12, 7, 9)) == 0


def test_the_spring_forward_day_is_23_hours_long():
    hours = Hours("Europe/Kyiv", tuple(((0, 1440),) for _ in range(7)))
    start, end = at(2026, 3, 29, zone=KYIV), at(2026, 3, 30, zone=KYIV)
    assert business_seconds_between(hours, start, end) == 23 * 3600
    assert add_business_minutes(hours, start, 23 * 60) == end


def test_office_hours_across_a_clock_change_stay_nine_to_five():
    # London moves to summer time on Sunday 29 March 2026: Friday 16:00 + 2 h is Monday 10:00 local.
    assert add_business_minutes(OFFICE, at(2026, 3, 27, 16), 120) == at(2026, 3, 30, 10)


def test_a_calendar_never_open_is_refused():
    with pytest.raises(ValueError):
        add_business_minutes(Hours("UTC", ((),) * 7), at(2026, 12, 7), 10)


def test_negative_time_is_refused():
    with pytest.raises(ValueError):
        add_business_minutes(OFFICE, at(2026, 12, 7), -1)


# Naive bounds are how hypothesis takes them; every drawn moment is aware (UTC).
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),  # noqa: DTZ001
                       timezones=st.just(UTC))
targets = st.integers(min_value=0, max_value=60 * 24 * 20)
CALENDARS = [OFFICE, ALWAYS,
             Hours("Europe/Kyiv", tuple(((480, 720), (780, 1080)) if day < 6 else () for day in range(7)),
                   frozenset({date(2026, 3, 30), date(2026, 10, 26)})),
             Hours("America/New_York", tuple(((0, 1440),) if day in (5, 6) else ((1320, 1440),) for day in range(7)))]


@settings(max_examples=300, deadline=None)
@given(start=moments, minutes=targets, calendar=st.sampled_from(CALENDARS))
def test_adding_then_measuring_gives_the_target_back(start, minutes, calendar):
    due = add_business_minutes(calendar, start, minutes)
    assert due >= start
    assert business_seconds_between(calendar, start, due) == pytest.approx(minutes * 60, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(start=moments, first=targets, second=targets, calendar=st.sampled_from(CALENDARS))
def test_business_time_is_monotonic_and_additive(start, first, second, calendar):
    low, high = sorted((first, second))
    assert add_business_minutes(calendar, start, low) <= add_business_minutes(calendar, start, high)
    middle = add_business_minutes(calendar, start, low)
    assert add_business_minutes(calendar, middle, high - low) == add_business_minutes(calendar, start, high)


@settings(max_examples=200, deadline=None)
@given(start=moments, minutes=st.integers(min_value=1, max_value=60 * 24 * 10), calendar=st.sampled_from(CALENDARS))
def test_a_due_time_falls_in_open_hours(start, minutes, calendar):
    due = add_business_minutes(calendar, start, minutes)
    assert is_open(calendar, due - timedelta(seconds=1))


@settings(max_examples=150, deadline=None)
@given(day=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
def test_weekends_and_holidays_hold_no_business_time(day):
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
    seconds = business_seconds_between(OFFICE, start, start + timedelta(days=1))
    closed = day.weekday() >= 5 or day in OFFICE.holidays
    assert seconds == (0 if closed else 8 * 3600)


def test_two_steps_ending_at_closing_time_equal_one():
    """The counter-example hypothesis found: a first step that ends exactly at closing time."""
    evenings = CALENDARS[3]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    middle = add_business_minutes(evenings, start, 120)
    assert add_business_minutes(evenings, middle, 0) == middle == add_business_minutes(evenings, start, 120)
