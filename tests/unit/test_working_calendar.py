"""Working days in England and Wales, and when an approval task becomes overdue."""

from __future__ import annotations

from datetime import date

import pytest

from procure.domain.calendar import WorkingCalendar, england_and_wales_calendar, is_overdue
from procure.errors import ConfigurationError

CALENDAR = england_and_wales_calendar(range(2026, 2028))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 24), True),  # Thursday, Christmas Eve is not a bank holiday
        (date(2026, 12, 25), False),  # Friday, Christmas Day
        (date(2026, 12, 26), False),  # Saturday, Boxing Day
        (date(2026, 12, 27), False),  # Sunday
        (date(2026, 12, 28), False),  # Monday, Boxing Day (observed)
        (date(2026, 12, 29), True),
        (date(2027, 1, 1), False),  # Friday, New Year's Day
        (date(2027, 1, 4), True),
        (date(2027, 3, 26), False),  # Good Friday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 3, 30), True),
        (date(2026, 11, 14), False),  # an ordinary Saturday
        (date(2026, 11, 16), True),  # an ordinary Monday
    ],
)
def test_working_days_skip_weekends_and_bank_holidays(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 12, 23), 1, date(2026, 12, 24)),
        (date(2026, 12, 24), 1, date(2026, 12, 29)),
        (date(2026, 12, 24), 3, date(2026, 12, 31)),
        (date(2026, 12, 31), 1, date(2027, 1, 4)),
        (date(2027, 3, 25), 1, date(2027, 3, 30)),
        (date(2026, 11, 13), 0, date(2026, 11, 13)),
        (date(2026, 11, 14), 1, date(2026, 11, 16)),  # from a Saturday
        (date(2026, 12, 29), -1, date(2026, 12, 24)),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert CALENDAR.add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2026, 12, 18), date(2026, 12, 23), 3),
        (date(2026, 12, 23), date(2027, 1, 4), 5),  # 24, 29, 30, 31 Dec and 4 Jan
        (date(2027, 3, 25), date(2027, 4, 1), 3),  # Easter: 30, 31 Mar and 1 Apr
        (date(2026, 11, 16), date(2026, 11, 16), 0),
        (date(2026, 11, 17), date(2026, 11, 16), 0),
    ],
)
def test_working_days_between_counts_after_start_up_to_end(
    start: date, end: date, count: int
) -> None:
    assert CALENDAR.working_days_between(start, end) == count


@pytest.mark.parametrize(
    ("created", "today", "overdue"),
    [
        # Friday 18 Dec: Monday 21, Tuesday 22, Wednesday 23 are the three working days.
        (date(2026, 12, 18), date(2026, 12, 22), False),
        (date(2026, 12, 18), date(2026, 12, 23), True),
        (date(2026, 12, 18), date(2026, 12, 24), True),
        # Wednesday 23 Dec: Thursday 24, then Christmas and Boxing Day (observed) do not count.
        (date(2026, 12, 23), date(2026, 12, 28), False),
        (date(2026, 12, 23), date(2026, 12, 29), False),
        (date(2026, 12, 23), date(2026, 12, 30), True),
        # Tuesday 29 Dec: 30, 31 Dec, then New Year's Day and the weekend, then Monday 4 Jan.
        (date(2026, 12, 29), date(2027, 1, 3), False),
        (date(2026, 12, 29), date(2027, 1, 4), True),
        # Thursday before Easter 2027: Good Friday and Easter Monday do not count.
        (date(2027, 3, 25), date(2027, 3, 31), False),
        (date(2027, 3, 25), date(2027, 4, 1), True),
        # Created on a Saturday: the clock starts on Monday.
        (date(2026, 11, 14), date(2026, 11, 18), True),
        (date(2026, 11, 14), date(2026, 11, 17), False),
    ],
)
def test_a_task_is_overdue_after_three_working_days(
    created: date, today: date, overdue: bool
) -> None:
    assert is_overdue(created, today, 3, CALENDAR) is overdue


def test_a_plain_calendar_knows_only_weekends_and_the_holidays_given() -> None:
    calendar = WorkingCalendar(frozenset({date(2030, 5, 6)}))
    assert not calendar.is_working_day(date(2030, 5, 6))
    assert calendar.is_working_day(date(2030, 5, 7))
    assert not calendar.is_working_day(date(2030, 5, 4))


def test_a_date_outside_the_calendars_years_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="2028"):
        CALENDAR.is_working_day(date(2028, 1, 3))


def test_the_calendar_needs_consecutive_years() -> None:
    with pytest.raises(ConfigurationError):
        england_and_wales_calendar(range(2026, 2026))
