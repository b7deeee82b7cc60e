"""Every full document in the corpus gets the official EN 16931 verdict (accepted or rejected),
apart from the few whose official verdict rests on rules outside EN 16931; the report in docs/
is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from procure.einvoice.corpus_report import OUTSIDE_EN16931, report, verdicts
from tests.conftest import CORPUS, require

DOCS = Path(__file__).resolve().parents[3] / "docs" / "corpus-verdicts.md"


@pytest.fixture(scope="module")
def results() -> list:
    require("the conformance corpus", (CORPUS / "INDEX.tsv").exists(), str(CORPUS))
    return verdicts(CORPUS)


def test_every_officially_valid_document_is_accepted(results: list) -> None:
    refused = [
        (v.path, v.fatal_rules)
        for v in results
        if v.officially_valid and not v.accepted and v.path not in OUTSIDE_EN16931
    ]
    assert refused == []


def test_every_officially_invalid_document_is_rejected(results: list) -> None:
    let_through = [
        v.path
        for v in results
        if not v.officially_valid and v.accepted and v.path not in OUTSIDE_EN16931
    ]
    assert let_through == []


def test_the_listed_exceptions_still_differ(results: list) -> None:
    differing = {v.path for v in results if not v.agrees}
    assert set(OUTSIDE_EN16931) <= differing, "an exception no longer differs: remove it"


def test_the_report_in_docs_is_current(results: list) -> None:
    assert DOCS.read_text(encoding="utf-8") == report(results), (
        "run: python -m procure.einvoice.corpus_report ../shared/corpus docs/corpus-verdicts.md"
    )
