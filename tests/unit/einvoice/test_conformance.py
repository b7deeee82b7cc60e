"""Our core, cohesion and decimal rules against the CEN unit test sets, and the generated
conformance table in docs/ being current.

Every assertion the test sets make about a BR-nn / BR-CO-* / BR-DEC-* rule passes, except the
known disagreements listed (with their reasons) in ``conformance.KNOWN_DISAGREEMENTS``; that
list must not go stale either: a disagreement that has gone away fails the test until it is
removed. The corpus is read in place; without it these tests skip, except in CI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from procure.einvoice.conformance import (
    KNOWN_DISAGREEMENTS,
    Results,
    conformance_table,
    run_test_sets,
)
from procure.einvoice.rules import REGISTRY, load_all
from tests.conftest import CORPUS, require

CEN = CORPUS / "en16931-cen"
TABLE = Path(__file__).resolve().parents[3] / "docs" / "conformance.md"
MINE = re.compile(r"^BR-(\d\d|CO-\d+|DEC-\d+)$")
REGENERATE = "python -m procure.einvoice.conformance docs/conformance.md"


@pytest.fixture(scope="module")
def results() -> Results:
    require("the CEN EN 16931 test sets", (CEN / "test").is_dir(), f"{CEN / 'test'} is missing")
    return run_test_sets(CEN)


def test_our_rules_pass_every_test_set_assertion_but_the_known_disagreements(
    results: Results,
) -> None:
    failing = {o.key: o for o in results.failures() if MINE.match(o.rule)}
    unexplained = {k: f"{o.rule} expected {o.expected}: {o.detail}" for k, o in failing.items()}
    for key in KNOWN_DISAGREEMENTS:
        unexplained.pop(key, None)
    assert unexplained == {}
    stale = sorted(set(KNOWN_DISAGREEMENTS) - set(failing))
    assert stale == [], "these disagreements are gone: remove them from KNOWN_DISAGREEMENTS"


def test_the_test_sets_exercise_our_rules_on_both_syntaxes(results: Results) -> None:
    ours = {rule for rule in results.by_rule() if MINE.match(rule)}
    assert len(ours) >= 75  # every BR-nn, most BR-CO; the sets have no BR-DEC tests
    cii = {o.rule for o in results.outcomes if o.key.startswith("cii/")}
    assert {"BR-CO-15", "BR-CO-17"} <= cii


def test_rules_asserted_but_not_in_the_schematron_release_are_reported_apart(
    results: Results,
) -> None:
    load_all()
    assert "BR-CO-25" not in REGISTRY
    assert results.unregistered.get("BR-CO-25") == 6
    assert all(rule not in REGISTRY for rule in results.unregistered)


def test_the_conformance_table_in_docs_is_current(results: Results) -> None:
    assert TABLE.is_file(), f"docs/conformance.md is missing: run {REGENERATE}"
    assert TABLE.read_text(encoding="utf-8") == conformance_table(results), (
        f"docs/conformance.md is out of date: run {REGENERATE}"
    )
