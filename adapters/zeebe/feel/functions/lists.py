"""List built-ins."""

from __future__ import annotations

import functools
from typing import Any

from ..values import FeelFunction, feel_compare, feel_equal, to_int
from . import builtin


def _items(args: tuple[Any, ...]) -> list[Any]:
    # min(1, 2, 3) and min([1, 2, 3]) are the same call
    return args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)


def _contains(items: list[Any], value: Any) -> bool:
    return any(feel_equal(item, value) is True for item in items)


@builtin("list contains", ("list", "element"))
def _list_contains(items: Any, value: Any) -> Any:
    return _contains(items, value) if isinstance(items, list) else None


@builtin("count", ("list",))
def _count(items: Any) -> Any:
    return len(items) if isinstance(items, list) else None


def _extreme(args: tuple[Any, ...], sign: int) -> Any:
    items = _items(args)
    if not items:
        return None
    best = items[0]
    for item in items[1:]:
        c = feel_compare(item, best)
        if c is None:
            return None
        if c * sign > 0:
            best = item
    return best if feel_compare(best, best) is not None else None


@builtin("min", ("list",), variadic=True)
def _min(*args: Any) -> Any:
    return _extreme(args, -1)


@builtin("max", ("list",), variadic=True)
def _max(*args: Any) -> Any:
    return _extreme(args, 1)


@builtin("all", ("list",), variadic=True)
def _all(*args: Any) -> Any:
    items = _items(args)
    if any(v is False for v in items):
        return False
    return True if all(v is True for v in items) else None


@builtin("any", ("list",), variadic=True)
def _any(*args: Any) -> Any:
    items = _items(args)
    if any(v is True for v in items):
        return True
    return False if all(v is False for v in items) else None


@builtin("sublist", ("list", "start position"), ("list", "start position", "length"))
def _sublist(items: Any, start: Any, length: Any = None) -> Any:
    begin = to_int(start)
    if not isinstance(items, list) or begin is None or begin == 0 or abs(begin) > len(items):
        return None
    first = begin - 1 if begin > 0 else len(items) + begin
    if length is None:
        return items[first:]
    count = to_int(length)
    if count is None or count < 0 or first + count > len(items):
        return None
    return items[first : first + count]


@builtin("append", ("list", "items"), variadic=True)
def _append(items: Any, *more: Any) -> Any:
    return [*items, *more] if isinstance(items, list) else None


@builtin("concatenate", ("lists",), variadic=True)
def _concatenate(*lists: Any) -> Any:
    if not all(isinstance(part, list) for part in lists):
        return None
    return [item for part in lists for item in part]


@builtin("insert before", ("list", "position", "newItem"))
def _insert_before(items: Any, position: Any, new_item: Any) -> Any:
    i = to_int(position)
    if not isinstance(items, list) or i is None or i == 0 or abs(i) > len(items):
        return None
    index = i - 1 if i > 0 else len(items) + i
    return [*items[:index], new_item, *items[index:]]


@builtin("remove", ("list", "position"))
def _remove(items: Any, position: Any) -> Any:
    i = to_int(position)
    if not isinstance(items, list) or i is None or i == 0 or abs(i) > len(items):
        return None
    index = i - 1 if i > 0 else len(items) + i
    return [*items[:index], *items[index + 1 :]]


@builtin("reverse", ("list",))
def _reverse(items: Any) -> Any:
    return items[::-1] if isinstance(items, list) else None


def _positions(items: list[Any], match: Any) -> list[int]:
    return [i for i, item in enumerate(items, 1) if feel_equal(item, match) is True]


@builtin("index of", ("list", "match"))
def _index_of(items: Any, match: Any) -> Any:
    return _positions(items, match) if isinstance(items, list) else None


def _distinct(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if not _contains(out, item):
            out.append(item)
    return out


@builtin("union", ("lists",), variadic=True)
def _union(*lists: Any) -> Any:
    if len(lists) == 1 and isinstance(lists[0], list) and all(isinstance(p, list) for p in lists[0]):
        lists = tuple(lists[0])  # union(lists: [[1, 2], [2, 3]])
    if not all(isinstance(part, list) for part in lists):
        return None
    return _distinct([item for part in lists for item in part])


@builtin("distinct values", ("list",))
def _distinct_values(items: Any) -> Any:
    return _distinct(items) if isinstance(items, list) else None


@builtin("duplicate values", ("list",))
def _duplicate_values(items: Any) -> Any:
    if not isinstance(items, list):
        return None
    # each repeated value once, in the order of its first occurrence
    return [item for item in _distinct(items) if len(_positions(items, item)) > 1]


def _flat(items: list[Any], out: list[Any]) -> list[Any]:
    for item in items:
        if isinstance(item, list):
            _flat(item, out)
        else:
            out.append(item)
    return out


@builtin("flatten", ("list",))
def _flatten(items: Any) -> Any:
    return _flat(items, []) if isinstance(items, list) else None


@builtin("sort", ("list", "precedes"))
def _sort(items: Any, precedes: Any) -> Any:
    # feel-scala has no natural-order sort: the ordering function is required
    if not isinstance(items, list) or not isinstance(precedes, FeelFunction):
        return None

    def compare(a: Any, b: Any) -> int:
        if precedes.invoke([a, b]) is True:
            return -1
        return 1 if precedes.invoke([b, a]) is True else 0

    return sorted(items, key=functools.cmp_to_key(compare))


@builtin("is empty", ("list",))
def _is_empty(items: Any) -> Any:
    return len(items) == 0 if isinstance(items, list) else None
