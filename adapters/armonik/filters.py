"""Filter, sort and page the List* and Events requests over in-memory records.

Filters are a disjunction (`or`) of conjunctions (`and`) of `FilterField{field, value_condition}`;
an empty `or` matches everything. Each resource says how to read a field from a record through a
`Resolver` (field message -> getter). Unset timestamps read as None: they match only NOT_EQUAL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from gateway.errors import InvalidArgument

from .records import Options

Getter = Callable[[Any], Any]
Resolver = Callable[[Any], Getter]
Predicate = Callable[[Any], bool]

_STRING_OPS: dict[int, Callable[[str, str], bool]] = {
    0: lambda v, x: v == x,
    1: lambda v, x: v != x,
    2: lambda v, x: x in v,
    3: lambda v, x: x not in v,
    4: lambda v, x: v.startswith(x),
    5: lambda v, x: v.endswith(x),
}
# Number, date and duration operators share their numbering: =, !=, <, <=, >=, >.
_ORDER_OPS: dict[int, Callable[[Any, Any], bool]] = {
    0: lambda v, x: v == x,
    1: lambda v, x: v != x,
    2: lambda v, x: v < x,
    3: lambda v, x: v <= x,
    4: lambda v, x: v >= x,
    5: lambda v, x: v > x,
}


def _condition(ff: Any, get: Getter) -> Predicate:
    kind = ff.WhichOneof("value_condition")
    if kind is None:
        raise InvalidArgument("filter without a value condition")
    cond = getattr(ff, kind)
    op = cond.operator
    if kind == "filter_string":
        sfn, x = _STRING_OPS[op], cond.value
        return lambda rec: sfn("" if (v := get(rec)) is None else str(v), x)
    if kind == "filter_number":
        nfn, n = _ORDER_OPS[op], cond.value
        return lambda rec: nfn(get(rec) or 0, n)
    if kind in ("filter_date", "filter_duration"):
        dfn = _ORDER_OPS[op]
        d = cond.value.ToNanoseconds() / 1e9 if cond.HasField("value") else 0.0
        return lambda rec: (v := get(rec)) is not None and dfn(v, d) if op != 1 else (get(rec) != d)
    if kind == "filter_array":
        x = cond.value
        return (lambda rec: x in (get(rec) or ())) if op == 0 else (lambda rec: x not in (get(rec) or ()))
    if kind == "filter_status":
        s = int(cond.value)
        return (lambda rec: int(get(rec)) == s) if op == 0 else (lambda rec: int(get(rec)) != s)
    if kind == "filter_boolean":
        b = cond.value
        return lambda rec: bool(get(rec)) == b
    raise InvalidArgument(f"unsupported filter {kind}")


def compile_filters(filters: Any, resolve: Resolver) -> Predicate:
    """A predicate for a `Filters` message (None or empty: everything)."""
    if filters is None or not len(filters.__getattribute__("or")):
        return lambda rec: True
    clauses: list[list[Predicate]] = []
    for conj in getattr(filters, "or"):
        clauses.append([_condition(ff, resolve(ff.field)) for ff in getattr(conj, "and")])
    return lambda rec: any(all(p(rec) for p in clause) for clause in clauses)


def equal_values(filters: Any, is_field: Callable[[Any], bool]) -> set[str] | None:
    """If every `or` clause pins `field == value`, the set of those values (an index lookup), else None."""
    if filters is None or not len(getattr(filters, "or")):
        return None
    out: set[str] = set()
    for conj in getattr(filters, "or"):
        for ff in getattr(conj, "and"):
            if ff.WhichOneof("value_condition") == "filter_string" and ff.filter_string.operator == 0 \
                    and is_field(ff.field):
                out.add(ff.filter_string.value)
                break
        else:
            return None
    return out


def only_equal_values(filters: Any, is_field: Callable[[Any], bool]) -> bool:
    """Whether every `or` clause is exactly one `field == value` condition: then membership in
    `equal_values` is the whole predicate."""
    return filters is not None and all(
        len(getattr(conj, "and")) == 1 for conj in getattr(filters, "or")
    ) and equal_values(filters, is_field) is not None


def page(records: Iterable[Any], pred: Predicate, sort_key: Getter | None, descending: bool,
         page_no: int, page_size: int) -> tuple[list[Any], int]:
    """Filter, sort (None first ascending) and cut one page; returns (items, total)."""
    if page_no < 0 or page_size < 0:
        raise InvalidArgument(f"page ({page_no}) and page_size ({page_size}) must be >= 0")
    items = [r for r in records if pred(r)]
    if sort_key is not None:
        items.sort(key=lambda r: _sortable(sort_key(r)), reverse=descending)
    total = len(items)
    if page_size == 0:
        return items, total
    return items[page_no * page_size:(page_no + 1) * page_size], total


def _sortable(v: Any) -> tuple[int, Any]:
    if v is None:
        return (0, 0)
    if isinstance(v, list | tuple):
        return (1, tuple(str(x) for x in v))
    return (1, v)


# ---------------------------------------------------------------------------------------------
# Field getters shared by sessions and tasks
# ---------------------------------------------------------------------------------------------

_OPTION_FIELDS: dict[int, str] = {
    1: "max_duration",
    2: "max_retries",
    3: "priority",
    4: "partition_id",
    5: "application_name",
    6: "application_version",
    7: "application_namespace",
    8: "application_service",
    9: "engine_type",
}


def option_getter(field_no: int, options_of: Callable[[Any], Options]) -> Getter:
    name = _OPTION_FIELDS.get(field_no)
    if name is None:
        raise InvalidArgument(f"unknown task option field {field_no}")
    return lambda rec: getattr(options_of(rec), name)


def generic_option_getter(key: str, options_of: Callable[[Any], Options]) -> Getter:
    return lambda rec: options_of(rec).options.get(key)


def attr_getter(names: dict[int, str], field_no: int, what: str) -> Getter:
    name = names.get(field_no)
    if name is None:
        raise InvalidArgument(f"unknown {what} field {field_no}")

    def get(rec: Any) -> Any:
        v = getattr(rec, name)
        if isinstance(v, float) and name.endswith("_at"):
            return v or None
        return v

    return get


def sort_spec(sort: Any, resolve: Resolver, has_sort: bool) -> tuple[Getter | None, bool]:
    if not has_sort or not sort.HasField("field") or sort.field.WhichOneof("field") is None:
        return None, sort.direction == 2 if has_sort else False
    return resolve(sort.field), sort.direction == 2


def first(seq: Sequence[Any]) -> Any:
    return seq[0] if seq else None
