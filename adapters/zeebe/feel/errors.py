"""Exceptions raised by the FEEL evaluator."""

from __future__ import annotations


class FeelError(Exception):
    """Base class of every FEEL error."""


class FeelSyntaxError(FeelError):
    """The expression text is not valid FEEL.

    ``position`` is the 0-based character offset in the source text where the problem was found.
    """

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.message = message
        self.position = position


class FeelEvaluationError(FeelError):
    """The expression is valid but its evaluation cannot produce a value.

    FEEL turns most problems (missing variables, type mismatches, bad arguments) into ``null``;
    this is raised only where the engine must raise an incident instead (failed assertions,
    resource limits).
    """
