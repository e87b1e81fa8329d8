"""Context and boolean built-ins (get value, context put, not, is defined, assert ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import FeelEvaluationError
from . import builtin


@builtin("get value", ("m", "key"), ("context", "key"), ("context", "keys"))
def _get_value(context: Any, key: Any) -> Any:
    if not isinstance(context, Mapping):
        return None
    if isinstance(key, str):
        return context.get(key)
    if not isinstance(key, list) or not key:
        return None
    value: Any = context
    for part in key:
        if not isinstance(part, str) or not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


@builtin("get entries", ("m",), ("context",))
def _get_entries(context: Any) -> Any:
    if not isinstance(context, Mapping):
        return None
    return [{"key": k, "value": v} for k, v in context.items()]


def _put(context: Mapping[str, Any], keys: list[Any], value: Any) -> Any:
    head, rest = keys[0], keys[1:]
    if not isinstance(head, str):
        return None
    result = dict(context)
    if rest:
        inner = context.get(head)
        nested = _put(inner if isinstance(inner, Mapping) else {}, rest, value)
        if nested is None:
            return None
        result[head] = nested
    else:
        result[head] = value
    return result


@builtin("context put", ("context", "key", "value"), ("context", "keys", "value"))
def _context_put(context: Any, key: Any, value: Any) -> Any:
    if not isinstance(context, Mapping):
        return None
    keys = key if isinstance(key, list) else [key]
    return _put(context, keys, value) if keys else None


@builtin("context merge", ("contexts",), variadic=True)
def _context_merge(*contexts: Any) -> Any:
    parts = contexts[0] if len(contexts) == 1 and isinstance(contexts[0], list) else list(contexts)
    if not all(isinstance(c, Mapping) for c in parts):
        return None
    result: dict[str, Any] = {}
    for c in parts:
        result.update(c)
    return result


@builtin("context", ("entries",))
def _context(entries: Any) -> Any:
    if not isinstance(entries, list):
        return None
    result: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str) or "value" not in entry:
            return None
        result[entry["key"]] = entry["value"]
    return result


@builtin("not", ("negand",))
def _not(value: Any) -> Any:
    return (not value) if isinstance(value, bool) else None


@builtin("is defined", ("value",))
def _is_defined(value: Any) -> Any:
    return value is not None


@builtin("get or else", ("value", "default"))
def _get_or_else(value: Any, default: Any) -> Any:
    return default if value is None else value


@builtin("assert", ("value", "condition"), ("value", "condition", "cause"))
def _assert(value: Any, condition: Any, cause: Any = None) -> Any:
    # the one built-in whose failure must stop the evaluation (Zeebe raises an incident)
    if condition is not True:
        raise FeelEvaluationError(cause if isinstance(cause, str) else "The condition is not fulfilled")
    return value
