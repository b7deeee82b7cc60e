"""Strict mode: the official EN 16931 Schematron (compiled XSLT, saxonche) beside our rules.

Documents from the public corpus (../shared/corpus, read in place) whose official verdict rests
on rules we do not implement in Python (the CII syntax rules) get that verdict in strict mode;
valid invoices stay accepted; a rule both report is reported once; a run the Schematron cannot
finish is a fatal finding; a wrong path is a configuration error that names it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from procure.einvoice.reader import read_document
from procure.einvoice.schematron import RUN_FAILED, SOURCE_NOTE, OfficialSchematron
from procure.errors import ConfigurationError
from tests.conftest import CORPUS, require

CEN = CORPUS / "en16931-cen"


@pytest.fixture(scope="module")
def official() -> OfficialSchematron:
    require("the CEN validation artefacts", (CEN / "ubl" / "xslt").is_dir(), str(CEN))
    return OfficialSchematron.at(CORPUS)  # the corpus holds en16931-cen: found below it


def corpus_file(relative: str) -> bytes:
    path = CORPUS / relative
    require("the conformance corpus", path.is_file(), str(path))
    return path.read_bytes()


@pytest.mark.parametrize(
    "relative",
    [
        "en16931-cen/ubl/examples/BIS3_Invoice_positive.XML",
        "en16931-cen/cii/examples/CII_business_example_01.xml",
        "peppol-bis3/rules/examples/base-example.xml",
    ],
)
def test_a_valid_invoice_stays_accepted_in_strict_mode(
    official: OfficialSchematron, relative: str
) -> None:
    outcome = read_document(corpus_file(relative), strict=official)
    assert outcome.accepted, [f for f in outcome.findings if f.severity == "fatal"]


def test_strict_mode_gives_the_official_verdict_where_it_rests_on_a_syntax_rule(
    official: OfficialSchematron,
) -> None:
    # INDEX.tsv: the official EN 16931 run rejects it on CII-SR-461 (BT-7 given twice), a CII
    # syntax rule our Python rules do not implement; without strict mode we accept it.
    data = corpus_file("kosit-xrechnung-config/test/cen-unit-test/cii-cii-sr-461-bt-7-cardinality-test.xml")  # fmt: skip
    assert read_document(data).accepted

    outcome = read_document(data, strict=official)

    assert not outcome.accepted
    [sr461] = [f for f in outcome.findings if f.rule == "CII-SR-461"]
    assert sr461.severity == "fatal" and sr461.message.endswith(SOURCE_NOTE)
    assert sr461.location is not None and "ApplicableHeaderTradeSettlement" in sr461.location


def test_a_rule_both_report_is_reported_once_in_our_words(official: OfficialSchematron) -> None:
    data = corpus_file("peppol-bis3/rules/examples/base-example.xml")
    start, end = data.index(b"<cbc:IssueDate>"), data.index(b"</cbc:IssueDate>") + 16
    outcome = read_document(data[:start] + data[end:], strict=official)

    [br03] = [f for f in outcome.findings if f.rule == "BR-03"]
    assert br03.location == "issue_date (BT-2)" and SOURCE_NOTE not in br03.message


def test_a_run_the_schematron_cannot_finish_is_a_fatal_finding(
    official: OfficialSchematron,
) -> None:
    # INDEX.tsv: the official run stops on this one (normalize-space of two scheme ids).
    outcome = read_document(corpus_file("mustang/library/Extended_fremdwaehrung.xml"), strict=official)  # fmt: skip
    [failed] = [f for f in outcome.findings if f.rule == RUN_FAILED]
    assert failed.severity == "fatal" and "normalize-space" in failed.message
    assert not outcome.accepted


def test_strict_mode_without_the_artefacts_is_a_configuration_error_naming_the_path(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError, match=str(tmp_path)):
        OfficialSchematron.at(tmp_path)


def test_invoice_parse_runs_strict_mode_when_the_artefacts_are_configured(
    official: OfficialSchematron,
) -> None:
    from typer.testing import CliRunner

    from entrypoints.cli import app

    path = CORPUS / "kosit-xrechnung-config/test/cen-unit-test/cii-cii-sr-461-bt-7-cardinality-test.xml"  # fmt: skip
    runner = CliRunner()
    plain = runner.invoke(app, ["invoice", "parse", str(path)], env={"PROCURE_SCHEMATRON_DIR": ""})
    strict = runner.invoke(
        app, ["invoice", "parse", str(path)], env={"PROCURE_SCHEMATRON_DIR": str(CORPUS)}
    )

    assert plain.exit_code == 0, plain.output
    assert strict.exit_code == 1
    assert "fatal [CII-SR-461]" in strict.output and SOURCE_NOTE in strict.output
