"""Invoice intake through the store: originals kept, rejects quarantined, duplicates recognised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from procure.services import intake
from procure.services.inbox import scan_inbox
from tests.conftest import CORPUS, require

BASE = CORPUS / "peppol-bis3" / "rules" / "examples" / "base-example.xml"


@pytest.fixture
def base_example() -> bytes:
    require("the conformance corpus", BASE.exists(), str(BASE))
    return BASE.read_bytes()


@pytest.fixture
def council(make_app: Any, database_url: str) -> Any:
    return make_app(database_url)


def events(app: Any, doc_id: str) -> list[str]:
    return [e["event"] for e in intake.invoice_view(app.ctx, doc_id)["timeline"]]


def test_a_valid_invoice_is_accepted_and_its_original_bytes_are_kept(
    council: Any, base_example: bytes
) -> None:
    result = intake.ingest(council.ctx, base_example, filename="base-example.xml")
    assert result.status == "accepted", result.findings
    assert events(council, result.id) == ["InvoiceAccepted"]
    view = intake.invoice_view(council.ctx, result.id)
    assert view["number"] and view["syntax"] == "ubl"
    assert intake.original_bytes(council.ctx, view["sha256"]) == base_example


def test_the_same_file_twice_is_recognised_and_not_processed_again(
    council: Any, base_example: bytes
) -> None:
    first = intake.ingest(council.ctx, base_example, filename="a.xml")
    again = intake.ingest(council.ctx, base_example, filename="a-copy.xml")
    assert again.status == "duplicate" and again.duplicate_of == first.id
    assert events(council, again.id) == ["InvoiceDuplicateRecognised"]


def test_a_resent_copy_of_a_file_first_held_as_a_duplicate_number_is_the_same_file(
    council: Any, base_example: bytes
) -> None:
    """Regression: the copy's bytes were stored again and the whole batch failed on the
    blob's unique key."""
    first = intake.ingest(council.ctx, base_example, filename="a.xml")
    reworded = base_example.replace(b"</cbc:IssueDate>", b"</cbc:IssueDate><cbc:Note>again</cbc:Note>", 1)  # fmt: skip
    by_number = intake.ingest(council.ctx, reworded, filename="b.xml")
    assert by_number.status == "duplicate" and by_number.duplicate_of == first.id
    third = intake.ingest(council.ctx, reworded, filename="b-again.xml")
    fourth = intake.ingest(council.ctx, reworded, filename="b-once-more.xml")
    assert (third.status, third.duplicate_of) == ("duplicate", by_number.id)
    assert (fourth.status, fourth.duplicate_of) == ("duplicate", by_number.id)


def test_the_same_invoice_number_written_differently_is_a_duplicate(
    council: Any, base_example: bytes
) -> None:
    first = intake.ingest(council.ctx, base_example)
    number = intake.invoice_view(council.ctx, first.id)["number"]
    restyled = f" {number.lower()} " if number.lower() != number else f"0{number}"
    second = base_example.replace(
        f"<cbc:ID>{number}</cbc:ID>".encode(), f"<cbc:ID>{restyled}</cbc:ID>".encode(), 1
    )
    assert second != base_example
    again = intake.ingest(council.ctx, second)
    assert again.status == "duplicate" and again.duplicate_of == first.id


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        (b"", "PROCURE-XML-empty"),
        (b"\x00\x01\x02binary", "PROCURE-XML-not_xml"),
        (b"<Invoice><cbc:ID>trunc", "PROCURE-XML-malformed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "PROCURE-XML-doctype_refused",
        ),
        (b"<root xmlns='urn:example'/>", "PROCURE-DOC-unknown_document"),
    ],
)
def test_bad_input_is_quarantined_with_a_reason_and_kept(
    council: Any, payload: bytes, rule: str
) -> None:
    result = intake.ingest(council.ctx, payload, filename="bad.xml")
    assert result.status == "rejected"
    assert [f["rule"] for f in result.findings if f["severity"] == "fatal"] == [rule]
    assert "root:" not in str(result.findings)  # never a local file's contents
    [row] = [q for q in intake.quarantine(council.ctx) if q["id"] == result.id]
    assert row["reasons"]
    sha = intake.invoice_view(council.ctx, result.id)["sha256"]
    assert intake.original_bytes(council.ctx, sha) == payload


def test_a_batch_with_one_bad_file_keeps_the_good_ones(council: Any, base_example: bytes) -> None:
    results = intake.ingest_many(
        council.ctx,
        [intake.Received(base_example, "good.xml"), intake.Received(b"<oops", "bad.xml")],
    )
    assert [r.status for r in results] == ["accepted", "rejected"]


def test_the_watched_inbox_takes_files_in_and_files_them_away(
    council: Any, base_example: bytes, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.xml").write_bytes(base_example)
    (inbox / "bad.xml").write_bytes(b"not xml at all")
    results = scan_inbox(council.ctx, inbox, settle_seconds=0)
    assert sorted(r.status for r in results) == ["accepted", "rejected"]
    assert (inbox / "processed" / "good.xml").exists()
    assert (inbox / "quarantine" / "bad.xml").exists()
    assert scan_inbox(council.ctx, inbox, settle_seconds=0) == []


def test_normalised_numbers_ignore_case_spaces_punctuation_and_leading_zeros() -> None:
    n = intake.normalise_number
    assert n("INV-000123") == n("inv 123") == n("Inv/0123") == "INV123"
    assert n("2024-0001") == n("2024/1")
    assert n(None) is None


def test_an_oversize_file_in_the_inbox_is_quarantined_not_read_whole(
    council: Any, base_example: bytes, tmp_path: Path
) -> None:
    council.ctx.max_document_bytes = 1_000
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "huge.xml").write_bytes(base_example * 50)
    [result] = scan_inbox(council.ctx, inbox, settle_seconds=0)
    assert result.status == "rejected"
    assert [f["rule"] for f in result.findings] == ["PROCURE-XML-too_large"]
    assert (inbox / "quarantine" / "huge.xml").stat().st_size == len(base_example) * 50
    sha = intake.invoice_view(council.ctx, result.id)["sha256"]
    assert len(intake.original_bytes(council.ctx, sha) or b"") == 1_001


def test_strict_intake_quarantines_what_only_the_official_schematron_rejects(
    make_app: Any, database_url: str
) -> None:
    path = CORPUS / "kosit-xrechnung-config/test/cen-unit-test/cii-cii-sr-461-bt-7-cardinality-test.xml"  # fmt: skip
    require("the conformance corpus", path.exists(), str(path))
    strict = make_app(database_url, schematron_dir=CORPUS)

    result = intake.ingest(strict.ctx, path.read_bytes(), filename=path.name)

    assert result.status == "rejected"
    assert "CII-SR-461" in {f["rule"] for f in result.findings}
