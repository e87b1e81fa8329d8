"""FEEL value semantics on Python values: numbers, equality, ordering, ranges, functions.

Number policy: variables may hold ``int``, ``float`` or ``Decimal``; literals with a fraction and
every non-integer arithmetic result are ``Decimal`` (34 significant digits, like feel-scala's
BigDecimal), so ``0.1 + 0.2 = 0.3`` holds. Results leave the evaluator as ``int`` when integral,
else ``float`` (:func:`to_output`), which keeps them JSON-roundtrippable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from .temporal import YearMonthDuration, format_temporal

CTX = Context(prec=34)
NUMBER_TYPES = frozenset({int, float, Decimal})


def is_number(value: Any) -> bool:
    """True for int/float/Decimal, never for bool (a bool is not a FEEL number)."""
    return type(value) in NUMBER_TYPES or (isinstance(value, (int, Decimal)) and not isinstance(value, bool))


def to_decimal(value: Any) -> Decimal:
    """A number as Decimal; floats go through ``repr`` so 0.1 stays 0.1, as JSON parsing gives it."""
    if type(value) is Decimal:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def normalize(value: Decimal) -> int | float:
    """A Decimal result as int when integral, else float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def to_int(value: Any) -> int | None:
    """An integral number as int (list positions, lengths), else None."""
    if type(value) is int:
        return value
    if is_number(value) and not (isinstance(value, float) and not math.isfinite(value)):
        d = to_decimal(value)
        if d == d.to_integral_value():
            return int(d)
    return None


def kind(value: Any) -> str:
    """The FEEL type name of a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "date and time"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    if isinstance(value, timedelta):
        return "days and time duration"
    if isinstance(value, YearMonthDuration):
        return "years and months duration"
    if isinstance(value, Mapping):
        return "context"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Range):
        return "range"
    if isinstance(value, FeelFunction):
        return "function"
    return "unknown"


def feel_equal(a: Any, b: Any) -> bool | None:
    """FEEL ``=``: null equals only null; values of different types are not comparable (None)."""
    if a is None or b is None:
        return a is b
    ta, tb = type(a), type(b)
    if ta is tb and ta in (int, str, bool):
        return bool(a == b)
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return None
    if ka == "number":
        return to_decimal(a) == to_decimal(b)
    if ka == "list":
        return len(a) == len(b) and all(feel_equal(x, y) is True for x, y in zip(a, b, strict=True))
    if ka == "context":
        return a.keys() == b.keys() and all(feel_equal(a[k], b[k]) is True for k in a)
    try:
        return bool(a == b)
    except TypeError:
        return None


def feel_compare(a: Any, b: Any) -> int | None:
    """Ordering of two FEEL values: -1/0/1, or None when null or not comparable."""
    ta, tb = type(a), type(b)
    if ta is tb and (ta is int or ta is str):
        return (a > b) - (a < b)
    if a is None or b is None:
        return None
    ka, kb = kind(a), kind(b)
    if ka != kb or ka not in _ORDERED:
        return None
    if ka == "number":
        a, b = to_decimal(a), to_decimal(b)
    try:
        return (a > b) - (a < b)
    except TypeError:  # naive vs aware date-times
        return None


_ORDERED = frozenset(
    {"number", "string", "date", "time", "date and time", "days and time duration", "years and months duration"}
)


@dataclass(frozen=True)
class Range:
    """A FEEL range ``[1..5]``, ``(1..5]``; an endpoint None means unbounded."""

    start: Any
    end: Any
    start_included: bool = True
    end_included: bool = True

    def contains(self, value: Any) -> bool | None:
        """Whether ``value`` lies in the range; None when not comparable."""
        if self.start is not None:
            c = feel_compare(value, self.start)
            if c is None:
                return None
            if c < 0 or (c == 0 and not self.start_included):
                return False
        if self.end is not None:
            c = feel_compare(value, self.end)
            if c is None:
                return None
            if c > 0 or (c == 0 and not self.end_included):
                return False
        return True

    def __str__(self) -> str:
        left = "[" if self.start_included else "("
        right = "]" if self.end_included else ")"
        return f"{left}{_text(self.start)}..{_text(self.end)}{right}"


class FeelFunction:
    """A callable FEEL value: a built-in or a ``function(a, b) ...`` literal.

    ``overloads`` lists the accepted parameter-name tuples (used for arity checks and named
    arguments); a ``variadic`` implementation receives any number of positional arguments.
    """

    def __init__(
        self,
        name: str,
        overloads: Sequence[tuple[str, ...]],
        impl: Callable[..., Any],
        variadic: bool = False,
    ) -> None:
        self.name = name
        self.overloads = list(overloads)
        self.impl = impl
        self.variadic = variadic

    def invoke(self, args: list[Any], named: dict[str, Any] | None = None) -> Any:
        """Call with positional ``args`` or ``named`` arguments; None when no overload fits."""
        if named is not None:
            for params in self.overloads:
                if set(named) == set(params):
                    return self.impl(*[named[p] for p in params])
            return None
        if self.variadic:
            return self.impl(*args)
        for params in self.overloads:
            if len(params) == len(args):
                return self.impl(*args)
        return None

    def __repr__(self) -> str:
        return f"<function {self.name}>"


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(normalize(value))
    if isinstance(value, (date, time, timedelta, YearMonthDuration)):
        return format_temporal(value)
    return str(value)


def to_output(value: Any) -> Any:
    """Normalise numbers inside a result: Decimal becomes int (integral) or float."""
    t = type(value)
    if t is Decimal:
        return normalize(value)
    if t is float and not math.isfinite(value):
        return None
    if t is list or t is tuple:
        return [to_output(v) for v in value]
    if t is dict or isinstance(value, Mapping):
        return {k: to_output(v) for k, v in value.items()}
    return value


def to_json_value(value: Any) -> Any:
    """A FEEL result as a JSON-compatible value (temporal values as ISO strings, as Zeebe stores)."""
    value = to_output(value)
    if isinstance(value, (date, time, timedelta, YearMonthDuration)):
        return format_temporal(value)
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, Range):
        return str(value)
    if isinstance(value, FeelFunction):
        return None
    return value


def safe_decimal(text: str) -> Decimal | None:
    """Parse decimal text, None when invalid."""
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None
