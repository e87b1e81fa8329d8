"""AST node types of FEEL expressions (produced by the parser, compiled by the evaluator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Node:
    """Base class of AST nodes; ``pos`` is the source offset of the node's first token."""

    pos: int


@dataclass(frozen=True)
class Literal(Node):
    """A number, string, boolean, null or ``@"..."`` temporal literal."""

    value: Any
    pos: int = 0


@dataclass(frozen=True)
class Name(Node):
    """A variable reference."""

    name: str
    pos: int = 0


@dataclass(frozen=True)
class InputValue(Node):
    """The ``?`` of a unary test: the value being tested."""

    pos: int = 0


@dataclass(frozen=True)
class Path(Node):
    """``base.name``: context entry, list projection or temporal property."""

    base: Node
    name: str
    pos: int = 0


@dataclass(frozen=True)
class Filter(Node):
    """``base[condition]``: a boolean filter or a 1-based (negative: from the end) index."""

    base: Node
    condition: Node
    pos: int = 0


@dataclass(frozen=True)
class Call(Node):
    """Function invocation with positional ``args`` or ``named`` arguments."""

    callee: Node
    args: tuple[Node, ...] = ()
    named: tuple[tuple[str, Node], ...] | None = None
    pos: int = 0


@dataclass(frozen=True)
class Unary(Node):
    """Arithmetic negation ``-x``."""

    operand: Node
    pos: int = 0


@dataclass(frozen=True)
class Binary(Node):
    """Arithmetic (``+ - * / **``) or comparison (``= != < <= > >=``)."""

    op: str
    left: Node
    right: Node
    pos: int = 0


@dataclass(frozen=True)
class Logical(Node):
    """``and`` / ``or`` with FEEL's three-valued logic."""

    op: str
    left: Node
    right: Node
    pos: int = 0


@dataclass(frozen=True)
class Between(Node):
    """``value between low and high`` (both ends included)."""

    value: Node
    low: Node
    high: Node
    pos: int = 0


@dataclass(frozen=True)
class UnaryTest(Node):
    """One positive unary test: ``op`` is a comparison (``<``, ``>=`` ...) or ``""`` for a value test."""

    op: str
    operand: Node
    pos: int = 0


@dataclass(frozen=True)
class In(Node):
    """``value in test`` or ``value in (test, test, ...)``: true if any test holds."""

    value: Node
    tests: tuple[UnaryTest, ...]
    pos: int = 0


@dataclass(frozen=True)
class RangeLit(Node):
    """``[a..b]``, ``(a..b]``, ``]a..b[`` or a bare ``a..b`` (closed)."""

    start: Node
    end: Node
    start_included: bool = True
    end_included: bool = True
    bare: bool = False
    pos: int = 0


@dataclass(frozen=True)
class ListLit(Node):
    """``[a, b, c]``."""

    items: tuple[Node, ...]
    pos: int = 0


@dataclass(frozen=True)
class ContextLit(Node):
    """``{key: value, ...}``; later entries see earlier ones."""

    entries: tuple[tuple[str, Node], ...]
    pos: int = 0


@dataclass(frozen=True)
class If(Node):
    """``if c then a else b``: the else branch runs unless ``c`` is true."""

    condition: Node
    then: Node
    otherwise: Node
    pos: int = 0


@dataclass(frozen=True)
class Quantified(Node):
    """``some|every x in xs, y in ys satisfies condition``."""

    kind: str
    bindings: tuple[tuple[str, Node], ...]
    condition: Node
    pos: int = 0


@dataclass(frozen=True)
class For(Node):
    """``for x in xs, y in ys return body`` (``partial`` holds the results so far)."""

    bindings: tuple[tuple[str, Node], ...]
    body: Node
    pos: int = 0


@dataclass(frozen=True)
class FunctionDef(Node):
    """``function(a, b) body``."""

    params: tuple[str, ...]
    body: Node
    pos: int = 0


@dataclass(frozen=True)
class InstanceOf(Node):
    """``value instance of type``."""

    value: Node
    type_name: str
    pos: int = 0
