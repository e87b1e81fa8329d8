"""Tokenizer for FEEL expressions.

Built-in function names that contain spaces (``string length``, ``date and time`` ...) are joined
into one name token when the words are followed by ``(``, which is how FEEL tells them apart from
``x and time``-style expressions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .errors import FeelSyntaxError

MULTI_WORD_FUNCTIONS: Final = (
    "string length",
    "upper case",
    "lower case",
    "substring before",
    "substring after",
    "starts with",
    "ends with",
    "string join",
    "list contains",
    "insert before",
    "index of",
    "distinct values",
    "duplicate values",
    "get value",
    "get entries",
    "context put",
    "context merge",
    "is defined",
    "get or else",
    "round up",
    "round down",
    "round half up",
    "round half down",
    "date and time",
    "years and months duration",
    "day of week",
    "day of year",
    "week of year",
    "month of year",
    "last day of month",
    "is empty",
    "to base64",
    "from base64",
)

# first word -> candidate names split into words, longest first so "round half up" beats "round up"
_BY_FIRST_WORD: dict[str, list[list[str]]] = {}
for _name in sorted(MULTI_WORD_FUNCTIONS, key=lambda n: -len(n.split())):
    _words = _name.split()
    _BY_FIRST_WORD.setdefault(_words[0], []).append(_words)

_OPERATORS: Final = (
    "**",
    "..",
    "!=",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "=",
    "<",
    ">",
    ".",
    ",",
    ":",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "?",
)
_ESCAPES: Final = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "'": "'"}
_VALUE_END: Final = frozenset({")", "]", "}"})


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is num, str, name, at (``@"..."`` literal), op or eof."""

    kind: str
    value: str
    pos: int


def _is_name_start(ch: str) -> bool:
    return ch.isalpha() or ch in "_$"


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


class Lexer:
    """Turns source text into a list of tokens (see :func:`tokenize`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []

    def run(self) -> list[Token]:
        """Tokenize the whole text."""
        text, n = self.text, len(self.text)
        while True:
            self._skip_space_and_comments()
            if self.pos >= n:
                self.tokens.append(Token("eof", "", n))
                return self.tokens
            ch = text[self.pos]
            if ch.isdigit() or (ch == "." and self._next_is_digit() and not self._after_value()):
                self._number()
            elif ch == '"':
                start = self.pos
                self.tokens.append(Token("str", self._string(), start))
            elif ch == "@" and self.pos + 1 < n and text[self.pos + 1] == '"':
                start = self.pos
                self.pos += 1
                self.tokens.append(Token("at", self._string(), start))
            elif ch == "`":
                self._backtick_name()
            elif _is_name_start(ch):
                self._name()
            else:
                for op in _OPERATORS:
                    if text.startswith(op, self.pos):
                        self.tokens.append(Token("op", op, self.pos))
                        self.pos += len(op)
                        break
                else:
                    raise FeelSyntaxError(f"unexpected character {ch!r}", self.pos)

    def _next_is_digit(self) -> bool:
        nxt = self.pos + 1
        return nxt < len(self.text) and self.text[nxt].isdigit()

    def _after_value(self) -> bool:
        if not self.tokens:
            return False
        last = self.tokens[-1]
        return last.kind in ("num", "str", "name", "at") or (last.kind == "op" and last.value in _VALUE_END)

    def _skip_space_and_comments(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch.isspace():
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise FeelSyntaxError("unterminated comment", self.pos)
                self.pos = end + 2
            else:
                return

    def _number(self) -> None:
        text, start = self.text, self.pos
        while self.pos < len(text) and text[self.pos].isdigit():
            self.pos += 1
        # "1..5" is a range, so a dot belongs to the number only when a digit follows it
        if self.pos < len(text) and text[self.pos] == "." and self._next_is_digit():
            self.pos += 1
            while self.pos < len(text) and text[self.pos].isdigit():
                self.pos += 1
        self.tokens.append(Token("num", text[start : self.pos], start))

    def _string(self) -> str:
        text, start = self.text, self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\" and self.pos + 1 < len(text):
                esc = text[self.pos + 1]
                if esc in _ESCAPES:
                    out.append(_ESCAPES[esc])
                    self.pos += 2
                    continue
                if esc == "u" and self.pos + 6 <= len(text):
                    try:
                        out.append(chr(int(text[self.pos + 2 : self.pos + 6], 16)))
                        self.pos += 6
                        continue
                    except ValueError:
                        raise FeelSyntaxError("invalid \\u escape in string", self.pos) from None
                # unknown escapes such as "\s" stay as written: they are regex patterns
                out.append(ch + esc)
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1
        raise FeelSyntaxError("unterminated string literal", start)

    def _backtick_name(self) -> None:
        start = self.pos
        end = self.text.find("`", start + 1)
        if end < 0:
            raise FeelSyntaxError("unterminated `name`", start)
        self.tokens.append(Token("name", self.text[start + 1 : end], start))
        self.pos = end + 1

    def _word_at(self, pos: int) -> tuple[str, int]:
        text, end = self.text, pos
        if end < len(text) and _is_name_start(text[end]):
            end += 1
            while end < len(text) and _is_name_char(text[end]):
                end += 1
        return text[pos:end], end

    def _name(self) -> None:
        start = self.pos
        word, end = self._word_at(start)
        for words in _BY_FIRST_WORD.get(word, ()):
            joined_end = self._match_words(words[1:], end)
            if joined_end is not None:
                self.tokens.append(Token("name", " ".join(words), start))
                self.pos = joined_end
                return
        self.tokens.append(Token("name", word, start))
        self.pos = end

    def _match_words(self, rest: list[str], pos: int) -> int | None:
        text = self.text
        for expected in rest:
            gap = pos
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos == gap:
                return None
            word, pos = self._word_at(pos)
            if word != expected:
                return None
        probe = pos
        while probe < len(text) and text[probe].isspace():
            probe += 1
        return pos if probe < len(text) and text[probe] == "(" else None


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``eof`` token; raises FeelSyntaxError."""
    return Lexer(text).run()
