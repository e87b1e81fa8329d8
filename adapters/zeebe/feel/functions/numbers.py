"""Number built-ins: rounding, abs, modulo, sqrt, log, exp, odd, even, and list statistics."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..temporal import YearMonthDuration
from ..values import CTX, is_number, to_decimal, to_int
from . import builtin

_MODES = {
    "UP": decimal.ROUND_UP,
    "DOWN": decimal.ROUND_DOWN,
    "CEILING": decimal.ROUND_CEILING,
    "FLOOR": decimal.ROUND_FLOOR,
    "HALF_UP": decimal.ROUND_HALF_UP,
    "HALF_DOWN": decimal.ROUND_HALF_DOWN,
    "HALF_EVEN": decimal.ROUND_HALF_EVEN,
}


def _round(n: Any, scale: Any, mode: str) -> Any:
    digits = to_int(scale)
    if not is_number(n) or digits is None or not -6111 <= digits <= 6176:
        return None
    return to_decimal(n).quantize(Decimal(1).scaleb(-digits), rounding=mode, context=CTX)


@builtin("decimal", ("n", "scale"), ("n", "scale", "mode"))
def _decimal(n: Any, scale: Any, mode: Any = "HALF_EVEN") -> Any:
    if not isinstance(mode, str):
        return None
    name = mode.upper()
    if name == "UNNECESSARY":
        result = _round(n, scale, decimal.ROUND_DOWN)
        return result if result is not None and result == to_decimal(n) else None
    return _round(n, scale, _MODES[name]) if name in _MODES else None


def _rounder(name: str, mode: str, default_scale: bool) -> None:
    overloads: tuple[tuple[str, ...], ...] = (("n", "scale"),)
    if default_scale:
        overloads = (("n",), ("n", "scale"))

    def impl(n: Any, scale: Any = 0) -> Any:
        return _round(n, scale, mode)

    builtin(name, *overloads)(impl)


for _name, _mode, _default in (
    ("floor", decimal.ROUND_FLOOR, True),
    ("ceiling", decimal.ROUND_CEILING, True),
    ("round up", decimal.ROUND_UP, False),
    ("round down", decimal.ROUND_DOWN, False),
    ("round half up", decimal.ROUND_HALF_UP, False),
    ("round half down", decimal.ROUND_HALF_DOWN, False),
):
    _rounder(_name, _mode, _default)


def _abs(n: Any) -> Any:
    if type(n) is int:
        return abs(n)
    if is_number(n):
        return abs(to_decimal(n))
    if isinstance(n, timedelta):
        return abs(n)
    if isinstance(n, YearMonthDuration):
        return YearMonthDuration(abs(n.months))
    return None


builtin("abs", ("n",), ("number",))(_abs)


@builtin("modulo", ("dividend", "divisor"))
def _modulo(a: Any, b: Any) -> Any:
    if not (is_number(a) and is_number(b)):
        return None
    if type(a) is int and type(b) is int:
        return None if b == 0 else a % b  # Python's % already takes the divisor's sign, as FEEL does
    da, db = to_decimal(a), to_decimal(b)
    if db == 0:
        return None
    quotient = CTX.divide(da, db).to_integral_value(rounding=decimal.ROUND_FLOOR)
    return CTX.subtract(da, CTX.multiply(db, quotient))


def _unary_math(name: str, fn: Callable[[Decimal], Decimal], valid: Callable[[Decimal], bool]) -> None:
    def impl(n: Any) -> Any:
        if not is_number(n):
            return None
        d = to_decimal(n)
        return fn(d) if valid(d) else None

    builtin(name, ("number",))(impl)


_unary_math("sqrt", lambda d: d.sqrt(CTX), lambda d: d >= 0)
_unary_math("log", lambda d: d.ln(CTX), lambda d: d > 0)
_unary_math("exp", lambda d: d.exp(CTX), lambda d: True)


@builtin("odd", ("number",))
def _odd(n: Any) -> Any:
    i = to_int(n)
    return None if i is None else i % 2 == 1


@builtin("even", ("number",))
def _even(n: Any) -> Any:
    i = to_int(n)
    return None if i is None else i % 2 == 0


def numbers_of(args: tuple[Any, ...]) -> list[Any] | None:
    """Arguments of ``sum(1, 2)`` / ``sum([1, 2])`` as a list of numbers, None if any is not one."""
    items = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    return items if all(is_number(v) for v in items) else None


def _total(items: list[Any]) -> Any:
    if all(type(v) is int for v in items):
        return sum(items)
    total = Decimal(0)
    for v in items:
        total = CTX.add(total, to_decimal(v))
    return total


@builtin("sum", ("list",), variadic=True)
def _sum(*args: Any) -> Any:
    items = numbers_of(args)
    return _total(items) if items else None


@builtin("product", ("list",), variadic=True)
def _product(*args: Any) -> Any:
    items = numbers_of(args)
    if not items:
        return None
    result = Decimal(1)
    for v in items:
        result = CTX.multiply(result, to_decimal(v))
    return result


@builtin("mean", ("list",), variadic=True)
def _mean(*args: Any) -> Any:
    items = numbers_of(args)
    return CTX.divide(to_decimal(_total(items)), Decimal(len(items))) if items else None


@builtin("median", ("list",), variadic=True)
def _median(*args: Any) -> Any:
    items = numbers_of(args)
    if not items:
        return None
    ordered = sorted(to_decimal(v) for v in items)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return CTX.divide(CTX.add(ordered[mid - 1], ordered[mid]), Decimal(2))
