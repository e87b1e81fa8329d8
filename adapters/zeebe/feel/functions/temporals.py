"""Temporal built-ins: now, today, date, time, date and time, duration and calendar helpers."""

from __future__ import annotations

import calendar
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from ..temporal import (
    YearMonthDuration,
    parse_date,
    parse_date_time,
    parse_duration,
    parse_time,
)
from ..values import to_int
from . import builtin

# The engine's clock for now()/today() during one evaluation (see Expression.evaluate(now=...)).
CURRENT_TIME: ContextVar[datetime | None] = ContextVar("feel_current_time", default=None)


def current_time() -> datetime:
    """The evaluation's clock reading, else the system clock in UTC."""
    value = CURRENT_TIME.get()
    return value if value is not None else datetime.now(UTC)


@builtin("now", ())
def _now() -> Any:
    return current_time()


@builtin("today", ())
def _today() -> Any:
    return current_time().date()


@builtin("date", ("from",), ("year", "month", "day"))
def _date(value: Any, month: Any = None, day: Any = None) -> Any:
    if month is not None or day is not None:
        y, m, d = to_int(value), to_int(month), to_int(day)
        if y is None or m is None or d is None:
            return None
        return date(y, m, d)
    if isinstance(value, str):
        parsed = parse_date(value)
        if parsed is None and "T" in value:
            dt = parse_date_time(value)
            return dt.date() if dt else None
        return parsed
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


@builtin("time", ("from",), ("hour", "minute", "second"), ("hour", "minute", "second", "offset"))
def _time(value: Any, minute: Any = None, second: Any = None, offset: Any = None) -> Any:
    if minute is not None or second is not None:
        h, m, s = to_int(value), to_int(minute), to_int(second)
        if h is None or m is None or s is None:
            return None
        if offset is not None and not isinstance(offset, timedelta):
            return None
        return time(h, m, s, tzinfo=timezone(offset) if offset is not None else None)
    if isinstance(value, str):
        return parse_time(value)
    if isinstance(value, datetime):
        return value.timetz()
    if isinstance(value, time):
        return value
    if isinstance(value, date):
        return time(0, 0, 0, tzinfo=UTC)
    return None


@builtin("date and time", ("from",), ("date", "time"))
def _date_and_time(value: Any, at: Any = None) -> Any:
    if at is not None:
        if not isinstance(value, date) or not isinstance(at, time):
            return None
        return datetime.combine(value if not isinstance(value, datetime) else value.date(), at)
    if isinstance(value, str):
        return parse_date_time(value)
    if isinstance(value, datetime):
        return value
    return None


@builtin("duration", ("from",))
def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else None


@builtin("years and months duration", ("from", "to"))
def _years_and_months(start: Any, end: Any) -> Any:
    if not isinstance(start, date) or not isinstance(end, date):
        return None
    months = (end.year - start.year) * 12 + end.month - start.month
    # an unfinished month does not count, in either direction
    if months > 0 and (end.day, _clock(end)) < (start.day, _clock(start)):
        months -= 1
    elif months < 0 and (end.day, _clock(end)) > (start.day, _clock(start)):
        months += 1
    return YearMonthDuration(months)


def _clock(value: date) -> tuple[int, ...]:
    if isinstance(value, datetime):
        return (value.hour, value.minute, value.second, value.microsecond)
    return (0, 0, 0, 0)


@builtin("day of week", ("date",))
def _day_of_week(value: Any) -> Any:
    return calendar.day_name[value.weekday()] if isinstance(value, date) else None


@builtin("day of year", ("date",))
def _day_of_year(value: Any) -> Any:
    return value.timetuple().tm_yday if isinstance(value, date) else None


@builtin("week of year", ("date",))
def _week_of_year(value: Any) -> Any:
    return value.isocalendar()[1] if isinstance(value, date) else None


@builtin("month of year", ("date",))
def _month_of_year(value: Any) -> Any:
    return calendar.month_name[value.month] if isinstance(value, date) else None


@builtin("last day of month", ("date",))
def _last_day_of_month(value: Any) -> Any:
    if not isinstance(value, date):
        return None
    return calendar.monthrange(value.year, value.month)[1]
