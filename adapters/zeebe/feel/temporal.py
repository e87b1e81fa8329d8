"""Temporal values of FEEL: parsing, formatting, arithmetic and properties.

Python types stand for the FEEL types: ``date`` (date), ``time`` (time, naive = local),
``datetime`` (date and time, naive = local, aware = zoned), ``timedelta`` (days and time
duration) and :class:`YearMonthDuration` (years and months duration).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True, order=True)
class YearMonthDuration:
    """A FEEL years-and-months duration, kept as a signed number of months."""

    months: int

    def __str__(self) -> str:
        return format_year_month(self)


_DATE = re.compile(r"(-?\d{4,9})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2}|@[A-Za-z][\w/+-]*)?")
_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


def _zone(text: str) -> tzinfo | None:
    if text == "Z":
        return UTC
    if text.startswith("@"):
        try:
            return ZoneInfo(text[1:])
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {text[1:]!r}") from None
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_date(text: str) -> date | None:
    """``date("2024-01-31")``; None when the text is not a valid date."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _parse_time_parts(m: re.Match[str]) -> tuple[int, int, int, int, tzinfo | None]:
    micros = int((m[4] or ".0")[1:7].ljust(6, "0"))
    zone = _zone(m[5]) if m[5] else None
    return int(m[1]), int(m[2]), int(m[3]), micros, zone


def parse_time(text: str) -> time | None:
    """``time("10:30:00+01:00")``; None when the text is not a valid time."""
    m = _TIME.fullmatch(text.strip())
    if not m:
        return None
    try:
        hour, minute, second, micros, zone = _parse_time_parts(m)
        return time(hour, minute, second, micros, tzinfo=zone)
    except ValueError:
        return None


def parse_date_time(text: str) -> datetime | None:
    """``date and time("2024-01-31T10:00:00@Europe/Berlin")``; a bare date means midnight."""
    text = text.strip()
    if "T" not in text:
        d = parse_date(text)
        return None if d is None else datetime(d.year, d.month, d.day)
    date_part, _, time_part = text.partition("T")
    d = parse_date(date_part)
    m = _TIME.fullmatch(time_part)
    if d is None or m is None:
        return None
    try:
        hour, minute, second, micros, zone = _parse_time_parts(m)
        return datetime(d.year, d.month, d.day, hour, minute, second, micros, tzinfo=zone)
    except ValueError:
        return None


def parse_duration(text: str) -> timedelta | YearMonthDuration | None:
    """``duration("P1DT2H")`` or ``duration("P1Y2M")``; None when invalid or mixed."""
    m = _DURATION.fullmatch(text.strip())
    if not m or all(g is None for g in m.groups()[1:]) or text.strip().endswith("T"):
        return None
    sign = -1 if m[1] else 1
    years, months = int(m[2] or 0), int(m[3] or 0)
    day_time = m[4] or m[5] or m[6] or m[7] or m[8]
    if (m[2] or m[3]) and day_time:
        return None  # FEEL has no duration type mixing months with days or seconds
    if m[2] or m[3]:
        return YearMonthDuration(sign * (years * 12 + months))
    seconds = Decimal(m[8] or 0)
    delta = timedelta(
        weeks=int(m[4] or 0),
        days=int(m[5] or 0),
        hours=int(m[6] or 0),
        minutes=int(m[7] or 0),
        microseconds=int(seconds * 1_000_000),
    )
    return -delta if sign < 0 else delta


def _format_offset(value: time | datetime) -> str:
    tz = value.tzinfo
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return f"@{tz.key}"
    offset = value.utcoffset()
    if offset is None or offset == timedelta(0):
        return "Z"
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"


def _format_clock(value: time | datetime) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text


def format_time(value: time) -> str:
    """ISO text of a time, seconds always present (as FEEL's ``string()`` gives it)."""
    return _format_clock(value) + _format_offset(value)


def format_date_time(value: datetime) -> str:
    """ISO text of a date and time; a zone id is written ``@Region/City``."""
    return f"{value.date().isoformat()}T{_format_clock(value)}{_format_offset(value)}"


def format_day_time(value: timedelta) -> str:
    """ISO 8601 text of a days-and-time duration, e.g. ``P1DT2H`` or ``-PT5M``."""
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    days, rest = divmod(micros, 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    text = f"{sign}P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or fraction:
        clock += str(seconds) + (f".{fraction:06d}".rstrip("0") if fraction else "") + "S"
    if clock:
        text += "T" + clock
    return text if text not in ("P", "-P") else "P0D"


def format_year_month(value: YearMonthDuration) -> str:
    """ISO 8601 text of a years-and-months duration, e.g. ``P1Y2M``; zero is ``P0Y``."""
    sign = "-" if value.months < 0 else ""
    years, months = divmod(abs(value.months), 12)
    body = (f"{years}Y" if years else "") + (f"{months}M" if months else "")
    return f"{sign}P{body or '0Y'}"


def format_temporal(value: Any) -> str:
    """The FEEL string form of any temporal value."""
    if isinstance(value, datetime):
        return format_date_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return format_time(value)
    if isinstance(value, timedelta):
        return format_day_time(value)
    return format_year_month(value)


def add_months(value: date, months: int) -> date:
    """Shift a date (or date-time) by whole months, clamping the day to the month's end."""
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def temporal_property(value: Any, name: str) -> Any:
    """The FEEL properties of temporal values (``d.year``, ``t.hour``, ``dur.days``...)."""
    if isinstance(value, (date, datetime)) and name in ("year", "month", "day"):
        return getattr(value, name)
    if isinstance(value, (date, datetime)) and name == "weekday":
        return value.isoweekday()
    if isinstance(value, (time, datetime)):
        if name in ("hour", "minute", "second"):
            return getattr(value, name)
        if name == "time offset":
            offset = value.utcoffset()
            return offset
        if name == "timezone":
            return value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
    if isinstance(value, timedelta):
        total = value.days * 86400 + value.seconds
        sign = -1 if total < 0 else 1
        days, rest = divmod(abs(total), 86400)
        parts = {"days": days, "hours": rest // 3600, "minutes": rest % 3600 // 60, "seconds": rest % 60}
        if name in parts:
            return sign * parts[name]
    if isinstance(value, YearMonthDuration) and name in ("years", "months"):
        sign = -1 if value.months < 0 else 1
        years, months = divmod(abs(value.months), 12)
        return sign * (years if name == "years" else months)
    return None


def is_temporal(value: Any) -> bool:
    """True for every FEEL temporal value."""
    return isinstance(value, (date, time, timedelta, YearMonthDuration))
