"""Skipping the VAT families a document never uses changes no verdict (corpus-wide check)."""

from __future__ import annotations

import csv

import pytest

from procure.einvoice.reader import read_document
from procure.einvoice.rules import run_rules
from tests.conftest import CORPUS, require


def corpus_documents() -> list[str]:
    index = CORPUS / "INDEX.tsv"
    if not index.exists():
        return []
    with index.open(encoding="utf-8") as f:
        return [
            r["path"]
            for r in csv.DictReader(f, delimiter="\t")
            if r["kind"] in {"ubl-invoice", "ubl-creditnote", "cii"}
            # MINIMUM and BASIC WL carry no lines: refused by name, never a document to check
            and not any(p in r["spec_id"].lower() for p in ("minimum", "basicwl"))
        ]


@pytest.mark.parametrize("path", corpus_documents() or ["(corpus absent)"])
def test_the_shortcut_gives_the_same_findings_as_running_every_rule(path: str) -> None:
    require("the conformance corpus", (CORPUS / "INDEX.tsv").exists(), str(CORPUS))
    outcome = read_document((CORPUS / path).read_bytes())
    if outcome.document is None:
        pytest.skip("not a readable document")
    doc = outcome.document.model_copy(update={"findings": ()})
    fast = run_rules(doc)
    full = run_rules(doc, skip_unused_vat_families=False)
    key = lambda f: (f.rule, f.location or "", f.message)  # noqa: E731
    assert sorted(fast, key=key) == sorted(full, key=key)
