"""Compiles a FEEL AST into nested Python closures, evaluated against variable scopes.

Compiling once to closures (instead of walking the tree on every evaluation) keeps the per-call cost
at a few microseconds, which matters because gateway conditions run on every token that passes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import InvalidOperation
from typing import Any

from . import nodes as n
from .errors import FeelEvaluationError
from .functions import BUILTINS
from .ops import add, divide, multiply, negate, power, subtract
from .temporal import temporal_property
from .values import FeelFunction, Range, feel_compare, feel_equal, is_number, kind, to_int

MISSING: Any = object()
# ranges iterated by for/some/every are materialised; refuse absurd sizes instead of eating memory
MAX_RANGE = 10_000_000


class Env:
    """A scope: its own variables plus the enclosing scope (the root wraps the caller's mapping)."""

    __slots__ = ("parent", "vars")

    def __init__(self, variables: Mapping[str, Any], parent: Env | None = None) -> None:
        self.vars = variables
        self.parent = parent

    def lookup(self, name: str) -> Any:
        """The variable's value, or MISSING when no scope defines it."""
        env: Env | None = self
        while env is not None:
            value = env.vars.get(name, MISSING)
            if value is not MISSING:
                return value
            env = env.parent
        return MISSING


Compiled = Callable[[Env], Any]
_FAILURES = (
    TypeError,
    ValueError,
    ArithmeticError,
    InvalidOperation,
    AttributeError,
    KeyError,
    IndexError,
    OverflowError,
    re.error,
    RecursionError,
)


def _binary(op: str) -> Callable[[Any, Any], Any]:
    def eq(a: Any, b: Any) -> Any:
        return feel_equal(a, b)

    def ne(a: Any, b: Any) -> Any:
        r = feel_equal(a, b)
        return None if r is None else not r

    def ordered(test: Callable[[int], bool]) -> Callable[[Any, Any], Any]:
        def compare(a: Any, b: Any) -> Any:
            c = feel_compare(a, b)
            return None if c is None else test(c)

        return compare

    table: dict[str, Callable[[Any, Any], Any]] = {
        "+": add,
        "-": subtract,
        "*": multiply,
        "/": divide,
        "**": power,
        "=": eq,
        "!=": ne,
        "<": ordered(lambda c: c < 0),
        "<=": ordered(lambda c: c <= 0),
        ">": ordered(lambda c: c > 0),
        ">=": ordered(lambda c: c >= 0),
    }
    return table[op]


def iterate(value: Any) -> list[Any] | None:
    """The items a for/some/every binding runs over: a list, or an integer range (either direction)."""
    if isinstance(value, list):
        return value
    if isinstance(value, Range):
        start, end = to_int(value.start), to_int(value.end)
        if start is None or end is None:
            return None
        if abs(end - start) > MAX_RANGE:
            raise FeelEvaluationError(f"range {value} is too large to iterate")
        step = 1 if end >= start else -1
        first = start if value.start_included else start + step
        last = end if value.end_included else end - step
        return list(range(first, last + step, step)) if (last - first) * step >= 0 else []
    return None


def _item_env(item: Any, env: Env) -> Env:
    # Inside a filter the item is "item", and a context item's entries are visible by name.
    if isinstance(item, Mapping):
        scope = dict(item)
        scope["item"] = item
        return Env(scope, env)
    return Env({"item": item}, env)


def get_path(base: Any, name: str) -> Any:
    """``base.name``: a context entry, a projection over a list, or a temporal property."""
    if isinstance(base, Mapping):
        return base.get(name)
    if isinstance(base, list):
        return [item.get(name) if isinstance(item, Mapping) else None for item in base]
    if isinstance(base, Range):
        props = {
            "start": base.start,
            "end": base.end,
            "start included": base.start_included,
            "end included": base.end_included,
        }
        return props.get(name)
    if base is None:
        return None
    return temporal_property(base, name)


def _index(items: list[Any], position: Any) -> Any:
    i = to_int(position)
    if i is None or i == 0 or abs(i) > len(items):
        return None
    return items[i - 1] if i > 0 else items[i]


def test_value(value: Any, expected: Any) -> bool | None:
    """A positive unary test given as a value: a range, a list, a boolean (``?``) or equality."""
    if isinstance(expected, Range):
        return expected.contains(value)
    if isinstance(expected, list) and not isinstance(value, list):
        return any(feel_equal(value, item) is True for item in expected)
    if isinstance(expected, list):
        # a list input is "in" a list of lists when equal to one of them, else compared as a whole
        if any(isinstance(item, list) for item in expected):
            return any(feel_equal(value, item) is True for item in expected)
        return feel_equal(value, expected)
    return feel_equal(value, expected)


class Compiler:
    """Turns AST nodes into closures ``fn(env) -> value``."""

    def compile(self, node: n.Node) -> Compiled:
        method = getattr(self, "c_" + type(node).__name__)
        result: Compiled = method(node)
        return result

    def c_Literal(self, node: n.Literal) -> Compiled:
        value = node.value
        return lambda env: value

    def c_Name(self, node: n.Name) -> Compiled:
        name = node.name

        def lookup(env: Env) -> Any:
            value = env.lookup(name)
            # built-in functions are resolved only when invoked, so a missing "date" is null
            return None if value is MISSING else value

        return lookup

    def c_InputValue(self, node: n.InputValue) -> Compiled:
        return lambda env: env.lookup("?") if env.lookup("?") is not MISSING else None

    def c_Path(self, node: n.Path) -> Compiled:
        base, name = self.compile(node.base), node.name
        return lambda env: get_path(base(env), name)

    def c_Filter(self, node: n.Filter) -> Compiled:
        base, cond = self.compile(node.base), self.compile(node.condition)
        static_index = isinstance(node.condition, n.Literal) and is_number(node.condition.value)

        def run(env: Env) -> Any:
            items = base(env)
            if not isinstance(items, list):
                return None
            if static_index:
                return _index(items, cond(env))
            if not items:
                return None if is_number(cond(env)) else []
            first = cond(_item_env(items[0], env))
            if is_number(first):
                return _index(items, first)
            out = [items[0]] if first is True else []
            out.extend(item for item in items[1:] if cond(_item_env(item, env)) is True)
            return out

        return run

    def c_Call(self, node: n.Call) -> Compiled:
        args = [self.compile(a) for a in node.args]
        named = None if node.named is None else [(k, self.compile(v)) for k, v in node.named]
        resolve: Compiled
        if isinstance(node.callee, n.Name):
            fname = node.callee.name
            builtin = BUILTINS.get(fname)

            def resolve_name(env: Env) -> Any:
                value = env.lookup(fname)
                return value if isinstance(value, FeelFunction) else builtin

            resolve = resolve_name
        else:
            resolve = self.compile(node.callee)

        def call(env: Env) -> Any:
            fn = resolve(env)
            if not isinstance(fn, FeelFunction):
                return None
            try:
                if named is not None:
                    return fn.invoke([], {k: v(env) for k, v in named})
                return fn.invoke([a(env) for a in args])
            except _FAILURES:
                return None  # FEEL reports a failed invocation as null, not as an error

        return call

    def c_Unary(self, node: n.Unary) -> Compiled:
        operand = self.compile(node.operand)
        return lambda env: negate(operand(env))

    def c_Binary(self, node: n.Binary) -> Compiled:
        left, right, fn = self.compile(node.left), self.compile(node.right), _binary(node.op)
        return lambda env: fn(left(env), right(env))

    def c_Logical(self, node: n.Logical) -> Compiled:
        left, right = self.compile(node.left), self.compile(node.right)
        if node.op == "and":

            def conj(env: Env) -> Any:
                a = left(env)
                if a is False:
                    return False
                b = right(env)
                if b is False:
                    return False
                return True if a is True and b is True else None

            return conj

        def disj(env: Env) -> Any:
            a = left(env)
            if a is True:
                return True
            b = right(env)
            if b is True:
                return True
            return False if a is False and b is False else None

        return disj

    def c_Between(self, node: n.Between) -> Compiled:
        value, low, high = self.compile(node.value), self.compile(node.low), self.compile(node.high)

        def between(env: Env) -> Any:
            v, lo, hi = value(env), low(env), high(env)
            c1, c2 = feel_compare(v, lo), feel_compare(v, hi)
            if c1 is None or c2 is None:
                return None
            return c1 >= 0 and c2 <= 0

        return between

    def c_In(self, node: n.In) -> Compiled:
        value = self.compile(node.value)
        tests = [self.unary_test(t) for t in node.tests]

        def in_(env: Env) -> Any:
            v = value(env)
            results = [t(v, env) for t in tests]
            if any(r is True for r in results):
                return True
            return False if all(r is False for r in results) else None

        return in_

    def unary_test(self, test: n.UnaryTest) -> Callable[[Any, Env], Any]:
        operand = self.compile(test.operand)
        if test.op:
            fn = _binary(test.op)
            return lambda v, env: fn(v, operand(env))
        uses_input = _uses_input(test.operand)

        def check(v: Any, env: Env) -> Any:
            if uses_input:
                result = operand(Env({"?": v}, env))
                return result if isinstance(result, bool) or result is None else test_value(v, result)
            return test_value(v, operand(env))

        return check

    def c_RangeLit(self, node: n.RangeLit) -> Compiled:
        start, end = self.compile(node.start), self.compile(node.end)
        si, ei = node.start_included, node.end_included

        def make(env: Env) -> Any:
            lo, hi = start(env), end(env)
            if lo is not None and hi is not None and kind(lo) != kind(hi):
                return None
            return Range(lo, hi, si, ei)

        return make

    def c_ListLit(self, node: n.ListLit) -> Compiled:
        items = [self.compile(i) for i in node.items]
        return lambda env: [i(env) for i in items]

    def c_ContextLit(self, node: n.ContextLit) -> Compiled:
        entries = [(k, self.compile(v)) for k, v in node.entries]

        def build(env: Env) -> Any:
            result: dict[str, Any] = {}
            scope = Env(result, env)  # later entries see the ones already built
            for key, value in entries:
                result[key] = value(scope)
            return result

        return build

    def c_If(self, node: n.If) -> Compiled:
        cond, then, other = self.compile(node.condition), self.compile(node.then), self.compile(node.otherwise)
        return lambda env: then(env) if cond(env) is True else other(env)

    def _combinations(self, bindings: list[tuple[str, Compiled]], env: Env) -> Iterator[Env] | None:
        if not bindings:
            return iter((env,))
        (name, source), rest = bindings[0], bindings[1:]
        items = iterate(source(env))
        if items is None:
            return None

        def gen() -> Iterator[Env]:
            for item in items:
                inner = Env({name: item}, env)
                sub = self._combinations(rest, inner)
                if sub is None:
                    raise _NotIterable
                yield from sub

        return gen()

    def c_Quantified(self, node: n.Quantified) -> Compiled:
        bindings = [(name, self.compile(src)) for name, src in node.bindings]
        cond, every = self.compile(node.condition), node.kind == "every"

        def quantify(env: Env) -> Any:
            combos = self._combinations(bindings, env)
            if combos is None:
                return None
            undecided = False
            try:
                for scope in combos:
                    r = cond(scope)
                    if r is (not every):
                        return r
                    if r is not every:
                        undecided = True
            except _NotIterable:
                return None
            return None if undecided else every

        return quantify

    def c_For(self, node: n.For) -> Compiled:
        bindings = [(name, self.compile(src)) for name, src in node.bindings]
        body = self.compile(node.body)

        def loop(env: Env) -> Any:
            results: list[Any] = []
            partial = Env({"partial": results}, env)
            combos = self._combinations(bindings, partial)
            if combos is None:
                return None
            try:
                for scope in combos:
                    results.append(body(scope))
            except _NotIterable:
                return None
            return results

        return loop

    def c_FunctionDef(self, node: n.FunctionDef) -> Compiled:
        params, body = node.params, self.compile(node.body)

        def define(env: Env) -> Any:
            def impl(*args: Any) -> Any:
                return body(Env(dict(zip(params, args, strict=True)), env))

            return FeelFunction("anonymous function", [params], impl)

        return define

    def c_InstanceOf(self, node: n.InstanceOf) -> Compiled:
        value, type_name = self.compile(node.value), node.type_name
        if type_name == "Any":
            return lambda env: value(env) is not None
        return lambda env: kind(value(env)) == type_name


class _NotIterable(Exception):
    """A nested for/some/every binding did not produce a list."""


def _uses_input(node: n.Node) -> bool:
    if isinstance(node, n.InputValue):
        return True
    for child in vars(node).values():
        if isinstance(child, n.Node) and _uses_input(child):
            return True
        if isinstance(child, tuple):
            for part in itertools.chain.from_iterable(c if isinstance(c, tuple) else (c,) for c in child):
                if isinstance(part, n.Node) and _uses_input(part):
                    return True
    return False


def compile_node(node: n.Node) -> Compiled:
    """Compile an AST into a closure taking an :class:`Env`."""
    return Compiler().compile(node)
