"""The shape of a council reference data file: its tables, their keys and the id key of each.

Role: the one description of the file's layout that both the reader
(``procure.reference.council_file``) and the writer (``procure.reference.council_export``) use,
so that what is exported is exactly what can be read back.

Imports: the standard library and ``procure.domain`` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from procure.domain.reference import Role

__all__ = ["COUNCIL_TABLES", "ROLES", "TableLayout"]

ROLES = tuple(r.value for r in Role)


def _fields(*pairs: str) -> tuple[tuple[str, str], ...]:
    """``"key"`` (same attribute name) or ``"key:attribute"`` → (file key, dataclass attribute)."""
    return tuple((p.split(":")[0], p.split(":")[-1]) for p in pairs)


@dataclass(frozen=True)
class TableLayout:
    """One ``[[table]]``: the key that identifies an entry (None: none does) and its keys."""

    id_key: str | None
    fields: tuple[tuple[str, str], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.fields)


# In reading order: people first, so that later tables can refer to them. The table names are
# also the attribute names of ReferenceData.
COUNCIL_TABLES: dict[str, TableLayout] = {
    "people": TableLayout(
        "id",
        _fields("id", "name", "email", "roles", "approval_limit", "line_manager:line_manager_id")
        + _fields("department", "active"),
    ),
    "cost_centres": TableLayout(
        "code",
        _fields("code", "name", "budget_holder:budget_holder_id")
        + _fields("head_of_service:head_of_service_id", "director:director_id")
        + _fields("annual_budget", "site"),
    ),
    "gl_codes": TableLayout("code", _fields("code", "name")),
    "vat_codes": TableLayout("code", _fields("code", "name", "rate", "en16931_category")),
    "suppliers": TableLayout(
        "id",
        _fields("id", "name", "vat_number", "address_lines", "postcode", "country", "sort_code")
        + _fields("account_number", "iban", "finance_ref", "active"),
    ),
    "categories": TableLayout("code", _fields("code", "name", "approver_role")),
    "delegations": TableLayout(
        None,
        _fields("approver:approver_id", "delegate:delegate_id", "starts", "ends", "reason"),
    ),
}
