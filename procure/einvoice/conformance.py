"""Conformance of our EN 16931 rules with the CEN unit test sets.

The CEN validation artefacts ship one vefa ``testSet`` file per rule
(``test/Invoice-unit-UBL``, ``test/CreditNote-unit-UBL``, ``test/cii``): each ``<test>`` holds
a document fragment and asserts that one rule succeeds on it (``<success>``) or fails
(``<error>`` / ``<warning>``). ``run_test_sets`` parses every fragment with our own readers
(``xml_safety.parse_xml`` then ``parse_ubl`` / ``parse_cii``), runs only the asserted rule, and
records whether our finding agrees: success ⇔ no finding for that rule, error or warning ⇔ at
least one. Rules we have not registered are counted apart.

``conformance_table`` renders the results as Markdown, one row per rule;
``python -m procure.einvoice.conformance docs/conformance.md [corpus]`` writes it.

``KNOWN_DISAGREEMENTS`` lists the tests of the core, cohesion and decimal rules where our
answer differs from the test set, each with the reason: the canonical model or a reader cannot
carry what the fragment tests. It is empty today: every assertion agrees. Nothing is excused
that is not listed there.

Imports: lxml, ``xml_safety``, the UBL and CII readers, the rule registry.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lxml import etree

from procure.einvoice.cii import parse_cii
from procure.einvoice.errors import UnsupportedDocument
from procure.einvoice.model import Invoice
from procure.einvoice.rules import REGISTRY, load_all
from procure.einvoice.ubl import parse_ubl
from procure.einvoice.xml_safety import XmlRejected, namespace, parse_xml

__all__ = [
    "DEFAULT_CORPUS",
    "KNOWN_DISAGREEMENTS",
    "TEST_SETS",
    "Outcome",
    "Results",
    "conformance_table",
    "run_test_sets",
    "write_table",
]

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "en16931-cen"
"""The CEN artefacts (``ubl/``, ``cii/``, ``test/``), next to the repository."""
TEST_SETS = ("Invoice-unit-UBL", "CreditNote-unit-UBL", "cii")
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
UBL_NAMESPACES = frozenset(
    {
        "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
        "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    }
)
CII_NAMESPACE = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"

Expectation = Literal["success", "error", "warning"]
_EXPECTATIONS: dict[str, Expectation] = {
    "success": "success",
    "error": "error",
    "warning": "warning",
}

KNOWN_DISAGREEMENTS: dict[str, str] = {}
"""Test key (``set/file.xml#n``) → why our answer differs. Keep it short and true."""


@dataclass(frozen=True)
class Outcome:
    """One assertion of one test: did our rule answer as the test set expects?"""

    key: str
    """``test set/file#n``, n counting the file's tests from 1."""
    rule: str
    expected: Expectation
    passed: bool
    detail: str = ""
    """Our findings for the rule, or why the fragment could not be read."""


@dataclass
class Results:
    outcomes: list[Outcome] = field(default_factory=list)
    """Assertions on registered rules."""
    unregistered: dict[str, int] = field(default_factory=dict)
    """Asserted rule ids we have not registered → number of assertions."""

    def by_rule(self) -> dict[str, list[Outcome]]:
        grouped: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            grouped[outcome.rule].append(outcome)
        return dict(grouped)

    def failures(self, rule_id: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed and rule_id in (None, o.rule)]


# -- running --------------------------------------------------------------------------------


def _tests(path: Path) -> Iterator[tuple[int, etree._Element]]:
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    yield from enumerate(tree.getroot().iter(f"{VEFA}test"), start=1)


def _assertions(test: etree._Element) -> list[tuple[Expectation, str]]:
    found: list[tuple[Expectation, str]] = []
    for a in test.findall(f"{VEFA}assert"):
        for child in a:
            kind = etree.QName(child).localname if isinstance(child.tag, str) else ""
            expected = _EXPECTATIONS.get(kind)
            if expected is not None and child.text and child.text.strip():
                found.append((expected, child.text.strip()))
    return found


def _document(test: etree._Element) -> etree._Element | None:
    return next(
        (c for c in test if isinstance(c.tag, str) and not c.tag.startswith(VEFA)),
        None,
    )


def read_fragment(element: etree._Element) -> Invoice:
    """Serialise a test's document and read it as intake would: hardened parse, then the
    reader of its syntax. Raises ``XmlRejected`` or ``UnsupportedDocument``."""
    root = parse_xml(etree.tostring(element))
    ns = namespace(root)
    if ns in UBL_NAMESPACES:
        return parse_ubl(root)
    if ns == CII_NAMESPACE:
        return parse_cii(root)
    raise UnsupportedDocument("unknown_document", f"{root.tag} is neither UBL nor CII")


def _judge(doc: Invoice, rule_id: str, expected: Expectation) -> tuple[bool, str]:
    findings = REGISTRY[rule_id].run(doc)
    detail = "; ".join(f"{f.location}: {f.message}" if f.location else f.message for f in findings)
    return (not findings) if expected == "success" else bool(findings), detail


def run_test_sets(corpus: Path = DEFAULT_CORPUS) -> Results:
    """Run every assertion of the unit test sets under ``corpus/test``."""
    load_all()
    results = Results()
    unregistered: dict[str, int] = defaultdict(int)
    for test_set in TEST_SETS:
        for path in sorted((corpus / "test" / test_set).glob("*.xml")):
            for n, test in _tests(path):
                key = f"{test_set}/{path.name}#{n}"
                asserted = _assertions(test)
                wanted = [(e, r) for e, r in asserted if r in REGISTRY]
                for _, rule_id in asserted:
                    if rule_id not in REGISTRY:
                        unregistered[rule_id] += 1
                if not wanted:
                    continue
                element = _document(test)
                try:
                    if element is None:
                        raise UnsupportedDocument("empty_test", "the test holds no document")
                    doc = read_fragment(element)
                except (XmlRejected, UnsupportedDocument) as exc:
                    for expected, rule_id in wanted:
                        why = f"not read: {exc}"
                        results.outcomes.append(Outcome(key, rule_id, expected, False, why))
                    continue
                for expected, rule_id in wanted:
                    passed, detail = _judge(doc, rule_id, expected)
                    results.outcomes.append(Outcome(key, rule_id, expected, passed, detail))
    results.unregistered = dict(sorted(unregistered.items(), key=lambda kv: _order(kv[0])))
    return results


# -- reporting ------------------------------------------------------------------------------


def _order(rule_id: str) -> tuple[str, int, str]:
    """BR-2 before BR-10: families alphabetically, numbers numerically."""
    family, _, number = rule_id.rpartition("-")
    return (family, int(number), "") if number.isdigit() else (rule_id, 0, "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def conformance_table(results: Results) -> str:
    """The results as Markdown: one row per registered rule with tests, then the rules we
    have registered without tests, then the asserted rules we have not registered."""
    grouped = results.by_rule()
    out = [
        "# EN 16931 rules against the CEN unit test sets",
        "",
        "Generated by `python -m procure.einvoice.conformance docs/conformance.md` from the CEN",
        "test sets `Invoice-unit-UBL`, `CreditNote-unit-UBL` and `cii` (vefa testSet files): each",
        "test's document is read with our UBL/CII reader and only the asserted rule is run. A",
        "test passes when a `success` assertion gives no finding and an `error`/`warning`",
        "assertion gives at least one. Do not edit by hand.",
        "",
    ]
    passed = sum(o.passed for o in results.outcomes)
    out += [
        f"Registered rules with tests: {len(grouped)}; assertions passed: {passed}/"
        f"{len(results.outcomes)}.",
        "",
        "| rule | test sets passed/total | notes |",
        "| --- | --- | --- |",
    ]
    for rule_id in sorted(grouped, key=_order):
        outcomes = grouped[rule_id]
        ok = sum(o.passed for o in outcomes)
        sets = sorted({o.key.split("/", 1)[0] for o in outcomes})
        notes = [", ".join(sets)]
        why_failed: dict[str, list[str]] = defaultdict(list)
        for o in outcomes:
            if not o.passed:
                reason = KNOWN_DISAGREEMENTS.get(o.key) or f"ours: {o.detail or 'no finding'}"
                why_failed[f"expected {o.expected}; {reason}"].append(o.key)
        notes += [f"**fails {', '.join(keys)}** ({why})" for why, keys in why_failed.items()]
        out.append(f"| {rule_id} | {ok}/{len(outcomes)} | {_cell('; '.join(notes))} |")
    untested = sorted((r for r in load_all() if r not in grouped), key=_order)
    out += [
        "",
        f"Registered rules the test sets do not exercise ({len(untested)}): "
        + (", ".join(untested) or "none")
        + ".",
        "",
        f"Asserted in the test sets but not registered ({len(results.unregistered)}): "
        + (", ".join(f"{r} ({n})" for r, n in results.unregistered.items()) or "none")
        + ".",
        "",
    ]
    return "\n".join(out)


def write_table(path: Path | str, corpus: Path = DEFAULT_CORPUS) -> str:
    """Run the test sets and write the Markdown table to ``path``; return it."""
    table = conformance_table(run_test_sets(corpus))
    Path(path).write_text(table, encoding="utf-8")
    return table


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print("usage: python -m procure.einvoice.conformance OUTPUT.md [CORPUS]", file=sys.stderr)
        return 2
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    if not (corpus / "test").is_dir():
        print(f"no CEN test sets under {corpus}/test", file=sys.stderr)
        return 1
    write_table(argv[0], corpus)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
