"""Business-time arithmetic for SLA clocks: pure functions over a `Hours` description.

A calendar is a time zone, the opening intervals of each weekday (minutes after local midnight,
Monday first; an interval may end at 1440, the next midnight) and a set of holidays. Durations are
counted in real seconds inside the open intervals, so a day on which the clocks change is as long
as it really is (a 00:00–24:00 interval on the spring-forward day holds 23 hours).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3 * 366  # a target farther than this in business time is a misconfigured calendar

Interval = tuple[int, int]  # (start minute, end minute) of a local day, 0 <= start < end <= 1440


@dataclass(frozen=True)
class Hours:
    time_zone: str
    week: tuple[tuple[Interval, ...], ...]  # seven entries, Monday first
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("A week has seven days.")
        for day in self.week:
            for start, end in day:
                if not 0 <= start < end <= 1440:
                    raise ValueError(f"Bad interval {start}-{end}.")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def ever_open(self) -> bool:
        return any(self.week)


ALWAYS = Hours("UTC", tuple(((0, 1440),) for _ in range(7)))


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The real moment of a local minute of a day, in UTC. A local time skipped by a clock change
    resolves to the moment after the gap, as zoneinfo does."""
    if minute >= 1440:
        day, minute = day + timedelta(days=1), minute - 1440
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _open_periods(hours: Hours, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The open periods (UTC) from the local day of `start` on, in order, for at most MAX_DAYS."""
    zone = hours.zone
    day = start.astimezone(zone).date() - timedelta(days=1)  # a period of yesterday may reach past midnight
    for _ in range(MAX_DAYS + 2):
        if day not in hours.holidays:
            for begin, end in hours.week[day.weekday()]:
                yield _instant(day, begin, zone), _instant(day, end, zone)
        day += timedelta(days=1)


def add_business_seconds(hours: Hours, start: datetime, seconds: float) -> datetime:
    """The moment when `seconds` of open time have passed after `start`."""
    if seconds < 0:
        raise ValueError("Business time only runs forward.")
    if not hours.ever_open:
        raise ValueError("The calendar is never open.")
    start = start.astimezone(UTC)
    if seconds == 0:
        return start  # due at once; so adding in two steps always equals adding in one
    left = timedelta(seconds=seconds)
    for begin, end in _open_periods(hours, start):
        if end <= start:
            continue
        begin = max(begin, start)
        if begin + left <= end:
            return begin + left
        left -= end - begin
    raise ValueError("The target lies more than three years of business time away.")


def business_seconds_between(hours: Hours, start: datetime, finish: datetime) -> float:
    """Open seconds between two moments (0 when finish is not after start)."""
    start, finish = start.astimezone(UTC), finish.astimezone(UTC)
    if finish <= start:
        return 0.0
    total = timedelta()
    for begin, end in _open_periods(hours, start):
        if begin >= finish:
            break
        overlap = min(end, finish) - max(begin, start)
        if overlap > timedelta():
            total += overlap
    return total.total_seconds()


def add_business_minutes(hours: Hours, start: datetime, minutes: float) -> datetime:
    return add_business_seconds(hours, start, minutes * 60)


def is_open(hours: Hours, moment: datetime) -> bool:
    moment = moment.astimezone(UTC)
    for begin, end in _open_periods(hours, moment - timedelta(days=1)):
        if begin > moment:
            return False
        if begin <= moment < end:
            return True
    return False
