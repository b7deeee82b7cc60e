"""Export reference data as a council file (TOML), or in the file's shape as plain data.

Role: the reverse of ``procure.reference.council_file``: ``council_to_dict`` gives the file's
tables as JSON-friendly data and ``dump_council_toml`` writes them as a file that
``load_council`` reads back to equal reference data, so that the store can export what it holds.

Imports: the standard library, ``procure.domain`` and ``procure.reference.council_layout`` only.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from procure.domain.reference import ReferenceData
from procure.reference.council_layout import COUNCIL_TABLES, ROLES

__all__ = ["council_to_dict", "dump_council_toml"]

_DATE_KEYS = frozenset({"starts", "ends"})


def _plain(value: object) -> object:
    """A value as the file writes it: money and dates as strings, roles in the Role order."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return [r for r in ROLES if r in value] + sorted(value - set(ROLES))
    if isinstance(value, tuple):
        return list(value)
    return value


def council_to_dict(reference: ReferenceData) -> dict[str, list[dict[str, object]]]:
    """The reference data in the file's shape, JSON-friendly (money and dates as strings).

    Optional keys that hold nothing and ``active = true`` (the default) are left out.
    """
    result: dict[str, list[dict[str, object]]] = {}
    for name, spec in COUNCIL_TABLES.items():
        items = getattr(reference, name)
        result[name] = [
            {
                key: _plain(getattr(item, attribute))
                for key, attribute in spec.fields
                if getattr(item, attribute) is not None and getattr(item, attribute) is not True
            }
            for item in (items.values() if isinstance(items, dict) else items)
        ]
    return result


def _toml_string(text: str) -> str:
    # JSON escapes are valid TOML basic-string escapes; TOML also forbids a raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(key, v) for v in value) + "]"
    if key in _DATE_KEYS and isinstance(value, str):
        return value  # a bare TOML date
    return _toml_string(str(value))


def dump_council_toml(reference: ReferenceData) -> str:
    """The reference data as a council file that ``load_council`` reads back to equal data."""
    out = [
        "# Council reference data exported by procure.",
        "# The format is described at the top of procure/reference/sample_council.toml.",
    ]
    for table, entries in council_to_dict(reference).items():
        for entry in entries:
            out.append("")
            out.append(f"[[{table}]]")
            out.extend(f"{key} = {_toml_value(key, value)}" for key, value in entry.items())
    return "\n".join(out) + "\n"
