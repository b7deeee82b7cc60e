"""Declarative workflow: one transition table per document dimension, checked in one place.

Imports: the standard library and ``procure.errors`` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from procure.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


def next_state(table: Mapping[tuple[S, str], S], current: S, action: str, what: str) -> S:
    """The state that ``action`` leads to from ``current``, or InvalidTransition naming both."""
    try:
        return table[(current, action)]
    except KeyError:
        allowed = sorted(a for (s, a) in table if s == current)
        hint = f"; allowed now: {', '.join(allowed)}" if allowed else ""
        raise InvalidTransition(
            f"cannot {action.replace('_', ' ')} {what}: it is {current.value.replace('_', ' ')}"
            f"{hint}"
        ) from None
