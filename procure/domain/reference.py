"""Reference data of a council: people, cost centres, GL codes, VAT codes, suppliers, categories.

Imports: the standard library and ``procure.domain.money`` only. These are plain, frozen values;
loading them from a file or the database happens elsewhere (``procure.reference``, ``procure.store``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property


class Role(StrEnum):
    """What a person may do. Approval roles are resolved per cost centre or from the policy."""

    REQUISITIONER = "requisitioner"
    BUDGET_HOLDER = "budget_holder"
    HEAD_OF_SERVICE = "head_of_service"
    DIRECTOR = "director"
    PROCUREMENT = "procurement"
    ICT_MANAGER = "ict_manager"
    RECEIVER = "receiver"
    FINANCE = "finance"
    ADMIN = "admin"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    roles: frozenset[str]
    approval_limit: Decimal
    line_manager_id: str | None = None
    department: str | None = None
    active: bool = True

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class CostCentre:
    code: str
    name: str
    budget_holder_id: str
    head_of_service_id: str
    director_id: str
    annual_budget: Decimal
    site: str | None = None


@dataclass(frozen=True)
class GLCode:
    """A nominal (general ledger) code that spend is charged to."""

    code: str
    name: str


@dataclass(frozen=True)
class VatCode:
    """A UK VAT treatment and the EN 16931 VAT category (UNCL5305) it maps to."""

    code: str
    name: str
    rate: Decimal
    en16931_category: str


@dataclass(frozen=True)
class Supplier:
    id: str
    name: str
    vat_number: str | None
    address_lines: tuple[str, ...]
    postcode: str
    country: str
    sort_code: str | None = None
    account_number: str | None = None
    iban: str | None = None
    finance_ref: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Category:
    """A procurement category; ``approver_role`` adds a category approver (e.g. the ICT manager)."""

    code: str
    name: str
    approver_role: str | None = None


@dataclass(frozen=True)
class Delegation:
    """While ``approver_id`` is away (inclusive dates), their approval tasks go to ``delegate_id``."""

    approver_id: str
    delegate_id: str
    starts: date
    ends: date
    reason: str = ""

    def covers(self, on: date) -> bool:
        return self.starts <= on <= self.ends


@dataclass(frozen=True)
class Organisation:
    """The council itself: the buyer on every invoice it receives."""

    name: str = "Wyvern Vale District Council"
    vat_number: str | None = "GB888801276"
    address_line: str = "Civic Centre, Market Street"
    city: str = "Wyvern"
    postcode: str = "WV1 1AA"
    country: str = "GB"


@dataclass(frozen=True)
class ReferenceData:
    """Everything the policy and validation need to know about the council, looked up by id."""

    people: dict[str, Person] = field(default_factory=dict)
    cost_centres: dict[str, CostCentre] = field(default_factory=dict)
    gl_codes: dict[str, GLCode] = field(default_factory=dict)
    vat_codes: dict[str, VatCode] = field(default_factory=dict)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    delegations: tuple[Delegation, ...] = ()

    def supplier_with_vat(self, vat: str) -> Supplier | None:
        """The first supplier whose VAT number is ``vat`` (any case)."""
        return self._supplier_index[0].get(vat.upper())

    def supplier_named(self, name: str) -> Supplier | None:
        """The first supplier called ``name`` (any case)."""
        return self._supplier_index[1].get(name.lower())

    @cached_property
    def _supplier_index(self) -> tuple[dict[str, Supplier], dict[str, Supplier]]:
        """Suppliers by VAT number and by name, the first of each kept: intake looks every
        document's seller up here, and a council has thousands of suppliers."""
        by_vat: dict[str, Supplier] = {}
        by_name: dict[str, Supplier] = {}
        for s in self.suppliers.values():
            if s.vat_number:
                by_vat.setdefault(s.vat_number.upper(), s)
            by_name.setdefault(s.name.lower(), s)
        return by_vat, by_name

    def holders_of(self, role: str) -> list[Person]:
        return sorted(
            (p for p in self.people.values() if p.active and p.has_role(role)), key=lambda p: p.id
        )

    def delegate_for(self, person_id: str, on: date) -> Delegation | None:
        for d in self.delegations:
            if d.approver_id == person_id and d.covers(on):
                return d
        return None
