"""FEEL arithmetic on numbers, strings and temporal values (null for unsupported operands)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from .errors import FeelEvaluationError
from .temporal import YearMonthDuration, add_months
from .values import CTX, NUMBER_TYPES, is_number, to_decimal, to_int

# guard against expressions that would build numbers too large to ever store
_MAX_INT_EXPONENT = 10_000


def _time_shift(value: time, delta: timedelta) -> time:
    moved = datetime(2000, 1, 1, value.hour, value.minute, value.second, value.microsecond) + delta
    return moved.time().replace(tzinfo=value.tzinfo)


def _as_datetime(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def add(a: Any, b: Any) -> Any:
    """``a + b``: numbers, string concatenation, temporal plus duration, duration plus duration."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a + b
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        return CTX.add(to_decimal(a), to_decimal(b))
    if ta is str and tb is str:
        return a + b
    if a is None or b is None:
        return None
    if isinstance(a, (timedelta, YearMonthDuration)) and not isinstance(b, (timedelta, YearMonthDuration)):
        a, b = b, a
    if isinstance(b, timedelta):
        if isinstance(a, timedelta):
            return a + b
        if isinstance(a, datetime):
            return a + b
        if isinstance(a, date):
            return (_as_datetime(a) + b).date()
        if isinstance(a, time):
            return _time_shift(a, b)
    if isinstance(b, YearMonthDuration):
        if isinstance(a, YearMonthDuration):
            return YearMonthDuration(a.months + b.months)
        if isinstance(a, date):
            return add_months(a, b.months)
    return None


def negate(a: Any) -> Any:
    """``-a`` for numbers and durations."""
    if type(a) is int:
        return -a
    if is_number(a):
        return -to_decimal(a)
    if isinstance(a, timedelta):
        return -a
    if isinstance(a, YearMonthDuration):
        return YearMonthDuration(-a.months)
    return None


def subtract(a: Any, b: Any) -> Any:
    """``a - b``: numbers, temporal minus duration, date(-time) differences."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a - b
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        return CTX.subtract(to_decimal(a), to_decimal(b))
    if a is None or b is None:
        return None
    if isinstance(b, (timedelta, YearMonthDuration)) and not isinstance(a, (str, bool)):
        if isinstance(a, (timedelta, YearMonthDuration)) and type(a) is not type(b):
            return None
        return add(a, negate(b))
    if isinstance(a, datetime) and isinstance(b, datetime):
        try:
            return a - b
        except TypeError:  # local minus zoned
            return None
    if type(a) is date and type(b) is date:
        return timedelta(days=(a - b).days)
    if isinstance(a, time) and isinstance(b, time) and a.tzinfo is None and b.tzinfo is None:
        return datetime.combine(date(2000, 1, 1), a) - datetime.combine(date(2000, 1, 1), b)
    return None


def multiply(a: Any, b: Any) -> Any:
    """``a * b``: numbers, or a duration scaled by a number."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return a * b
    if ta in NUMBER_TYPES and tb in NUMBER_TYPES:
        return CTX.multiply(to_decimal(a), to_decimal(b))
    if is_number(a) and isinstance(b, (timedelta, YearMonthDuration)):
        a, b = b, a
    if isinstance(a, timedelta) and is_number(b):
        micros = CTX.multiply(Decimal(a // timedelta(microseconds=1)), to_decimal(b))
        return timedelta(microseconds=int(micros))
    if isinstance(a, YearMonthDuration) and is_number(b):
        return YearMonthDuration(int(CTX.multiply(Decimal(a.months), to_decimal(b))))
    return None


def divide(a: Any, b: Any) -> Any:
    """``a / b``: division by zero gives null; durations divide by numbers or durations."""
    if is_number(a) and is_number(b):
        db = to_decimal(b)
        if db == 0:
            return None
        return CTX.divide(to_decimal(a), db)
    if isinstance(a, timedelta) and isinstance(b, timedelta):
        return (
            None
            if not b
            else CTX.divide(Decimal(a // timedelta(microseconds=1)), Decimal(b // timedelta(microseconds=1)))
        )
    if isinstance(a, YearMonthDuration) and isinstance(b, YearMonthDuration):
        return None if not b.months else CTX.divide(Decimal(a.months), Decimal(b.months))
    if isinstance(a, (timedelta, YearMonthDuration)) and is_number(b):
        if to_decimal(b) == 0:
            return None
        return multiply(a, CTX.divide(Decimal(1), to_decimal(b)))
    return None


def power(a: Any, b: Any) -> Any:
    """``a ** b``; integer exponents stay exact, others go through Decimal."""
    if not (is_number(a) and is_number(b)):
        return None
    exponent = to_int(b)
    if type(a) is int and exponent is not None and exponent >= 0:
        if exponent > _MAX_INT_EXPONENT and abs(a) > 1:
            raise FeelEvaluationError(f"exponent {exponent} is too large")
        return a**exponent
    try:
        da = to_decimal(a)
        if exponent is not None:
            if abs(exponent) > _MAX_INT_EXPONENT:
                raise FeelEvaluationError(f"exponent {exponent} is too large")
            return CTX.power(da, exponent)
        return CTX.power(da, to_decimal(b))
    except ArithmeticError:
        return None
