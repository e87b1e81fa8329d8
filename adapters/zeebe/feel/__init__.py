"""A FEEL (Friendly Enough Expression Language) evaluator in the Camunda 8 / feel-scala dialect.

Zeebe marks expressions with a leading ``=`` (anything else is a static value)::

    expr = compile_expression("= amount > 100 and status = \\"open\\"")   # parse once, at deploy
    expr.evaluate({"amount": 150, "status": "open"})                      # -> True

Results are plain Python values: None, bool, int (integral numbers), float, str, list, dict, and
``date``/``time``/``datetime``/``timedelta``/:class:`YearMonthDuration` for temporal values, which
:func:`to_json_value` turns into ISO strings for storing as process variables. FEEL's null
semantics apply: missing variables, type mismatches and failed function calls give None;
:class:`FeelEvaluationError` is raised only where evaluation must stop (e.g. ``assert``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .errors import FeelError, FeelEvaluationError, FeelSyntaxError
from .evaluator import Compiled, Env, compile_node
from .functions import BUILTINS
from .functions.temporals import CURRENT_TIME
from .parser import parse
from .temporal import YearMonthDuration
from .values import to_json_value, to_output

__all__ = [
    "BUILTINS",
    "Expression",
    "FeelError",
    "FeelEvaluationError",
    "FeelSyntaxError",
    "YearMonthDuration",
    "compile_expression",
    "evaluate",
    "is_expression",
    "strip_expression",
    "to_json_value",
]

_EMPTY: Mapping[str, Any] = {}


def is_expression(text: str) -> bool:
    """Zeebe's convention: a value is a FEEL expression when it starts with ``=``."""
    return text.lstrip().startswith("=")


def strip_expression(text: str) -> str:
    """The FEEL source of ``text`` without Zeebe's leading ``=`` (unchanged when there is none)."""
    stripped = text.lstrip()
    return stripped[1:].strip() if stripped.startswith("=") else text.strip()


class Expression:
    """A compiled FEEL expression: parse once with :func:`compile_expression`, evaluate many times."""

    __slots__ = ("_fn", "source")

    def __init__(self, source: str, fn: Compiled) -> None:
        self.source = source
        self._fn = fn

    def evaluate(self, context: Mapping[str, Any] | None = None, *, now: datetime | None = None) -> Any:
        """Evaluate against ``context`` (variables); ``now`` pins what ``now()``/``today()`` see."""
        env = Env(context if context is not None else _EMPTY)
        if now is None:
            return to_output(self._fn(env))
        token = CURRENT_TIME.set(now)
        try:
            return to_output(self._fn(env))
        finally:
            CURRENT_TIME.reset(token)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


@functools.lru_cache(maxsize=2048)
def compile_expression(text: str) -> Expression:
    """Parse and compile FEEL ``text`` (a leading ``=`` is allowed); raises :class:`FeelSyntaxError`.

    Compiled expressions are immutable, so identical sources share one cached instance.
    """
    source = strip_expression(text)
    offset = text.find(source) if source else 0
    try:
        node = parse(source)
    except FeelSyntaxError as exc:
        raise FeelSyntaxError(exc.message, exc.position + max(offset, 0)) from None
    except RecursionError:
        raise FeelSyntaxError("expression is nested too deeply", 0) from None
    return Expression(source, compile_node(node))


def evaluate(text: str, context: Mapping[str, Any] | None = None, *, now: datetime | None = None) -> Any:
    """Compile (cached) and evaluate ``text`` in one call."""
    return compile_expression(text).evaluate(context, now=now)
