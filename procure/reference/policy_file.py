"""Load the approval policy from its TOML file, refusing anything that cannot be used.

Imports: the standard library, ``procure.domain`` and ``procure.errors``. The file format is
described in the packaged default, ``procure/reference/policy.toml``, which is written for a
council officer to read and edit. Every problem raises ``ConfigurationError`` with a message that
names the file, the key (e.g. ``bands[2].up_to``) and what is wrong, so that it can be fixed
without reading code.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from procure.domain.money import format_gbp, parse_decimal
from procure.domain.policy import (
    ApprovalPolicy,
    Band,
    CategoryRule,
    describe_role,
    role_ceilings,
)
from procure.domain.reference import Role
from procure.errors import ConfigurationError
from procure.matching.policy import MatchPolicy, ToleranceRule

__all__ = ["load_policy", "match_policy_as_text", "parse_policy", "policy_as_text"]

_VALID_ROLES = frozenset(r.value for r in Role)
# These three come from the requisition's cost centre, so naming a holder for them would be ignored.
_COST_CENTRE_ROLES = frozenset(
    {Role.BUDGET_HOLDER.value, Role.HEAD_OF_SERVICE.value, Role.DIRECTOR.value}
)
_TOP_KEYS = frozenset(
    {
        "bands",
        "category_rules",
        "role_holders",
        "escalation",
        "anti_splitting",
        "receipts",
        "matching",
    }
)


def load_policy(path: str | Path | None = None) -> ApprovalPolicy:
    """The approval policy in ``path``, or the packaged default when ``path`` is None."""
    if path is None:
        source = "the packaged policy.toml"
        raw = resources.files("procure.reference").joinpath("policy.toml").read_bytes()
    else:
        source = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"{source}: cannot read the policy file ({exc})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{source}: not a valid TOML file ({exc})") from exc
    return parse_policy(data, source=source)


class _SettingError(Exception):
    """One thing wrong at one key; turned into a ConfigurationError naming the file."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")


def parse_policy(data: dict[str, Any], *, source: str = "policy") -> ApprovalPolicy:
    """An ``ApprovalPolicy`` from the parsed TOML ``data``, checked throughout."""
    try:
        return _parse(data)
    except _SettingError as exc:
        raise ConfigurationError(f"{source}: {exc}") from None


def _parse(data: dict[str, Any]) -> ApprovalPolicy:
    _only_keys("", data, _TOP_KEYS)
    escalation = _table(data, "escalation")
    anti_splitting = _table(data, "anti_splitting")
    receipts = _table(data, "receipts")
    _only_keys("escalation", escalation, {"working_days"})
    _only_keys("anti_splitting", anti_splitting, {"window_days"})
    _only_keys("receipts", receipts, {"over_receipt_allowance_percent"})
    allowance = receipts.get("over_receipt_allowance_percent", "0")
    return ApprovalPolicy(
        bands=_bands(data),
        category_rules=_category_rules(data),
        role_holders=_role_holders(data),
        escalation_working_days=_whole_number(
            escalation.get("working_days", 3), "escalation.working_days", minimum=1
        ),
        anti_splitting_window_days=_whole_number(
            anti_splitting.get("window_days", 30), "anti_splitting.window_days", minimum=0
        ),
        over_receipt_allowance_percent=_decimal(
            allowance, "receipts.over_receipt_allowance_percent", minimum=Decimal(0)
        ),
    )


