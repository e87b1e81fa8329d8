"""Registry of FEEL built-in functions; the sibling modules register into it on import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..values import FeelFunction

BUILTINS: dict[str, FeelFunction] = {}


def builtin(
    name: str, *overloads: tuple[str, ...], variadic: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated implementation as the built-in ``name``."""

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        BUILTINS[name] = FeelFunction(name, overloads, impl, variadic)
        return impl

    return register


from . import contexts, lists, numbers, strings, temporals  # noqa: E402,F401  (registration)
