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

from collections.abc import Callable, Iterable, Iterator
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


def rule(rule_id: str, severity: Severity, text: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, severity, text, check)
        return check

    return register


def load_all() -> dict[str, Rule]:
    """Import every rule module (registration happens on import) and return the registry."""
    from procure.einvoice.rules import cohesion, core, decimals, vat  # noqa: F401

    from procure.einvoice.rules import codelists  # noqa: F401

    return REGISTRY


def run_rules(doc: Invoice, ids: Iterable[str] | None = None) -> list[Finding]:
    registry = load_all()
    selected = registry.values() if ids is None else [registry[i] for i in ids if i in registry]
    findings: list[Finding] = []
    for r in selected:
        findings.extend(r.run(doc))
    return findings


def violation(message: str | None = None, location: str | None = None) -> Iterator[Violation]:
    """Convenience for one-violation rules: ``yield from violation("...")``."""
    yield Violation(message, location)
