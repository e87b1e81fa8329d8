"""String built-ins and the string()/number() conversions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any

from ..temporal import YearMonthDuration, format_temporal
from ..values import Range, is_number, normalize, safe_decimal, to_decimal, to_int
from . import builtin

_FLAGS = {"i": re.IGNORECASE, "s": re.DOTALL, "m": re.MULTILINE, "x": re.VERBOSE}


def feel_string(value: Any, nested: bool = False) -> str | None:
    """FEEL's string form of any value (``string(x)``); strings nested in lists/contexts are quoted."""
    if value is None:
        return "null" if nested else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"' if nested else value
    if is_number(value):
        d = to_decimal(value)
        return str(normalize(d)) if d == d.to_integral_value() else format(d.normalize(), "f")
    if isinstance(value, (date, time, timedelta, YearMonthDuration)):
        return format_temporal(value)
    if isinstance(value, list):
        return "[" + ", ".join(str(feel_string(v, True)) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}:{feel_string(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, Range):
        return str(value)
    return str(value)


def _str(*values: Any) -> bool:
    return all(isinstance(v, str) for v in values)


def _regex(pattern: str, flags: Any) -> re.Pattern[str] | None:
    if flags is not None and not isinstance(flags, str):
        return None
    bits = 0
    for flag in flags or "":
        if flag == "q":
            pattern = re.escape(pattern)
        elif flag in _FLAGS:
            bits |= _FLAGS[flag]
        else:
            return None
    try:
        return re.compile(pattern, bits)
    except re.error:
        return None


@builtin("string", ("from",))
def _string(value: Any) -> Any:
    return feel_string(value)


@builtin("number", ("from",), ("from", "grouping separator"), ("from", "grouping separator", "decimal separator"))
def _number(text: Any, grouping: Any = None, decimal_sep: Any = None) -> Any:
    if is_number(text):
        return text
    if not isinstance(text, str):
        return None
    if grouping is not None:
        if grouping not in (" ", ",", "."):
            return None
        text = text.replace(grouping, "")
    if decimal_sep is not None:
        if decimal_sep not in (",", ".") or decimal_sep == grouping:
            return None
        text = text.replace(decimal_sep, ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return None
    return safe_decimal(text)


@builtin("substring", ("string", "start position"), ("string", "start position", "length"))
def _substring(s: Any, start: Any, length: Any = None) -> Any:
    begin = to_int(start)
    if not isinstance(s, str) or begin is None:
        return None
    size = len(s)
    first = begin - 1 if begin > 0 else max(size + begin, 0)
    if length is None:
        return s[first:]
    count = to_int(length)
    if count is None or count < 0:
        return None
    return s[first : first + count]


@builtin("string length", ("string",))
def _string_length(s: Any) -> Any:
    return len(s) if isinstance(s, str) else None


@builtin("upper case", ("string",))
def _upper(s: Any) -> Any:
    return s.upper() if isinstance(s, str) else None


@builtin("lower case", ("string",))
def _lower(s: Any) -> Any:
    return s.lower() if isinstance(s, str) else None


@builtin("substring before", ("string", "match"))
def _before(s: Any, match: Any) -> Any:
    if not _str(s, match):
        return None
    i = s.find(match)
    return s[:i] if i >= 0 else ""


@builtin("substring after", ("string", "match"))
def _after(s: Any, match: Any) -> Any:
    if not _str(s, match):
        return None
    i = s.find(match)
    return s[i + len(match) :] if i >= 0 else ""


@builtin("contains", ("string", "match"))
def _contains(s: Any, match: Any) -> Any:
    return match in s if _str(s, match) else None


@builtin("starts with", ("string", "match"))
def _starts(s: Any, match: Any) -> Any:
    return s.startswith(match) if _str(s, match) else None


@builtin("ends with", ("string", "match"))
def _ends(s: Any, match: Any) -> Any:
    return s.endswith(match) if _str(s, match) else None


@builtin("matches", ("input", "pattern"), ("input", "pattern", "flags"))
def _matches(s: Any, pattern: Any, flags: Any = None) -> Any:
    regex = _regex(pattern, flags) if _str(s, pattern) else None
    return None if regex is None else regex.search(s) is not None


def _java_replacement(replacement: str) -> str:
    # Java writes groups as $1; Python wants \g<1>, and a literal backslash must be doubled
    out = replacement.replace("\\", "\\\\")
    return re.sub(r"\$(\d+)", r"\\g<\1>", out)


@builtin("replace", ("input", "pattern", "replacement"), ("input", "pattern", "replacement", "flags"))
def _replace(s: Any, pattern: Any, replacement: Any, flags: Any = None) -> Any:
    regex = _regex(pattern, flags) if _str(s, pattern, replacement) else None
    return None if regex is None else regex.sub(_java_replacement(replacement), s)


@builtin("split", ("string", "delimiter"))
def _split(s: Any, delimiter: Any) -> Any:
    regex = _regex(delimiter, None) if _str(s, delimiter) else None
    return None if regex is None else regex.split(s)


@builtin("extract", ("string", "pattern"))
def _extract(s: Any, pattern: Any) -> Any:
    regex = _regex(pattern, None) if _str(s, pattern) else None
    return None if regex is None else [m.group(0) for m in regex.finditer(s)]


@builtin("trim", ("string",))
def _trim(s: Any) -> Any:
    return s.strip() if isinstance(s, str) else None


@builtin("string join", ("list",), ("list", "delimiter"), ("list", "delimiter", "prefix", "suffix"))
def _join(items: Any, delimiter: Any = None, prefix: Any = None, suffix: Any = None) -> Any:
    if not isinstance(items, list) or any(v is not None and not isinstance(v, str) for v in items):
        return None
    if any(v is not None and not isinstance(v, str) for v in (delimiter, prefix, suffix)):
        return None
    body = (delimiter or "").join(v for v in items if v is not None)
    return f"{prefix or ''}{body}{suffix or ''}"
