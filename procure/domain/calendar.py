"""UK working days: weekends and bank holidays are not working days.

Imports: the standard library and ``procure.errors`` only, except that the factory
``england_and_wales_calendar`` imports the ``holidays`` package (pure-Python data) inside itself,
so that the rest of the domain never depends on it. ``WorkingCalendar`` itself is a plain value:
tests build one from a handful of dates.

Rules:
- a working day is a Monday to Friday that is not a bank holiday (England and Wales share theirs);
- ``working_days_between(start, end)`` counts the working days *after* ``start`` up to and
  including ``end`` (0 when ``end`` is not after ``start``);
- a task is overdue when ``working_days_between(created_on, today) >= N``: a task created on
  Friday 18 December 2026 with 3 working days counts Monday 21, Tuesday 22 and Wednesday 23, so
  it is overdue from Wednesday 23 December; one created on Wednesday 23 December counts Thursday
  24, Tuesday 29 (Christmas Day and Boxing Day observed on Monday 28 are holidays) and Wednesday 30.
- a calendar built for some years refuses dates outside them (``ConfigurationError``) rather than
  silently treat Christmas of an unknown year as a working day;
- the day a moment falls on is its day in the UK (``uk_date``): times are kept in UTC, and
  00:30 on 1 July in London is still 30 June in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from procure.errors import ConfigurationError

__all__ = ["WorkingCalendar", "england_and_wales_calendar", "is_overdue", "uk_date"]

_ONE_DAY = timedelta(days=1)
UK = ZoneInfo("Europe/London")


def uk_date(at: datetime) -> date:
    """The UK calendar day of a moment (a naive time, as SQLite gives back, is UTC)."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UK).date()


@dataclass(frozen=True)
class WorkingCalendar:
    """Bank holidays, and the years they are known for (``None``: any year, holidays as given)."""

    bank_holidays: frozenset[date] = frozenset()
    first_year: int | None = None
    last_year: int | None = None

    def _check_known(self, d: date) -> None:
        if (self.first_year is not None and d.year < self.first_year) or (
            self.last_year is not None and d.year > self.last_year
        ):
            raise ConfigurationError(
                f"the working calendar covers {self.first_year} to {self.last_year}, "
                f"not {d.isoformat()}: build it for more years"
            )

    def is_working_day(self, d: date) -> bool:
        self._check_known(d)
        return d.weekday() < 5 and d not in self.bank_holidays

    def add_working_days(self, d: date, n: int) -> date:
        """The date ``n`` working days after ``d`` (before it if ``n`` < 0; ``d`` itself if 0)."""
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        current = d
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        count = 0
        current = start + _ONE_DAY
        while current <= end:
            if self.is_working_day(current):
                count += 1
            current += _ONE_DAY
        return count


def is_overdue(created_on: date, today: date, working_days: int, calendar: WorkingCalendar) -> bool:
    """True when ``working_days_between(created_on, today) >= working_days``.

    That is, from the ``working_days``-th working day after the day the task was created: a task
    created on Friday 18 December 2026 with 3 working days is overdue on Wednesday 23 December.
    """
    return calendar.working_days_between(created_on, today) >= working_days


def england_and_wales_calendar(years: range) -> WorkingCalendar:
    """The bank holidays of England and Wales for ``years`` (e.g. ``range(2025, 2031)``)."""
    if len(years) == 0 or years.step != 1:
        raise ConfigurationError(f"the working calendar needs consecutive years, not {years!r}")
    # Imported here only: the rest of the domain stays free of third-party packages.
    import holidays

    # England and Wales share bank holidays; holidays.UnitedKingdom's "ENG" subdivision carries
    # them (country_holidays("GB") builds that class and is the package's typed entry point).
    found = holidays.country_holidays("GB", subdiv="ENG", years=years)
    return WorkingCalendar(frozenset(found.keys()), years[0], years[-1])
