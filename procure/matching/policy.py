"""The matching policy: the tolerance table and the other matching settings, as data.

Imports: the standard library, ``procure.domain.money`` and ``procure.errors``. The council's
defaults are not written here: they are the ``[matching]`` section of the packaged
``procure/reference/policy.toml`` (``default_match_policy()`` reads it), so that the table in
force is always one a person can read, and change in their own policy file.

A tolerance row says, for one ``check`` at one ``scope``, how far the invoice may differ from
the order before ``action`` applies:

- ``scope``: ``item`` (``scope_key`` = the order line's seller item id), ``category`` (the order
  line's category), ``supplier`` (the supplier id) or ``global`` (no key). For each check the
  rows of the MOST SPECIFIC scope that has any row for that check are used, and only those:
  item > category > supplier > global. ``invoice_total`` and ``vat`` are invoice-level checks,
  so only ``supplier`` and ``global`` rows are allowed for them.
- ``check`` and what its variance is (invoice minus expected; the base for percentages):
  ``unit_price`` (invoiced net unit price per order unit minus ordered unit price; base the
  ordered unit price), ``quantity`` (the quantity the invoice's lines bill on a PO line,
  together, minus what is still open to bill there: received minus billed for goods, ordered
  minus billed for services, and for goods also ordered minus billed; base the open quantity;
  goods with nothing open at all are ``not_yet_received``, which no row accepts), ``line_amount`` (invoiced line net minus quantity x ordered unit price, rounded to the
  penny; base the latter), ``invoice_total`` (BT-109 minus the sum of the invoice's line
  amounts, i.e. document-level charges and allowances; base that sum),
  ``vat`` (BT-110 minus the VAT expected at the ordered rates; base that VAT) and ``date`` (days
  by which the invoice is dated before the goods receipt that brought what it bills on the line,
  0 when after; amounts only, in days).
- Limits, each a non-negative magnitude: ``upper_*`` bounds a variance above the expected value,
  ``lower_*`` one below it. When a side gives BOTH a percent and an amount, the variance must stay
  within BOTH (the stricter wins: "2% or £25, whichever is less"). A side that gives neither has
  no limit on that side.
- ``action``: what happens when the variance goes BEYOND the row's limits: ``hold`` (a person
  looks), ``reject`` or ``accept`` (accepted and shown as a variance). Several rows of the same
  scope and check may be graduated (hold beyond 2%, reject beyond 50%); the strongest action of
  the rows exceeded wins. A variance inside every row is accepted "within tolerance".
- No rows at all for a check: the check needs an exact match, any variance is held. There is no
  other allowance anywhere: no hidden epsilon.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

from procure.domain.money import parse_decimal
from procure.errors import ConfigurationError

Scope = Literal["global", "supplier", "category", "item"]
Check = Literal["unit_price", "quantity", "line_amount", "invoice_total", "vat", "date"]

SCOPES: tuple[Scope, ...] = ("item", "category", "supplier", "global")
"""Most specific first."""
CHECKS: tuple[Check, ...] = (
    "unit_price",
    "quantity",
    "line_amount",
    "invoice_total",
    "vat",
    "date",
)
INVOICE_LEVEL_CHECKS = frozenset({"invoice_total", "vat"})
ACTIONS = ("accept", "hold", "reject")
_RANK = {"accept": 0, "hold": 1, "reject": 2}
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class ToleranceRule:
    scope: Scope
    scope_key: str | None
    check: Check
    lower_percent: Decimal | None
    lower_amount: Decimal | None
    upper_percent: Decimal | None
    upper_amount: Decimal | None
    action: Literal["accept", "hold", "reject"]

    def exceeded_by(self, variance: Decimal, base: Decimal) -> bool:
        """True when ``variance`` (against ``base``) lies beyond this row's limits."""
        if variance > 0:
            percent, amount = self.upper_percent, self.upper_amount
        elif variance < 0:
            percent, amount = self.lower_percent, self.lower_amount
        else:
            return False
        size = -variance if variance < 0 else variance
        if amount is not None and size > amount:
            return True
        if percent is not None:
            if base == 0:
                return True  # any variance is an infinite percentage of nothing
            if size * HUNDRED > percent * abs(base):
                return True
        return False

    def describe(self) -> str:
        """The row in words, e.g. ``supplier S1 unit_price: above +2% or +£25.00 -> hold``."""
        where = self.scope if self.scope_key is None else f"{self.scope} {self.scope_key}"
        unit = " days" if self.check == "date" else ""
        sides = []
        for name, sign, pct, amt in (
            ("above", "+", self.upper_percent, self.upper_amount),
            ("below", "-", self.lower_percent, self.lower_amount),
        ):
            limits = [f"{sign}{p}%" for p in (pct,) if p is not None]
            limits += [f"{sign}{a}{unit}" for a in (amt,) if a is not None]
            if limits:
                sides.append(f"{name} {' or '.join(limits)}")
        limits_text = "; ".join(sides) if sides else "no limits"
        return f"{where} {self.check}: {limits_text} -> {self.action}"


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    tolerances: tuple[ToleranceRule, ...]
    duplicate_window_days: int
    """Same supplier and payable amount within this many days (either side) is a suspected
    duplicate."""
    reapproval_percent: Decimal | None
    reapproval_amount: Decimal | None
    """Releasing a variance beyond either of these goes back to the PO's approver."""
    description_min_score: int
    """Least description similarity (0-100, rapidfuzz token-set ratio) for a line found by its
    description only."""
    description_margin: int
    """How far the best description candidate must score above the next to be taken; otherwise
    the line is ``ambiguous_line``."""
    _index: Mapping[tuple[str, str, str | None], tuple[ToleranceRule, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[tuple[str, str, str | None], list[ToleranceRule]] = {}
        for rule in self.tolerances:
            index.setdefault((rule.check, rule.scope, rule.scope_key), []).append(rule)
        object.__setattr__(self, "_index", {k: tuple(v) for k, v in index.items()})

    def rules_for(
        self,
        check: str,
        *,
        item: str | None = None,
        category: str | None = None,
        supplier: str | None = None,
    ) -> tuple[ToleranceRule, ...]:
        """The rows that govern ``check`` here: those of the most specific scope that has any."""
        index = self._index
        if item is not None and (rows := index.get((check, "item", item))):
            return rows
        if category is not None and (rows := index.get((check, "category", category))):
            return rows
        if supplier is not None and (rows := index.get((check, "supplier", supplier))):
            return rows
        return index.get((check, "global", None), ())

    def needs_reapproval(self, variance: Decimal, base: Decimal) -> bool:
        """Whether releasing ``variance`` (against ``base``) must go back to the PO's approver:
        beyond the percent or beyond the amount (the stricter wins, as for tolerances)."""
        size = abs(variance)
        if size == 0:
            return False
        if self.reapproval_amount is not None and size > self.reapproval_amount:
            return True
        if self.reapproval_percent is not None:
            return base == 0 or size * HUNDRED > self.reapproval_percent * abs(base)
        return False


def strongest(rows: Iterable[ToleranceRule]) -> ToleranceRule | None:
    best: ToleranceRule | None = None
    for r in rows:
        if best is None or _RANK[r.action] > _RANK[best.action]:
            best = r
    return best


PACKAGED_POLICY = "the packaged policy.toml"


@cache
def default_match_policy() -> MatchPolicy:
    """The council defaults: the ``[matching]`` section of the packaged ``policy.toml``, the one
    place they are written (read once; every setting and row is required there)."""
    raw = resources.files("procure.reference").joinpath("policy.toml").read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:  # pragma: no cover - packaging
        raise ConfigurationError(f"{PACKAGED_POLICY}: not a valid TOML file ({exc})") from exc
    if "matching" not in data:
        raise ConfigurationError(f"{PACKAGED_POLICY}: matching: missing ([matching] section)")
    return _from_section(data["matching"], PACKAGED_POLICY, fallback=None)


_POLICY_KEYS = frozenset(
    {
        "duplicate_window_days",
        "reapproval_percent",
        "reapproval_amount",
        "description_min_score",
        "description_margin",
        "tolerance",
    }
)
_RULE_KEYS = frozenset(
    {
        "scope",
        "scope_key",
        "check",
        "lower_percent",
        "lower_amount",
        "upper_percent",
        "upper_amount",
        "action",
    }
)


def match_policy_from_mapping(data: Mapping[str, Any], *, source: str = "policy") -> MatchPolicy:
    """The ``MatchPolicy`` of a parsed policy file's ``[matching]`` table (with its
    ``[[matching.tolerance]]`` rows). A file without ``[matching]`` gets the packaged defaults,
    and a setting the section leaves out takes the packaged value (``tolerance`` left out: the
    packaged rows; ``tolerance = []``: no rows, every check exact). Any problem raises
    ``ConfigurationError`` naming the file and the key, e.g. ``matching.tolerance[2].upper_percent``
    (rows are numbered from 1, in file order)."""
    if "matching" not in data:
        return default_match_policy()
    return _from_section(data["matching"], source, fallback=default_match_policy())


def _from_section(table: object, source: str, *, fallback: MatchPolicy | None) -> MatchPolicy:
    """``fallback`` supplies what the section leaves out; None: everything is required."""
    if not isinstance(table, Mapping):
        raise ConfigurationError(f"{source}: matching: must be a table ([matching])")
    problems: list[str] = []
    for key in sorted(set(table) - _POLICY_KEYS):
        problems.append(f"matching.{key}: unknown setting; expected one of {_names(_POLICY_KEYS)}")
    if fallback is None:
        for key in sorted(_POLICY_KEYS - set(table)):
            problems.append(f"matching.{key}: missing (the packaged file gives every setting)")
    # With no fallback a missing setting is already a problem, so its placeholder is never used.
    base = fallback or MatchPolicy((), 0, None, None, 0, 0)
    window = _whole(table, "duplicate_window_days", base.duplicate_window_days, problems, minimum=0)
    min_score = _whole(
        table, "description_min_score", base.description_min_score, problems, minimum=0, maximum=100
    )
    margin = _whole(
        table, "description_margin", base.description_margin, problems, minimum=0, maximum=100
    )
    re_pct = (
        _limit(table["reapproval_percent"], "matching.reapproval_percent", problems)
        if "reapproval_percent" in table
        else base.reapproval_percent
    )
    re_amt = (
        _limit(table["reapproval_amount"], "matching.reapproval_amount", problems)
        if "reapproval_amount" in table
        else base.reapproval_amount
    )
    rules: list[ToleranceRule] = []
    rows = table.get("tolerance", [])
    if not isinstance(rows, Sequence) or isinstance(rows, str | bytes):
        problems.append("matching.tolerance: must be a list of [[matching.tolerance]] tables")
        rows = []
    for i, row in enumerate(rows, start=1):
        rule = _rule(row, f"matching.tolerance[{i}]", problems)
        if rule is not None:
            rules.append(rule)
    if problems:
        raise ConfigurationError(f"{source}: " + "; ".join(problems))
    return MatchPolicy(
        tolerances=tuple(rules) if "tolerance" in table or fallback is None else base.tolerances,
        duplicate_window_days=window,
        reapproval_percent=re_pct,
        reapproval_amount=re_amt,
        description_min_score=min_score,
        description_margin=margin,
    )


def _rule(row: object, key: str, problems: list[str]) -> ToleranceRule | None:
    if not isinstance(row, Mapping):
        problems.append(f"{key}: must be a table")
        return None
    before = len(problems)
    for extra in sorted(set(row) - _RULE_KEYS):
        problems.append(f"{key}.{extra}: unknown setting; expected one of {_names(_RULE_KEYS)}")
    scope, check, action = row.get("scope"), row.get("check"), row.get("action")
    if scope not in SCOPES:
        problems.append(f"{key}.scope: must be one of {', '.join(SCOPES)}, not {scope!r}")
    if check not in CHECKS:
        problems.append(f"{key}.check: must be one of {', '.join(CHECKS)}, not {check!r}")
    if action not in ACTIONS:
        problems.append(f"{key}.action: must be one of {', '.join(ACTIONS)}, not {action!r}")
    scope_key = row.get("scope_key")
    if scope == "global" and scope_key is not None:
        problems.append(f"{key}.scope_key: a global row has no scope_key")
    if scope in ("supplier", "category", "item") and (
        not isinstance(scope_key, str) or not scope_key.strip()
    ):
        problems.append(f"{key}.scope_key: a {scope} row needs the {scope}'s id as text")
    if check in INVOICE_LEVEL_CHECKS and scope in ("category", "item"):
        problems.append(
            f"{key}.scope: {check} is checked on the whole invoice: use global or supplier"
        )
    limits = {
        name: _limit(row.get(name), f"{key}.{name}", problems)
        for name in ("lower_percent", "lower_amount", "upper_percent", "upper_amount")
    }
    if check == "date":
        for name in ("lower_percent", "upper_percent"):
            if row.get(name) is not None:
                problems.append(f"{key}.{name}: a date tolerance is in days; use {name[:5]}_amount")
    if len(problems) > before:
        # Say which row it is in the file's own words, as well as its position.
        label = " ".join(str(v) for v in (scope, scope_key, check) if isinstance(v, str))
        for i in range(before, len(problems)):
            where, _, what = problems[i].partition(": ")
            problems[i] = f"{where} (the row {label or 'with no scope or check'}): {what}"
        return None
    return ToleranceRule(
        scope=scope,  # type: ignore[arg-type]
        scope_key=scope_key.strip() if isinstance(scope_key, str) else None,
        check=check,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
        **limits,
    )


def _limit(value: object, key: str, problems: list[str]) -> Decimal | None:
    if value is None:
        return None
    number = parse_decimal(value)
    if number is None:
        problems.append(f'{key}: must be a number written in quotes, e.g. "2.5", not {value!r}')
        return None
    if number < 0:
        problems.append(
            f"{key}: must not be negative (limits are sizes; lower_* is the side below)"
        )
        return None
    return number


def _whole(
    table: Mapping[str, Any],
    name: str,
    default: int,
    problems: list[str],
    *,
    minimum: int,
    maximum: int | None = None,
) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"matching.{name}: must be a whole number, not {value!r}")
        return default
    if value < minimum or (maximum is not None and value > maximum):
        top = "" if maximum is None else f" and at most {maximum}"
        problems.append(f"matching.{name}: must be at least {minimum}{top}, not {value}")
        return default
    return value


def _names(keys: Iterable[str]) -> str:
    return ", ".join(sorted(keys))
