"""Static values and FEEL expressions in BPMN attributes, with Zeebe's result type checks.

A value that starts with `=` is a FEEL expression, compiled at deploy time; anything else is a
static string (zeebe-io/zeebe#4421). Evaluation failures and results of the wrong type become
incidents: `ExprError` carries the incident type and Zeebe's message text.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

#: Incident types raised by expression problems.
EXTRACT_VALUE_ERROR = "EXTRACT_VALUE_ERROR"
IO_MAPPING_ERROR = "IO_MAPPING_ERROR"


class ExprError(Exception):
    """An expression failed or gave the wrong type; becomes an incident of `incident_type`."""

    def __init__(self, message: str, incident_type: str = EXTRACT_VALUE_ERROR) -> None:
        super().__init__(message)
        self.incident_type = incident_type


class ExprSyntaxError(ValueError):
    """An expression does not parse (a deployment error)."""


def _feel() -> Any:
    # Imported lazily: the FEEL package is developed alongside and only needed once used.
    from adapters.zeebe import feel

    return feel


class Expr:
    """A static value or a compiled FEEL expression."""

    __slots__ = ("_compiled", "static", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        stripped = text.strip()
        self.static = not stripped.startswith("=")
        self._compiled: Any = None
        if not self.static:
            feel = _feel()
            try:
                self._compiled = feel.compile_expression(stripped[1:])
            except feel.FeelSyntaxError as exc:
                raise ExprSyntaxError(f"failed to parse expression '{stripped[1:].strip()}': {exc}") from None

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"

    @property
    def source(self) -> str:
        return self.text.strip()[1:].strip() if not self.static else self.text

    def evaluate(self, context: dict[str, Any], incident_type: str = EXTRACT_VALUE_ERROR) -> Any:
        """The value as JSON data (static values are strings)."""
        if self.static:
            return self.text
        feel = _feel()
        try:
            value = self._compiled.evaluate(context)
        except feel.FeelEvaluationError as exc:
            raise ExprError(f"failed to evaluate expression '{self.source}': {exc}", incident_type) from None
        return feel.to_json_value(value)

    def raw(self, context: dict[str, Any]) -> Any:
        """The FEEL value before JSON conversion (timers want durations and date-times)."""
        if self.static:
            return self.text
        feel = _feel()
        try:
            return self._compiled.evaluate(context)
        except feel.FeelEvaluationError as exc:
            raise ExprError(f"failed to evaluate expression '{self.source}': {exc}") from None

    # --- Zeebe's typed results --------------------------------------------------------------------

    def _wrong(self, expected: str, value: Any) -> ExprError:
        return ExprError(
            f"Expected result of the expression '{self.source}' to be '{expected}', but was '{_type_name(value)}'."
        )

    def boolean(self, context: dict[str, Any]) -> bool:
        value = self.evaluate(context)
        if not isinstance(value, bool):
            raise self._wrong("BOOLEAN", value)
        return value

    def string(self, context: dict[str, Any]) -> str:
        value = self.evaluate(context)
        if not isinstance(value, str):
            raise self._wrong("STRING", value)
        return value

    def key(self, context: dict[str, Any]) -> str:
        """A correlation key: a string, or a number rendered as Zeebe does."""
        value = self.evaluate(context)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ExprError(
                f"Failed to extract the correlation key for '{self.source}': The value must be either a string "
                f"or a number, but was '{_type_name(value)}'."
            )
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)

    def number(self, context: dict[str, Any]) -> int:
        value = self.evaluate(context)
        if isinstance(value, str) and self.static:
            try:
                return int(value)
            except ValueError:
                raise self._wrong("NUMBER", value) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong("NUMBER", value)
        return int(value)

    def array(self, context: dict[str, Any]) -> list[Any]:
        value = self.evaluate(context)
        if not isinstance(value, list):
            raise self._wrong("ARRAY", value)
        return value


def _type_name(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMBER"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, list):
        return "ARRAY"
    if isinstance(value, dict):
        return "OBJECT"
    return type(value).__name__.upper()


# ------------------------------------------------------------------------------------ timers

_DURATION = re.compile(
    r"^(-)?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> float:
    """ISO 8601 duration -> seconds (years = 365 days, months = 30 days). ValueError if malformed."""
    m = _DURATION.match(text.strip())
    if not m or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"invalid duration '{text}'")
    sign = -1.0 if m.group(1) else 1.0
    y, mo, w, d, h, mi, s = (float(g) if g else 0.0 for g in m.groups()[1:])
    return sign * (((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 3600 + mi * 60 + s)


def parse_date(text: str) -> float:
    """ISO 8601 date-time (a zone or offset; naive means UTC) -> POSIX seconds."""
    t = text.strip()
    t = re.sub(r"\[[^\]]*\]$", "", t)  # FEEL zone ids like 2024-01-01T10:00:00@Europe/Berlin are out
    dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_cycle(text: str) -> tuple[int, float, float | None]:
    """`R<n>/<duration>` or `R<n>/<start>/<duration>` -> (repetitions (-1 = forever), interval, start)."""
    parts = text.strip().split("/")
    if len(parts) not in (2, 3) or not parts[0].startswith("R"):
        raise ValueError(f"invalid time cycle '{text}'")
    reps = -1 if parts[0] == "R" else int(parts[0][1:])
    if len(parts) == 2:
        return reps, parse_duration(parts[1]), None
    return reps, parse_duration(parts[2]), parse_date(parts[1])


def timer_seconds(value: Any) -> float:
    """A FEEL timer value (duration text or timedelta) -> seconds."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        return parse_duration(value)
    months = getattr(value, "months", None)
    if isinstance(months, int):
        return months * 30 * 86400.0
    raise ValueError(f"not a duration: {value!r}")


def timer_date(value: Any) -> float:
    """A FEEL date-time value (text or datetime) -> POSIX seconds."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, str):
        return parse_date(value)
    raise ValueError(f"not a date-time: {value!r}")


def finite(x: float) -> bool:
    return math.isfinite(x)
