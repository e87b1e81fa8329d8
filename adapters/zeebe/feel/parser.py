"""Pratt parser: FEEL tokens to an AST (:mod:`.nodes`)."""

from __future__ import annotations

from decimal import Decimal

from . import nodes as n
from .errors import FeelSyntaxError
from .lexer import Token, tokenize
from .temporal import parse_date, parse_date_time, parse_duration, parse_time

# binding powers, low to high
_OR, _AND, _CMP, _RANGE, _ADD, _MUL, _POW, _POSTFIX = 10, 20, 30, 35, 40, 50, 60, 80
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_INFIX_OPS = {
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
    "**": _POW,
    "..": _RANGE,
    ".": _POSTFIX,
    "[": _POSTFIX,
    "(": _POSTFIX,
} | dict.fromkeys(_COMPARISONS, _CMP)
_INFIX_WORDS = {"or": _OR, "and": _AND, "between": _CMP, "in": _CMP, "instance": _CMP}
_RESERVED = frozenset({"and", "or", "then", "else", "return", "satisfies", "in", "between", "instance"})
_TYPE_NAMES = (
    "years and months duration",
    "days and time duration",
    "date and time",
    "number",
    "string",
    "boolean",
    "date",
    "time",
    "list",
    "context",
    "function",
    "range",
    "Any",
)


def _describe(tok: Token) -> str:
    return "end of expression" if tok.kind == "eof" else repr(tok.value)


