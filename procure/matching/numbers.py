"""Invoice numbers compared as a clerk would compare them.

Imports: the standard library only. Intake (one accepted invoice per supplier and normalised
number) and matching's duplicate layers use the same rule.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[^0-9A-Z]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def normalise_number(number: str | None) -> str | None:
    """Invoice numbers compared as a clerk would: case, spaces, punctuation, leading zeros.

    ``"inv-000123"``, ``"INV 123"`` and ``"Inv.0123"`` all become ``"INV123"``.
    """
    if not number:
        return None
    tokens = [t for t in _SEPARATORS.split(number.upper()) if t]
    stripped = [_LEADING_ZEROS.sub("", t) for t in tokens]
    return "".join(stripped) or None
