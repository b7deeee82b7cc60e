"""The EN 16931 business rules, each registered under its official id and severity.

A rule is a function of the canonical ``Invoice`` that yields ``Violation``s (nothing when the
rule holds). Register one with::

    @rule("BR-CO-10", "fatal", "Sum of Invoice line net amount (BT-106) = Σ line net (BT-131).")
    def _(doc: Invoice) -> Iterator[Violation]:
        ...

Rules never raise on missing data: a rule whose inputs are absent holds (another rule reports
the absence), exactly as the official Schematron does. Modules: ``core`` (BR-01..BR-65),
``cohesion`` (BR-CO-*), ``decimals`` (BR-DEC-*), ``vat`` (BR-S, BR-Z, BR-E, BR-AE, BR-K, BR-G,
BR-O, BR-IC, BR-AF, BR-AG), ``codelists`` (BR-CL-*).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from procure.einvoice.model import Finding, Invoice, Severity


@dataclass(frozen=True)
class Violation:
    message: str | None = None
    location: str | None = None


Check = Callable[[Invoice], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    text: str
    check: Check
    context: str | None = None
    """A top-level group (``"lines"``, ``"tax_representative"``) the rule speaks only of: when
    the document has none, the rule has no context and holds without being run."""

    def run(self, doc: Invoice) -> list[Finding]:
        return [
            Finding(
                rule=self.id,
                severity=self.severity,
                message=v.message or self.text,
                location=v.location,
            )
            for v in self.check(doc)
        ]


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str, severity: Severity, text: str, *, context: str | None = None
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, severity, text, check, context)
        return check

    return register


def context_of(path: str) -> str | None:
    """The top-level group a path into the model goes through (``"lines"`` for
    ``"lines[*].item_name"``, ``"payment"`` for ``"payment.means_code"``), or ``None`` when the
    path names a top-level value itself (``"number"``: its absence is what a rule reports)."""
    first, dot, _ = path.partition(".")
    return first.removesuffix("[*]") if dot or first.endswith("[*]") else None


def load_all() -> dict[str, Rule]:
    """Import every rule module (registration happens on import) and return the registry."""
    from procure.einvoice.rules import (  # noqa: F401
        codelists,
        cohesion,
        core,
        decimals,
        vat,
    )

    return REGISTRY


# Each VAT category family speaks only of lines, allowances, charges and breakdowns of its own
# category (every one of its Schematron asserts has that category in its context), so a family
# whose category the document never uses holds as a whole and need not run.
VAT_FAMILIES = {
    "BR-S-": "S", "BR-Z-": "Z", "BR-E-": "E", "BR-AE-": "AE", "BR-IC-": "K", "BR-G-": "G",
    "BR-O-": "O", "BR-AF-": "L", "BR-AG-": "M",
}  # fmt: skip


def categories_used(doc: Invoice) -> set[str]:
    used = {(ln.vat_category or "").strip() for ln in doc.lines}
    used.update((a.vat_category or "").strip() for a in (*doc.allowances, *doc.charges))
    used.update((b.category or "").strip() for b in doc.vat_breakdown)
    return used


def _family(rule_id: str) -> str | None:
    for prefix, category in VAT_FAMILIES.items():
        if rule_id.startswith(prefix):
            return category
    return None


_PLAN: list[tuple[Rule, str | None]] = []


def _plan() -> list[tuple[Rule, str | None]]:
    """Every registered rule with its VAT family's category, worked out once."""
    registry = load_all()
    if len(_PLAN) != len(registry):
        _PLAN[:] = [(r, _family(r.id)) for r in registry.values()]
    return _PLAN


def run_rules(
    doc: Invoice, ids: Iterable[str] | None = None, *, skip_unused_vat_families: bool = True
) -> list[Finding]:
    if ids is None:
        plan = _plan()
    else:
        registry = load_all()
        plan = [(registry[i], _family(i)) for i in ids if i in registry]
    from procure.einvoice.rules.support import checking

    used = categories_used(doc) if skip_unused_vat_families else None
    findings: list[Finding] = []
    with checking(doc):
        for r, category in plan:
            if used is not None and category is not None and category not in used:
                continue
            if r.context is not None and not getattr(doc, r.context):
                continue  # no such group: the rule has no context, it holds
            for v in r.check(doc):
                findings.append(
                    Finding(
                        rule=r.id,
                        severity=r.severity,
                        message=v.message or r.text,
                        location=v.location,
                    )
                )
    return findings