class Parser:
    """Parses one expression; see :func:`parse`."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at_op(self, value: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "op" and tok.value == value

    def at_word(self, value: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "name" and tok.value == value

    def expect_op(self, value: str, context: str) -> Token:
        tok = self.peek()
        if tok.kind != "op" or tok.value != value:
            raise FeelSyntaxError(f"expected '{value}' {context} but found {_describe(tok)}", tok.pos)
        return self.advance()

    def expect_word(self, value: str, context: str) -> Token:
        tok = self.peek()
        if tok.kind != "name" or tok.value != value:
            raise FeelSyntaxError(f"expected '{value}' {context} but found {_describe(tok)}", tok.pos)
        return self.advance()

    def expect_name(self, context: str) -> str:
        tok = self.peek()
        if tok.kind != "name" or tok.value in _RESERVED:
            raise FeelSyntaxError(f"expected a name {context} but found {_describe(tok)}", tok.pos)
        return self.advance().value

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> n.Node:
        if self.peek().kind == "eof":
            raise FeelSyntaxError("empty expression", 0)
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != "eof":
            raise FeelSyntaxError(f"unexpected {_describe(tok)} after a complete expression", tok.pos)
        return node

    def expression(self, min_bp: int) -> n.Node:
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok.kind == "op":
                bp = _INFIX_OPS.get(tok.value, 0)
            elif tok.kind == "name":
                bp = _INFIX_WORDS.get(tok.value, 0)
            else:
                bp = 0
            if bp <= min_bp:
                return left
            left = self.infix(left, self.advance(), bp)

    def infix(self, left: n.Node, tok: Token, bp: int) -> n.Node:
        op = tok.value
        if tok.kind == "name":
            if op in ("and", "or"):
                return n.Logical(op, left, self.expression(bp), pos=tok.pos)
            if op == "between":
                low = self.expression(_CMP)
                self.expect_word("and", "in 'between ... and ...'")
                return n.Between(left, low, self.expression(_CMP), pos=tok.pos)
            if op == "in":
                return n.In(left, self.unary_tests(), pos=tok.pos)
            self.expect_word("of", "after 'instance'")
            return n.InstanceOf(left, self.type_name(), pos=tok.pos)
        if op == ".":
            name_tok = self.peek()
            if name_tok.kind != "name":
                raise FeelSyntaxError(f"expected a name after '.' but found {_describe(name_tok)}", name_tok.pos)
            return n.Path(left, self.advance().value, pos=tok.pos)
        if op == "[":
            cond = self.expression(0)
            self.expect_op("]", "to close the filter")
            return n.Filter(left, cond, pos=tok.pos)
        if op == "(":
            return self.call(left, tok)
        if op == "..":
            return n.RangeLit(left, self.expression(bp), bare=True, pos=tok.pos)
        return n.Binary(op, left, self.expression(bp), pos=tok.pos)

    def call(self, callee: n.Node, tok: Token) -> n.Node:
        args: list[n.Node] = []
        named: list[tuple[str, n.Node]] = []
        while not self.at_op(")"):
            if args or named:
                self.expect_op(",", "between arguments")
            arg_pos = self.peek().pos
            name = self.named_argument()
            if name is not None:
                named.append((name, self.expression(0)))
            else:
                args.append(self.expression(0))
            if args and named:
                raise FeelSyntaxError("cannot mix positional and named arguments", arg_pos)
        self.advance()
        return n.Call(callee, tuple(args), tuple(named) if named else None, pos=callee.pos)

    def named_argument(self) -> str | None:
        # "start position: 3": one or more name tokens followed by ':'
        k = 0
        while self.peek(k).kind == "name":
            k += 1
        after = self.peek(k)
        if k and after.kind == "op" and after.value == ":":
            words = [self.advance().value for _ in range(k)]
            self.advance()
            return " ".join(words)
        return None

    def unary_tests(self) -> tuple[n.UnaryTest, ...]:
        if self.at_op("(") and self.has_top_level_comma():
            self.advance()
            tests = [self.unary_test()]
            while self.at_op(","):
                self.advance()
                tests.append(self.unary_test())
            self.expect_op(")", "to close the list of tests")
            return tuple(tests)
        return (self.unary_test(),)

    def has_top_level_comma(self) -> bool:
        depth, k = 0, 0
        while True:
            tok = self.peek(k)
            if tok.kind == "eof":
                return False
            if tok.kind == "op":
                if tok.value in "([{":
                    depth += 1
                elif tok.value in ")]}":
                    depth -= 1
                    if depth <= 0:
                        return False
                elif tok.value == "," and depth == 1:
                    return True
            k += 1

    def unary_test(self) -> n.UnaryTest:
        tok = self.peek()
        if tok.kind == "op" and tok.value in _COMPARISONS:
            self.advance()
            return n.UnaryTest(tok.value, self.expression(_CMP), pos=tok.pos)
        # "? < 10" tests the input with a full comparison, so it may not stop at '<'
        min_bp = _AND if tok.kind == "op" and tok.value == "?" else _CMP
        return n.UnaryTest("", self.expression(min_bp), pos=tok.pos)

    def type_name(self) -> str:
        tok = self.peek()
        for candidate in _TYPE_NAMES:
            words = candidate.split()
            if all(self.peek(k).kind == "name" and self.peek(k).value == w for k, w in enumerate(words)):
                self.i += len(words)
                return candidate
        raise FeelSyntaxError(f"unknown type name {_describe(tok)} after 'instance of'", tok.pos)

    def prefix(self) -> n.Node:
        tok = self.advance()
        kind, value = tok.kind, tok.value
        if kind == "num":
            return n.Literal(Decimal(value) if "." in value else int(value), pos=tok.pos)
        if kind == "str":
            return n.Literal(value, pos=tok.pos)
        if kind == "at":
            return n.Literal(self.temporal(value, tok.pos), pos=tok.pos)
        if kind == "name":
            return self.word(tok)
        if kind == "op":
            if value == "-":
                return n.Unary(self.expression(_POW), pos=tok.pos)
            if value == "(":
                return self.group_or_range(tok, start_included=False)
            if value == "[":
                return self.list_or_range(tok)
            if value == "]":
                return self.group_or_range(tok, start_included=False)
            if value == "{":
                return self.context(tok)
            if value == "?":
                return n.InputValue(pos=tok.pos)
        raise FeelSyntaxError(f"unexpected {_describe(tok)}", tok.pos)

    def word(self, tok: Token) -> n.Node:
        value = tok.value
        if value in ("true", "false"):
            return n.Literal(value == "true", pos=tok.pos)
        if value == "null":
            return n.Literal(None, pos=tok.pos)
        if value == "if":
            cond = self.expression(0)
            self.expect_word("then", "after the if condition")
            then = self.expression(0)
            self.expect_word("else", "after the then branch")
            return n.If(cond, then, self.expression(0), pos=tok.pos)
        if value in ("some", "every") and self.peek().kind == "name" and self.peek(1).value == "in":
            bindings = self.bindings()
            self.expect_word("satisfies", f"in '{value} ... in ...'")
            return n.Quantified(value, bindings, self.expression(0), pos=tok.pos)
        if value == "for" and self.peek().kind == "name" and self.peek(1).value == "in":
            bindings = self.bindings()
            self.expect_word("return", "in 'for ... in ...'")
            return n.For(bindings, self.expression(0), pos=tok.pos)
        if value == "function" and self.at_op("("):
            self.advance()
            params: list[str] = []
            while not self.at_op(")"):
                if params:
                    self.expect_op(",", "between parameters")
                params.append(self.expect_name("as a parameter"))
            self.advance()
            return n.FunctionDef(tuple(params), self.expression(0), pos=tok.pos)
        if value in _RESERVED:
            raise FeelSyntaxError(f"unexpected keyword '{value}'", tok.pos)
        return n.Name(value, pos=tok.pos)

    def bindings(self) -> tuple[tuple[str, n.Node], ...]:
        out = []
        while True:
            name = self.expect_name("as an iteration variable")
            self.expect_word("in", f"after '{name}'")
            out.append((name, self.expression(_CMP)))
            if not self.at_op(","):
                return tuple(out)
            self.advance()

    def range_end(self, start: n.Node, start_included: bool, tok: Token) -> n.Node:
        end = self.expression(_RANGE)
        close = self.peek()
        if close.kind == "op" and close.value in ("]", ")", "["):
            self.advance()
            return n.RangeLit(start, end, start_included, close.value == "]", pos=tok.pos)
        raise FeelSyntaxError(f"expected ']', ')' or '[' to close the range but found {_describe(close)}", close.pos)

    def group_or_range(self, tok: Token, start_included: bool) -> n.Node:
        inner = self.expression(_RANGE)
        if self.at_op(".."):
            self.advance()
            return self.range_end(inner, start_included, tok)
        if tok.value == "]":
            raise FeelSyntaxError("expected '..' in a range starting with ']'", self.peek().pos)
        while True:  # finish the full expression inside the parentheses
            nxt = self.peek()
            bp = (
                _INFIX_OPS.get(nxt.value, 0)
                if nxt.kind == "op"
                else _INFIX_WORDS.get(nxt.value, 0)
                if nxt.kind == "name"
                else 0
            )
            if bp == 0:
                break
            inner = self.infix(inner, self.advance(), bp)
        self.expect_op(")", "to close '('")
        return inner

    def list_or_range(self, tok: Token) -> n.Node:
        if self.at_op("]"):
            self.advance()
            return n.ListLit((), pos=tok.pos)
        first = self.expression(0)
        if isinstance(first, n.RangeLit) and first.bare and self.peek().value in (")", "["):
            self.advance()
            return n.RangeLit(first.start, first.end, True, False, pos=tok.pos)
        if isinstance(first, n.RangeLit) and first.bare and self.at_op("]"):
            self.advance()
            return n.RangeLit(first.start, first.end, True, True, pos=tok.pos)
        items = [first]
        while self.at_op(","):
            self.advance()
            items.append(self.expression(0))
        self.expect_op("]", "to close the list")
        return n.ListLit(tuple(items), pos=tok.pos)

    def context(self, tok: Token) -> n.Node:
        entries: list[tuple[str, n.Node]] = []
        while not self.at_op("}"):
            if entries:
                self.expect_op(",", "between context entries")
            key_tok = self.peek()
            if key_tok.kind == "str":
                key = self.advance().value
            elif key_tok.kind == "name":
                words = []
                while self.peek().kind == "name":
                    words.append(self.advance().value)
                key = " ".join(words)
            else:
                raise FeelSyntaxError(f"expected a context key but found {_describe(key_tok)}", key_tok.pos)
            if key in ("null", "true", "false"):
                raise FeelSyntaxError(f"'{key}' cannot be a context key", key_tok.pos)
            self.expect_op(":", f"after the context key '{key}'")
            entries.append((key, self.expression(0)))
        self.advance()
        return n.ContextLit(tuple(entries), pos=tok.pos)

    @staticmethod
    def temporal(text: str, pos: int) -> object:
        for parse in (parse_date_time if "T" in text else parse_date, parse_time, parse_duration):
            value = parse(text)
            if value is not None:
                return value
        raise FeelSyntaxError(f'invalid temporal literal @"{text}"', pos)


def parse(text: str) -> n.Node:
    """Parse FEEL source text into an AST; raises :class:`FeelSyntaxError`."""
    return Parser(text).parse()
