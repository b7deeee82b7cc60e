"""Whatever a supplier sends, intake answers with a document or with findings: never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procure.einvoice.reader import read_document

UBL_HEAD = (
    b'<?xml version="1.0"?><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
    b'Invoice-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
)
CII_HEAD = (
    b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:'
    b'CrossIndustryInvoice:100">'
)


def _check(data: bytes) -> None:
    outcome = read_document(data)
    if outcome.document is None:
        assert outcome.findings
        assert all(f.severity == "fatal" for f in outcome.findings)
    assert outcome.accepted == (
        outcome.document is not None and not any(f.severity == "fatal" for f in outcome.findings)
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_any_byte_string_is_read_or_refused_with_findings(data: bytes) -> None:
    _check(data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([UBL_HEAD, CII_HEAD, b"PK\x03\x04"]), st.binary(max_size=1024))
def test_plausible_starts_with_garbage_after_are_read_or_refused(head: bytes, tail: bytes) -> None:
    _check(head + tail)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"<cbc:ID>1</cbc:ID>",
                b"<cbc:IssueDate>2026-13-45</cbc:IssueDate>",
                b"<cbc:DocumentCurrencyCode>XXX</cbc:DocumentCurrencyCode>",
                b"<cac:InvoiceLine><cbc:InvoicedQuantity>abc</cbc:InvoicedQuantity></cac:InvoiceLine>",
                b"<cbc:LineExtensionAmount currencyID='EUR'>1e999</cbc:LineExtensionAmount>",
                b"<cbc:Note>\xc3\xa9</cbc:Note>",
                b"<x/>",
                b"<cac:LegalMonetaryTotal><cbc:PayableAmount>NaN</cbc:PayableAmount>"
                b"<cbc:LineExtensionAmount>Infinity</cbc:LineExtensionAmount></cac:LegalMonetaryTotal>",
                b"<cac:TaxTotal><cbc:TaxAmount>sNaN</cbc:TaxAmount><cac:TaxSubtotal>"
                b"<cbc:TaxableAmount>-0</cbc:TaxableAmount><cac:TaxCategory><cbc:Percent>1E+5"
                b"</cbc:Percent></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>",
            ]
        ),
        max_size=12,
    )
)
def test_well_formed_ubl_fragments_in_any_order_never_crash(parts: list[bytes]) -> None:
    data = UBL_HEAD.replace(
        b'">',
        b'" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">',
        1,
    )
    _check(data + b"".join(parts) + b"</Invoice>")
