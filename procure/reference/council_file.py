"""Load and check a council's reference data file (TOML).

Role: turn the file a council officer writes (its format is documented at the top of
``procure/reference/sample_council.toml``) into a ``ReferenceData``, checking everything and
reporting every problem at once as a ``ValidationFailed`` whose problems name the entry and key,
e.g. ``people[s.jones].line_manager`` (the entry's id, or its position from 0 when it has no usable
id), with a stable code. The identifier checks (VAT numbers, bank details, postcodes, emails) are
in ``procure.reference.identifiers``, the file's layout in ``procure.reference.council_layout`` and
the reverse (``council_to_dict``, ``dump_council_toml``) in ``procure.reference.council_export``;
the names other modules used from here are re-exported.

Imports: the standard library, ``procure.domain``, ``procure.errors`` and the
``procure.reference`` modules named above only.

Problem codes: missing, wrong_type, unknown_key, duplicate_id, unknown_reference, lacks_role,
unknown_role, no_role_holder, line_manager_cycle, not_a_decimal, negative, bad_email,
bad_vat_number, bad_vat_category, bad_sort_code, bad_account_number, bad_iban, iban_mismatch,
bad_postcode, bad_country, bad_date, self_delegation, bad_toml.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from procure.domain.money import parse_decimal
from procure.domain.reference import (
    Category,
    CostCentre,
    Delegation,
    GLCode,
    Person,
    ReferenceData,
    Role,
    Supplier,
    VatCode,
)
from procure.errors import ConfigurationError, FieldProblem, ValidationFailed
from procure.reference.council_export import council_to_dict, dump_council_toml
from procure.reference.council_layout import COUNCIL_TABLES, ROLES, TableLayout
from procure.reference.identifiers import (
    iban_matches,
    is_email_address,
    normalise_account_number,
    normalise_sort_code,
    normalise_uk_postcode,
    validate_iban,
    validate_vat_number,
)

__all__ = [
    "EN16931_VAT_CATEGORIES",
    "council_to_dict",
    "dump_council_toml",
    "load_council",
    "normalise_sort_code",
    "parse_council",
    "validate_vat_number",
]

SAMPLE_FILE = "sample_council.toml"
EN16931_VAT_CATEGORIES = frozenset({"S", "Z", "E", "AE", "K", "G", "O", "L", "M"})


# --- Reading one entry ------------------------------------------------------------------------


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


@dataclass
class _Entry:
    """One ``[[table]]`` entry being read; problems are recorded against ``table[label].key``."""

    table: str
    label: str
    ident: str | None  # the entry's id, if it has a usable one and is the first with it
    data: Mapping[str, Any]
    problems: list[FieldProblem]
    start: int = field(init=False)

    def __post_init__(self) -> None:
        self.start = len(self.problems)

    @property
    def ok(self) -> bool:
        return len(self.problems) == self.start

    def problem(self, key: str, code: str, message: str) -> None:
        self.problems.append(FieldProblem(f"{self.table}[{self.label}].{key}", code, message))

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(key, "wrong_type", f"{key} must be quoted text, not {_describe(value)}")
            return None
        return value.strip() or None

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.problem(key, "missing", f"{key} is required")
            return ""
        return self.opt_text(key) or ""

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            self.problem(key, "missing", f'{key} is required (a list, e.g. ["a", "b"])')
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, "wrong_type", f"{key} must be a list of quoted texts")
            return ()
        return tuple(v.strip() for v in value)

    def money(self, key: str) -> Decimal:
        value = self.data.get(key)
        if value is None:
            self.problem(key, "missing", f"{key} is required")
            return Decimal(0)
        amount = parse_decimal(value)
        if amount is None:
            hint = " (a float)" if isinstance(value, float) else ""
            self.problem(
                key,
                "not_a_decimal",
                f'{value!r}{hint} is not a decimal: use a quoted decimal string, e.g. "20.00"',
            )
            return Decimal(0)
        if amount < 0:
            self.problem(key, "negative", f"{key} must not be negative ({value!r})")
        return amount

    def flag(self, key: str) -> bool:
        value = self.data.get(key, True)
        if not isinstance(value, bool):
            self.problem(key, "wrong_type", f"{key} must be true or false, not {_describe(value)}")
            return True
        return value

    def day(self, key: str) -> date:
        value = self.data.get(key)
        if value is None:
            self.problem(key, "missing", f"{key} is required (a date such as 2026-12-21)")
            return date.min
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        shown = repr(value) if isinstance(value, str) else str(value)
        self.problem(key, "bad_date", f"{shown} is not a date (write it as 2026-12-21)")
        return date.min


@dataclass
class _Context:
    """What entries of later tables are checked against."""

    person_ids: set[str] = field(default_factory=set)
    people: dict[str, Person] = field(default_factory=dict)


# --- The tables -------------------------------------------------------------------------------


def _person(e: _Entry, ctx: _Context) -> Person:
    roles = e.texts("roles")
    for role in roles:
        if role not in ROLES:
            e.problem("roles", "unknown_role", f"{role!r} is not a role ({', '.join(ROLES)})")
    email = e.text("email")
    if email and not is_email_address(email):
        e.problem("email", "bad_email", f"{email!r} is not an email address")
    manager = e.opt_text("line_manager")
    if manager is not None and manager not in ctx.person_ids:
        e.problem("line_manager", "unknown_reference", f"{manager!r} is not a person in this file")
    return Person(
        id=e.text("id"),
        name=e.text("name"),
        email=email,
        roles=frozenset(roles),
        approval_limit=e.money("approval_limit"),
        line_manager_id=manager,
        department=e.opt_text("department"),
        active=e.flag("active"),
    )


def _person_ref(e: _Entry, ctx: _Context, key: str, role: str | None = None) -> str:
    person_id = e.text(key)
    if person_id and person_id not in ctx.person_ids:
        e.problem(key, "unknown_reference", f"{person_id!r} is not a person in this file")
    elif role is not None and person_id in ctx.people and not ctx.people[person_id].has_role(role):
        e.problem(key, "lacks_role", f"{person_id!r} does not have the {role} role")
    return person_id


def _cost_centre(e: _Entry, ctx: _Context) -> CostCentre:
    return CostCentre(
        code=e.text("code"),
        name=e.text("name"),
        budget_holder_id=_person_ref(e, ctx, "budget_holder", Role.BUDGET_HOLDER),
        head_of_service_id=_person_ref(e, ctx, "head_of_service", Role.HEAD_OF_SERVICE),
        director_id=_person_ref(e, ctx, "director", Role.DIRECTOR),
        annual_budget=e.money("annual_budget"),
        site=e.opt_text("site"),
    )


def _gl_code(e: _Entry, ctx: _Context) -> GLCode:
    return GLCode(code=e.text("code"), name=e.text("name"))


def _vat_code(e: _Entry, ctx: _Context) -> VatCode:
    category = e.text("en16931_category")
    if category and category not in EN16931_VAT_CATEGORIES:
        allowed = " ".join(sorted(EN16931_VAT_CATEGORIES))
        e.problem("en16931_category", "bad_vat_category", f"{category!r} is not one of {allowed}")
    return VatCode(
        code=e.text("code"), name=e.text("name"), rate=e.money("rate"), en16931_category=category
    )


def _checked(e: _Entry, key: str, code: str, check: Callable[[str], str]) -> str | None:
    value = e.opt_text(key)
    if value is None:
        return None
    try:
        return check(value)
    except ValueError as exc:
        e.problem(key, code, str(exc))
        return None


def _supplier(e: _Entry, ctx: _Context) -> Supplier:
    country = e.text("country").upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        e.problem("country", "bad_country", f"{country!r} is not a two-letter country code")
    postcode = " ".join(e.text("postcode").upper().split())
    if country == "GB" and postcode:
        try:
            postcode = normalise_uk_postcode(postcode)
        except ValueError as exc:
            e.problem("postcode", "bad_postcode", str(exc))
    sort_code = _checked(e, "sort_code", "bad_sort_code", normalise_sort_code)
    account = _checked(e, "account_number", "bad_account_number", normalise_account_number)
    iban = _checked(e, "iban", "bad_iban", validate_iban)
    if iban and iban.startswith("GB") and not iban_matches(iban, sort_code, account):
        e.problem("iban", "iban_mismatch", "the IBAN's sort code or account number differs")
    lines = e.texts("address_lines")
    if "address_lines" in e.data and not any(lines):
        e.problem("address_lines", "missing", "at least one address line is required")
    return Supplier(
        id=e.text("id"),
        name=e.text("name"),
        vat_number=_checked(e, "vat_number", "bad_vat_number", validate_vat_number),
        address_lines=lines,
        postcode=postcode,
        country=country,
        sort_code=sort_code,
        account_number=account,
        iban=iban,
        finance_ref=e.opt_text("finance_ref"),
        active=e.flag("active"),
    )


def _category(e: _Entry, ctx: _Context) -> Category:
    role = e.opt_text("approver_role")
    if role is not None and role not in ROLES:
        e.problem("approver_role", "unknown_role", f"{role!r} is not a role ({', '.join(ROLES)})")
    elif role is not None and not any(p.active and p.has_role(role) for p in ctx.people.values()):
        e.problem("approver_role", "no_role_holder", f"no active person has the {role} role")
    return Category(code=e.text("code"), name=e.text("name"), approver_role=role)


def _delegation(e: _Entry, ctx: _Context) -> Delegation:
    approver = _person_ref(e, ctx, "approver")
    delegate = _person_ref(e, ctx, "delegate")
    if approver and approver == delegate:
        e.problem("delegate", "self_delegation", "a person cannot delegate to themselves")
    starts, ends = e.day("starts"), e.day("ends")
    if date.min not in (starts, ends) and ends < starts:
        e.problem("ends", "bad_date", f"ends ({ends}) is before starts ({starts})")
    reason = e.opt_text("reason") or ""
    return Delegation(
        approver_id=approver, delegate_id=delegate, starts=starts, ends=ends, reason=reason
    )


# The reader of each table, in the layout's (reading) order.
_READERS: dict[str, Callable[[_Entry, _Context], Any]] = {
    "people": _person,
    "cost_centres": _cost_centre,
    "gl_codes": _gl_code,
    "vat_codes": _vat_code,
    "suppliers": _supplier,
    "categories": _category,
    "delegations": _delegation,
}


# --- Reading the whole file -------------------------------------------------------------------


def _entries(
    name: str, raw: object, spec: TableLayout, problems: list[FieldProblem]
) -> list[_Entry]:
    """The entries of one table, labelled by id (first occurrence) or position."""
    if not isinstance(raw, list):
        problems.append(FieldProblem(name, "wrong_type", f"write each entry as [[{name}]]"))
        return []
    entries: list[_Entry] = []
    seen: set[str] = set()
    for i, data in enumerate(raw):
        if not isinstance(data, dict):
            problems.append(FieldProblem(f"{name}[{i}]", "wrong_type", f"write it as [[{name}]]"))
            continue
        ident = data.get(spec.id_key) if spec.id_key else None
        ident = ident.strip() if isinstance(ident, str) else None
        first = ident if ident and ident not in seen else None
        entry = _Entry(name, first or str(i), first, data, problems)
        if ident and not first:  # recorded on the entry, so that it is not built
            entry.problem(
                str(spec.id_key), "duplicate_id", f"{ident!r} is used by an earlier entry"
            )
        seen.add(ident or "")
        for key in data:
            if key not in spec.keys:
                entry.problem(key, "unknown_key", f"unknown key; expected {', '.join(spec.keys)}")
        entries.append(entry)
    return entries


def _line_manager_cycles(entries: list[_Entry]) -> list[list[str]]:
    """Loops in the line-manager chains, read from the raw entries (so one bad key hides none)."""
    manager: dict[str, str] = {}
    for e in entries:
        boss = e.data.get("line_manager")
        if e.ident is not None and isinstance(boss, str):
            manager[e.ident] = boss.strip()
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(manager):
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done:
            if node in path:
                cycles.append(path[path.index(node) :])
                break
            path.append(node)
            node = manager.get(node)
        done.update(path)
    return cycles


def parse_council(data: Mapping[str, object], *, what: str = "council data") -> ReferenceData:
    """Check already-parsed council data (the TOML's tables) and build the reference data."""
    problems: list[FieldProblem] = []
    for name in data:
        if name not in COUNCIL_TABLES:
            problems.append(
                FieldProblem(name, "unknown_key", f"expected {', '.join(COUNCIL_TABLES)}")
            )
    ctx = _Context()
    built: dict[str, list[Any]] = {}
    for name, spec in COUNCIL_TABLES.items():
        entries = _entries(name, data.get(name, []), spec, problems)
        if name == "people":
            ctx.person_ids = {e.ident for e in entries if e.ident is not None}
        built[name] = []
        for entry in entries:
            item = _READERS[name](entry, ctx)
            if entry.ok:
                built[name].append(item)
        if name == "people":
            ctx.people = {p.id: p for p in built[name]}
            for cycle in _line_manager_cycles(entries):
                loop = " → ".join([*cycle, cycle[0]])
                problems.append(
                    FieldProblem(
                        f"people[{min(cycle)}].line_manager",
                        "line_manager_cycle",
                        f"line managers go round in a loop ({loop}); every chain must end at "
                        "someone without a line manager",
                    )
                )
    if problems:
        raise ValidationFailed(problems, what=what)
    tables: dict[str, Any] = {
        name: {getattr(item, spec.id_key): item for item in built[name]}
        if spec.id_key
        else tuple(built[name])
        for name, spec in COUNCIL_TABLES.items()
    }
    return ReferenceData(**tables)


def load_council(path: str | os.PathLike[str] | None = None) -> ReferenceData:
    """Load and check a council file; ``None`` loads the packaged sample council.

    Raises ``ValidationFailed`` listing every problem, or ``ConfigurationError`` if the file
    cannot be read at all.
    """
    if path is None:
        name = SAMPLE_FILE
        raw = resources.files("procure.reference").joinpath(SAMPLE_FILE).read_bytes()
    else:
        name = os.fspath(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"council file {name} cannot be read: {exc}") from exc
    what = f"council file {name}"
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationFailed([FieldProblem("(file)", "bad_toml", str(exc))], what=what) from exc
    return parse_council(data, what=what)