def _only_keys(where: str, table: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    """Refuse unknown keys (usually a typo); ``where`` is the table's key, "" at the top."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise _SettingError(key, f"unknown setting; expected one of {', '.join(sorted(allowed))}")


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _SettingError(key, f"must be a table ([{key}]), not {_kind(value)}")
    return value


def _list_of_tables(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _SettingError(key, f"must be a list of [[{key}]] tables")
    return value


_KINDS: dict[type, str] = {
    bool: "true/false",
    int: "a whole number",
    float: "a decimal number",
    str: "text",
    list: "a list",
    dict: "a table",
}


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _text(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _SettingError(key, "must be non-empty text in quotes")
    return value.strip()


def _whole_number(value: object, key: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _SettingError(key, f"must be a whole number, not {_kind(value)}")
    if value < minimum:
        raise _SettingError(key, f"must be {minimum} or more, not {value}")
    return value


def _decimal(value: object, key: str, *, minimum: Decimal) -> Decimal:
    if isinstance(value, float):
        raise _SettingError(key, f'write the figure in quotes, e.g. "{value:.2f}", so it is exact')
    parsed = parse_decimal(value) if isinstance(value, str | int) else None
    if parsed is None:
        raise _SettingError(key, f'{value!r} is not a number; write it in quotes, e.g. "1000.00"')
    if parsed < minimum:
        raise _SettingError(key, f"must be {minimum} or more, not {parsed}")
    return parsed


def _role(value: object, key: str) -> str:
    role = _text(value, key)
    if role not in _VALID_ROLES:
        raise _SettingError(
            key, f"unknown role '{role}'; valid roles are {', '.join(sorted(_VALID_ROLES))}"
        )
    return role


def _bands(data: dict[str, Any]) -> tuple[Band, ...]:
    tables = _list_of_tables(data, "bands")
    if not tables:
        raise _SettingError("bands", "missing: the policy needs at least one [[bands]] table")
    bands: list[Band] = []
    for i, table in enumerate(tables, start=1):
        key = f"bands[{i}]"
        _only_keys(key, table, {"name", "up_to", "roles", "quotes_required"})
        if "name" not in table:
            raise _SettingError(f"{key}.name", 'missing: give the band a name, e.g. "up to £1,000"')
        name = _text(table["name"], f"{key}.name")
        up_to = None
        if "up_to" in table:
            up_to = _decimal(table["up_to"], f"{key}.up_to", minimum=Decimal("0.01"))
        roles = table.get("roles")
        if not isinstance(roles, list) or not roles:
            raise _SettingError(
                f"{key}.roles", 'must be a non-empty list of roles, e.g. ["budget_holder"]'
            )
        checked = tuple(_role(r, f"{key}.roles[{j}]") for j, r in enumerate(roles, start=1))
        if len(set(checked)) != len(checked):
            raise _SettingError(f"{key}.roles", "names the same role twice")
        quotes = _whole_number(table.get("quotes_required", 0), f"{key}.quotes_required", minimum=0)
        bands.append(Band(name, up_to, checked, quotes))
    _check_band_order(bands)
    return tuple(bands)


def _check_band_order(bands: list[Band]) -> None:
    for i, (lower, higher) in enumerate(pairwise(bands), start=1):
        if lower.up_to is None:
            raise _SettingError(
                f"bands[{i}].up_to", "missing, but only the last band may be unlimited"
            )
        if higher.up_to is not None and higher.up_to <= lower.up_to:
            raise _SettingError(
                f"bands[{i + 1}].up_to",
                f"{format_gbp(higher.up_to)} is not above the previous band's "
                f"{format_gbp(lower.up_to)}: bands must go up in value",
            )
    if bands[-1].up_to is not None:
        raise _SettingError(
            f"bands[{len(bands)}].up_to",
            "the last band must have no up_to (no upper limit), so that every amount has a band",
        )


def _category_rules(data: dict[str, Any]) -> tuple[CategoryRule, ...]:
    rules: list[CategoryRule] = []
    for i, table in enumerate(_list_of_tables(data, "category_rules"), start=1):
        key = f"category_rules[{i}]"
        _only_keys(key, table, {"category", "role", "reason"})
        category = _text(table.get("category"), f"{key}.category")
        role = _role(table.get("role"), f"{key}.role")
        reason = table.get("reason", "")
        if not isinstance(reason, str):
            raise _SettingError(f"{key}.reason", "must be text in quotes")
        rules.append(CategoryRule(category, role, reason.strip()))
    return tuple(rules)


def _role_holders(data: dict[str, Any]) -> dict[str, str]:
    holders: dict[str, str] = {}
    for role, person_id in _table(data, "role_holders").items():
        key = f"role_holders.{role}"
        _role(role, key)
        if role in _COST_CENTRE_ROLES:
            raise _SettingError(
                key, f"{role} is taken from each cost centre and cannot be named here"
            )
        holders[role] = _text(person_id, key)
    return holders


def policy_as_text(policy: ApprovalPolicy) -> str:
    """A readable summary of the policy (``procure policy show``)."""
    lines = ["Approval bands (chosen on the net total plus related spend; approvers in order):"]
    for i, band in enumerate(policy.bands, start=1):
        limit = "no upper limit" if band.up_to is None else f"up to {format_gbp(band.up_to)}"
        quotes = f"; {band.quotes_required} quotes required" if band.quotes_required else ""
        roles = ", then ".join(describe_role(r) for r in band.roles)
        lines.append(f"  {i}. {band.name} ({limit}): {roles}{quotes}")
    lines += ["", "Approval limit each role needs (the lower of the band amount and this):"]
    for role, ceiling in role_ceilings(policy).items():
        shown = "the whole amount" if ceiling is None else format_gbp(ceiling)
        lines.append(f"  {describe_role(role)}: {shown}")
    lines += ["", "Category rules:"]
    lines += [
        f"  {r.category}: also {describe_role(r.role)}" + (f" ({r.reason})" if r.reason else "")
        for r in policy.category_rules
    ] or ["  (none)"]
    lines += ["", "Named role holders:"]
    lines += [f"  {role}: {pid}" for role, pid in sorted(policy.role_holders.items())] or [
        "  (none)"
    ]
    lines += [
        "",
        f"Escalation: after {policy.escalation_working_days} working days without a decision",
        f"Anti-splitting window: {policy.anti_splitting_window_days} days",
        f"Over-receipt allowance: {policy.over_receipt_allowance_percent}%",
    ]
    return "\n".join(lines)


def match_policy_as_text(policy: MatchPolicy) -> str:
    """The ``[matching]`` settings and the tolerance table in force, as ``procure policy show``
    prints them. Rows keep their numbers in the file (the numbers errors name)."""
    limits = []
    if policy.reapproval_percent is not None:
        limits.append(f"{policy.reapproval_percent}% of the order")
    if policy.reapproval_amount is not None:
        limits.append(format_gbp(policy.reapproval_amount))
    reapproval = " or ".join(limits)
    lines = [
        "Invoice matching:",
        f"  Suspected duplicate: same supplier and amount within "
        f"{policy.duplicate_window_days} days",
        f"  Releasing a variance beyond {reapproval or 'nothing (never)'} goes back to the "
        "PO's approver",
        f"  Lines placed by description: score at least {policy.description_min_score} of 100,"
        f" {policy.description_margin} above the next best",
        "",
        "Tolerances (per check the rows of the most specific scope are used: item, category,",
        "supplier, then global; a percent and an amount on one side: whichever is less; beyond the",
        "limits the action applies; a check with no row must match exactly):",
    ]
    header = ("#", "check", "scope", "above expected", "below expected", "beyond")
    rows = [header] + [
        (
            str(i),
            "VAT" if r.check == "vat" else r.check.replace("_", " "),
            r.scope if r.scope_key is None else f"{r.scope} {r.scope_key}",
            _side(r, r.upper_percent, r.upper_amount),
            _side(r, r.lower_percent, r.lower_amount),
            r.action,
        )
        for i, r in enumerate(policy.tolerances, start=1)
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    for row in rows:
        cells = [row[0].rjust(widths[0])] + [
            v.ljust(w) for v, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    if not policy.tolerances:
        lines.append("  (no rows: every check must match exactly)")
    return "\n".join(lines)


def _side(rule: ToleranceRule, percent: Decimal | None, amount: Decimal | None) -> str:
    limits = [f"{percent}%"] if percent is not None else []
    if amount is not None:
        if rule.check == "date":
            limits.append(f"{amount} days")
        elif rule.check == "quantity":
            limits.append(f"{amount} (order units)")
        else:
            limits.append(format_gbp(amount))
    return " or ".join(limits) or "no limit"
