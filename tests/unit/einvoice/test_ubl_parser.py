"""The UBL reader: every UBL instance of the public corpus, four documents checked value by
value, credit notes, xs:boolean and decimal spellings, code uses, fragments from rule-level
test sets, refusals.

The corpus (../shared/corpus) is read in place; without it these tests skip, except in CI.
Expected values were read off the XML files by hand, not produced by the parser.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from procure.einvoice.errors import UnsupportedDocument
from procure.einvoice.model import Identifier, Invoice
from procure.einvoice.rules import run_rules
from procure.einvoice.ubl import NS_CREDIT_NOTE, NS_INVOICE, parse_ubl
from procure.einvoice.xml_safety import parse_xml
from tests.conftest import CORPUS, require

NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
UBL_TEST_SET_FOLDERS = (
    "en16931-cen/test/Invoice-unit-UBL",
    "en16931-cen/test/CreditNote-unit-UBL",
    "peppol-bis3/rules/unit-UBL-PEPPOL",
)


def need_corpus() -> None:
    require("the e-invoice corpus", (CORPUS / "INDEX.tsv").is_file(), f"{CORPUS} is missing")


def corpus_rows(*kinds: str) -> list[Any]:
    """INDEX.tsv rows of the given kinds as pytest params (one placeholder when absent)."""
    index = CORPUS / "INDEX.tsv"
    if not index.is_file():
        return [pytest.param(None, id="corpus-missing")]
    with index.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["kind"] in kinds]
    return [pytest.param(r, id=r["path"]) for r in rows]


def read(relative: str) -> Invoice:
    need_corpus()
    return parse_ubl(parse_xml((CORPUS / relative).read_bytes()))


def ubl(body: str, root: str = "Invoice") -> Invoice:
    """Parse a small UBL document whose root holds ``body``."""
    ns = NS_INVOICE if root == "Invoice" else NS_CREDIT_NOTE
    xml = f'<{root} xmlns="{ns}" xmlns:cac="{NS_CAC}" xmlns:cbc="{NS_CBC}">{body}</{root}>'
    return parse_ubl(parse_xml(xml.encode()))


# -- the whole corpus ------------------------------------------------------------------------------


@pytest.mark.parametrize("row", corpus_rows("ubl-invoice", "ubl-creditnote"))
def test_every_ubl_instance_in_the_corpus_parses_and_agrees_with_the_index(
    row: dict[str, str] | None,
) -> None:
    need_corpus()
    assert row is not None
    doc = parse_ubl(parse_xml((CORPUS / row["path"]).read_bytes()))

    assert doc.kind == ("credit_note" if row["kind"] == "ubl-creditnote" else "invoice")
    assert doc.syntax == "ubl"
    assert doc.findings == ()
    # INDEX.tsv was produced by other tools: line count, BT-5, BT-3, BT-24, VAT categories
    assert str(len(doc.lines)) == row["lines"]
    assert (doc.currency or "") == row["currency"]
    assert (doc.type_code or "") == row["typecode"]
    assert (doc.customization_id or "") == row["spec_id"]
    categories = ",".join(sorted({v.category for v in doc.vat_breakdown if v.category}))
    assert categories == row["vat_cats"]
    assert Invoice.model_validate(doc.model_dump()) == doc


# -- four documents, value by value ---------------------------------------------------------------


def test_peppol_maximum_content_invoice_maps_every_group() -> None:
    doc = read("en16931-cen/test/testfiles/Invoice-Max_content.xml")

    assert (doc.number, doc.issue_date, doc.due_date) == (
        "2018210",
        dt.date(2018, 2, 8),
        dt.date(2018, 3, 7),
    )
    assert (doc.type_code, doc.currency, doc.tax_currency) == ("380", "SEK", "EUR")
    assert doc.tax_point_date == dt.date(2018, 2, 8)
    assert doc.buyer_reference == "Buyer reference"
    assert (doc.order_reference, doc.sales_order_reference) == ("20180117", "INK/0117/JM")
    assert doc.contract_reference == "2017-123"
    assert doc.project_reference == "Project 99"
    assert doc.despatch_advice_reference == "Despatch_advice Feb 01-07"
    assert doc.receiving_advice_reference == "Receipt_advice 01-07"
    assert doc.tender_reference == "Tender 2017-12, lot no. 3"
    assert doc.invoiced_object == Identifier(value="ABC123", scheme="VT")
    assert doc.accounting_reference == "BES, 87392"
    assert doc.notes == ("Document level Note\nLine break should be respected here.",)
    assert [(p.id, p.issue_date) for p in doc.preceding_invoices] == [
        ("Preceding invoice no.1", dt.date(2018, 1, 31)),
        ("Preceding invoice no.2", None),
    ]

    seller = doc.seller
    assert seller.name == "The Global Chain Sweden AB"
    assert seller.trading_name == "Global Trade Chain"
    assert seller.vat_id == "SE123456789001"
    assert seller.tax_registration_id == "Godkänd för F-skatt"  # BT-32: TaxScheme TAX
    assert seller.legal_id == Identifier(value="1234567890", scheme="0007")
    assert seller.legal_info == "Säte: Big CIty"
    assert seller.endpoint_id == Identifier(value="1234567890", scheme="0007")
    assert seller.identifiers == (
        Identifier(value="7350000001204", scheme="0088"),
        Identifier(value="BilateralID"),
    )
    assert seller.address is not None
    assert (seller.address.line3, seller.address.subdivision) == ("Address-line3", "Delstat A")
    assert seller.contact is not None and seller.contact.email == "info@UCS.se"
    assert doc.buyer.vat_id == "SE123451234501"
    assert doc.buyer.tax_registration_id is None
    assert doc.payee is not None
    assert doc.payee.identifier == Identifier(value="7350053850019", scheme="0088")
    assert doc.tax_representative is not None
    assert doc.tax_representative.vat_id == "SE998877665501"
    assert doc.delivery is not None
    assert doc.delivery.location_id == Identifier(value="7350000001211", scheme="0088")
    assert doc.delivery.date == dt.date(2017, 12, 1)
    assert doc.delivery.name == "Deliver-to Name A.S."

    assert doc.payment is not None
    assert (doc.payment.means_code, doc.payment.means_text) == ("30", "Credit transfer")
    assert doc.payment.remittance_info == "1800355"
    assert [a.account_id for a in doc.payment.accounts] == [
        "SE1212341234123412341234",
        "12341234567",
        "1112222",
        "121212",
    ]
    assert doc.payee_account == "SE1212341234123412341234"
    assert (
        doc.payment_terms == "30 days net. Penalty rate 12 %\nLine break should be respected here."
    )
    assert [(a.reason_code, a.vat_category) for a in doc.allowances] == [("95", "E")]
    assert [(c.reason_code, c.reason) for c in doc.charges] == [("WH", "Warehousing")]

    t = doc.totals
    assert (t.line_net, t.tax_exclusive, t.tax, t.tax_inclusive, t.payable) == (
        Decimal("10000"),
        Decimal("10000"),
        Decimal("2500"),
        Decimal("12500"),
        Decimal("12500"),
    )
    assert t.tax_in_tax_currency == Decimal("249")  # the TaxTotal in EUR is BT-111
    assert [(v.category, v.rate, v.taxable_amount, v.tax_amount) for v in doc.vat_breakdown] == [
        ("S", Decimal("25"), Decimal("10000"), Decimal("2500")),
        ("E", Decimal("0"), Decimal("0"), Decimal("0")),
    ]
    assert doc.vat_breakdown[1].exemption_code == "vatex-eu-132-1g"

    assert len(doc.lines) == 2
    first = doc.lines[0]
    assert (first.quantity, first.unit_code, first.net_amount) == (
        Decimal("500"),
        "MTR",
        Decimal("10000"),
    )
    assert (first.unit_price, first.price_discount, first.gross_price) == (
        Decimal("20"),
        Decimal("0.50"),
        Decimal("20.50"),
    )
    assert (first.price_base_quantity, first.price_base_unit) == (Decimal("1"), "MTR")
    assert (first.vat_category, first.vat_rate) == ("S", Decimal("25"))
    assert first.order_line_reference == "20080117/JM"
    assert first.object_id == Identifier(value="130-DR35141", scheme="ABZ")
    assert first.accounting_reference == "Accounting 101-222-8"
    assert first.period is not None and first.period.end == dt.date(2018, 2, 7)
    assert (first.seller_item_id, first.buyer_item_id) == ("UNI+X", "Buyer's ID")
    assert first.standard_item_id == Identifier(value="17350053850016", scheme="0088")
    assert first.classifications == (
        Identifier(value="9873242", scheme="SSR"),
        Identifier(value="SST3242", scheme="SST"),
    )
    assert first.origin_country == "SE"
    assert [(a.name, a.value) for a in first.attributes] == [
        ("Surface grade", "A11"),
        ("Density", "2.33"),
    ]
    assert [a.reason for a in first.allowances] == ["Discount"]
    assert [c.reason for c in first.charges] == ["Warehousing"]
    # the attachment's filename and MIME code, never its content
    attached = doc.supporting_documents[1]
    assert (attached.id, attached.mime_code, attached.filename) == (
        "Time report 1",
        "text/csv",
        "testfilnamn.abc",
    )


def test_peppol_base_example_keeps_amounts_as_written() -> None:
    doc = read("peppol-bis3/rules/examples/base-example.xml")

    assert (doc.number, doc.issue_date, doc.due_date) == (
        "Snippet1",
        dt.date(2017, 11, 13),
        dt.date(2017, 12, 1),
    )
    assert doc.currency == "EUR"
    assert doc.seller.vat_id == "GB1232434"
    assert doc.buyer_reference == "0150abc"
    assert doc.order_reference is None
    assert [(c.amount, c.reason, c.vat_category, c.vat_rate) for c in doc.charges] == [
        (Decimal("25"), "Insurance", "S", Decimal("25.0"))
    ]
    assert str(doc.charges[0].vat_rate) == "25.0"
    totals = doc.totals
    assert (totals.line_net, totals.tax_exclusive, totals.tax) == (
        Decimal("1300"),
        Decimal("1325"),
        Decimal("331.25"),
    )
    assert (totals.tax_inclusive, totals.payable, totals.charges) == (
        Decimal("1656.25"),
        Decimal("1656.25"),
        Decimal("25"),
    )
    assert [(line.quantity, line.net_amount, line.unit_price) for line in doc.lines] == [
        (Decimal("7"), Decimal("2800"), Decimal("400")),
        (Decimal("-3"), Decimal("-1500"), Decimal("500")),
    ]
    assert doc.lines[0].unit_code == "DAY"
    assert (doc.lines[0].vat_category, doc.lines[0].vat_rate) == ("S", Decimal("25.0"))
    assert doc.lines[0].order_line_reference == "123"


def test_a_zero_rated_sterling_invoice() -> None:
    doc = read("peppol-bis3/rules/examples/vat-category-Z.xml")

    assert (doc.number, doc.issue_date, doc.currency) == ("Vat-Z", dt.date(2018, 8, 30), "GBP")
    assert doc.seller.vat_id == "GB928741974"
    assert doc.buyer_reference == "test reference"
    assert doc.totals.tax == Decimal("0.00")
    assert str(doc.totals.payable) == "1200.00"
    assert [(v.category, v.rate, str(v.taxable_amount)) for v in doc.vat_breakdown] == [
        ("Z", Decimal("0"), "1200.00")
    ]
    (line,) = doc.lines
    assert (line.quantity, line.unit_code, str(line.net_amount), str(line.unit_price)) == (
        Decimal("10"),
        "EA",
        "1200.00",
        "120.00",
    )
    assert (line.vat_category, line.vat_rate) == ("Z", Decimal("0"))
    assert line.standard_item_id == Identifier(value="192387129837129873", scheme="0160")


def test_a_credit_note_names_the_invoice_it_credits() -> None:
    doc = read("en16931-cen/test/testfiles/BIS_Billing_30-Kreditering_med_kreditnota.xml")

    assert doc.kind == "credit_note"
    assert (doc.number, doc.type_code, doc.currency) == ("2018140", "381", "SEK")
    assert [(p.id, p.issue_date) for p in doc.preceding_invoices] == [
        ("2018133", dt.date(2018, 2, 8))
    ]
    assert doc.order_reference == "2018117"
    first, second = doc.lines
    assert (first.quantity, first.unit_code, first.net_amount) == (
        Decimal("2000"),
        "EA",
        Decimal("10200"),
    )
    assert (first.unit_price, first.price_base_quantity, first.price_base_unit) == (
        Decimal("10"),
        Decimal("2"),
        "EA",
    )
    assert (first.price_discount, first.gross_price) == (Decimal("1"), Decimal("11"))
    assert [(a.amount, a.base_amount, a.percent) for a in first.allowances] == [
        (Decimal("300"), Decimal("10000"), Decimal("3"))
    ]
    assert [c.reason for c in first.charges] == ["Repacking"]
    assert second.note == "This item is handled under industry recycling poslicy no. 2017/09"
    assert (second.quantity, second.net_amount) == (Decimal("-800"), Decimal("-640"))


def test_a_credit_note_carries_its_project_reference_as_a_type_50_document() -> None:
    doc = read("en16931-cen/test/testfiles/CreditNote-Max_content.xml")

    assert doc.kind == "credit_note"
    assert doc.project_reference == "11111111"  # ADR DocumentTypeCode 50: no ProjectReference
    assert doc.tender_reference == "Tender 2017-12, lot no. 3"
    assert doc.invoiced_object == Identifier(value="ABC123", scheme="VT")
    assert [d.id for d in doc.supporting_documents] == ["MT123", "Time report 1", "Example 1"]


def test_a_credit_note_takes_its_due_date_from_payment_means() -> None:
    doc = ubl(
        "<cbc:ID>CN-1</cbc:ID><cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
        "<cbc:PaymentDueDate>2026-02-01</cbc:PaymentDueDate></cac:PaymentMeans>"
        "<cac:CreditNoteLine><cbc:ID>1</cbc:ID>"
        '<cbc:CreditedQuantity unitCode="H87">2</cbc:CreditedQuantity></cac:CreditNoteLine>',
        root="CreditNote",
    )

    assert doc.kind == "credit_note"
    assert doc.due_date == dt.date(2026, 2, 1)
    assert (doc.lines[0].quantity, doc.lines[0].unit_code) == (Decimal("2"), "H87")


# -- values as written -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "is_charge"),
    [
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("  true\n", True),
        (" 0 ", False),
    ],
)
def test_charge_indicator_accepts_every_xs_boolean_spelling(written: str, is_charge: bool) -> None:
    doc = ubl(
        f"<cac:AllowanceCharge><cbc:ChargeIndicator>{written}</cbc:ChargeIndicator>"
        '<cbc:Amount currencyID="GBP">5.00</cbc:Amount></cac:AllowanceCharge>'
    )

    assert doc.findings == ()
    found = doc.charges if is_charge else doc.allowances
    assert [a.amount for a in found] == [Decimal("5.00")]
    assert (doc.allowances if is_charge else doc.charges) == ()


@pytest.mark.parametrize("body", ["<cbc:ChargeIndicator>yes</cbc:ChargeIndicator>", ""])
def test_an_unreadable_or_missing_charge_indicator_is_a_fatal_finding(body: str) -> None:
    doc = ubl(
        f'<cac:AllowanceCharge>{body}<cbc:Amount currencyID="GBP">5</cbc:Amount></cac:AllowanceCharge>'
    )

    (finding,) = doc.findings
    assert (finding.rule, finding.severity) == ("PROCURE-PARSE-01", "fatal")
    assert "read as an allowance" in finding.message
    assert finding.location is not None
    assert finding.location.startswith("/Invoice/cac:AllowanceCharge")
    assert [a.amount for a in doc.allowances] == [Decimal("5")]  # the rules still see it


def test_vat_rates_written_differently_are_equal_and_keep_their_scale() -> None:
    rates = ["20", "20.0", "20.00", " 20.00 "]
    doc = ubl(
        "".join(
            f"<cac:InvoiceLine><cac:Item><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID>"
            f"<cbc:Percent>{r}</cbc:Percent></cac:ClassifiedTaxCategory></cac:Item>"
            "</cac:InvoiceLine>"
            for r in rates
        )
    )

    parsed = [line.vat_rate for line in doc.lines]
    assert parsed == [Decimal(20)] * 4
    assert [str(r) for r in parsed] == ["20", "20.0", "20.00", "20.00"]


@pytest.mark.parametrize("written", ["1,000.00", "12,50", "1e3", "NaN", "", "£5", "١٢"])
def test_an_unreadable_amount_is_none_with_a_finding_naming_it(written: str) -> None:
    doc = ubl(
        "<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine><cac:InvoiceLine><cbc:ID>2</cbc:ID>"
        f'<cbc:LineExtensionAmount currencyID="GBP">{written}</cbc:LineExtensionAmount>'
        "</cac:InvoiceLine>"
    )

    assert doc.lines[1].net_amount is None
    (finding,) = doc.findings
    assert finding.rule == "PROCURE-PARSE-01"
    assert finding.severity == "fatal"
    assert "cbc:LineExtensionAmount" in finding.message
    assert repr(written) in finding.message
    assert finding.location == "/Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount"


@pytest.mark.parametrize(("written", "value"), [("+5", "5"), ("-0.50", "-0.50"), (".5", "0.5")])
def test_every_xs_decimal_form_is_read(written: str, value: str) -> None:
    doc = ubl(
        f"<cac:LegalMonetaryTotal><cbc:PayableAmount>{written}</cbc:PayableAmount></cac:LegalMonetaryTotal>"
    )
    assert doc.totals.payable == Decimal(value)
    assert doc.findings == ()


@pytest.mark.parametrize("written", ["2026-02-30", "13/01/2026", "20260113", "2026-01-13T10:00:00"])
def test_an_unreadable_date_is_none_with_a_finding(written: str) -> None:
    doc = ubl(f"<cbc:IssueDate>{written}</cbc:IssueDate>")

    assert doc.issue_date is None
    (finding,) = doc.findings
    assert finding.location == "/Invoice/cbc:IssueDate"
    assert "YYYY-MM-DD" in finding.message


def test_an_unreadable_issue_date_is_reported_unreadable_not_missing() -> None:
    # CEN test set BR-03 #1: "123" is text, so the Schematron holds BR-03; ours says what is wrong.
    doc = ubl("<cbc:IssueDate>123</cbc:IssueDate>")

    assert doc.issue_date is None and doc.unreadable == ("issue_date",)
    assert [(f.rule, f.location) for f in doc.findings] == [
        ("PROCURE-PARSE-01", "/Invoice/cbc:IssueDate")
    ]
    assert run_rules(doc, ["BR-03"]) == []
    assert doc.rejected


@pytest.mark.parametrize("body", ["", "<cbc:IssueDate> </cbc:IssueDate>"])
def test_an_absent_or_blank_issue_date_is_missing_for_br_03(body: str) -> None:
    doc = ubl(body)
    assert doc.unreadable == ()
    assert [f.location for f in run_rules(doc, ["BR-03"])] == ["issue_date (BT-2)"]


def test_an_unreadable_line_amount_is_located_and_not_also_reported_missing() -> None:
    doc = ubl(
        "<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine><cac:InvoiceLine><cbc:ID>2</cbc:ID>"
        '<cbc:LineExtensionAmount currencyID="GBP">1,000.00</cbc:LineExtensionAmount>'
        "</cac:InvoiceLine>"
    )
    assert doc.unreadable == ("lines[2].net_amount",)
    assert [f.location for f in run_rules(doc, ["BR-24"])] == ["lines[1].net_amount (BT-131)"]


@pytest.mark.parametrize(
    ("reference", "scheme", "fires"),
    [
        ('<cbc:ID schemeID="XXA"/><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>', "XXA", True),
        ('<cbc:ID schemeID="ABF"/><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>', "ABF", False),
        ('<cbc:ID schemeID="XXA"/>', None, False),
    ],
)
def test_an_empty_object_identifier_keeps_its_scheme_for_br_cl_07(
    reference: str, scheme: str | None, fires: bool
) -> None:
    # CEN test set BR-CL-07 #3 / #5 / #6: only a reference typed 130 is the object identifier.
    header = ubl(f"<cac:AdditionalDocumentReference>{reference}</cac:AdditionalDocumentReference>")
    line = ubl(
        "<cac:InvoiceLine><cbc:ID>1</cbc:ID>"
        f"<cac:DocumentReference>{reference}</cac:DocumentReference></cac:InvoiceLine>"
    )

    expected = None if scheme is None else Identifier(value="", scheme=scheme)
    assert header.invoiced_object == expected
    assert line.lines[0].object_id == expected
    assert bool(run_rules(header, ["BR-CL-07"])) is fires
    assert bool(run_rules(line, ["BR-CL-07"])) is fires


def test_a_date_with_an_xs_date_time_zone_is_read_as_the_calendar_date() -> None:
    doc = ubl(
        "<cbc:IssueDate>2016-04-04+01:00</cbc:IssueDate><cbc:DueDate>2016-05-01Z</cbc:DueDate>"
    )
    assert (doc.issue_date, doc.due_date) == (dt.date(2016, 4, 4), dt.date(2016, 5, 1))
    assert doc.findings == ()


@pytest.mark.parametrize("written", ["GB 220 4302 31", "gb220.430.231", " GB-220-4302-31 "])
def test_vat_identifiers_are_normalised(written: str) -> None:
    doc = ubl(
        "<cac:AccountingSupplierParty><cac:Party><cac:PartyTaxScheme>"
        f"<cbc:CompanyID>{written}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>"
        "</cac:PartyTaxScheme></cac:Party></cac:AccountingSupplierParty>"
    )
    assert doc.seller.vat_id == "GB220430231"
    assert doc.seller.tax_registration_id is None


def test_a_sepa_identifier_is_the_creditor_id_not_a_seller_identifier() -> None:
    doc = read("peppol-bis3/rules/snippets/direct-debit.xml")

    assert doc.payment is not None
    assert doc.payment.creditor_id == "23123687"
    assert (doc.payment.means_code, doc.payment.mandate_id) == ("59", "123456")
    assert doc.payment.debited_account == "DK12328462834823"
    assert all(i.scheme != "SEPA" for i in doc.seller.identifiers)


def test_every_code_attribute_is_recorded_with_its_location() -> None:
    doc = ubl(
        "<cac:AdditionalDocumentReference><cbc:ID>A1</cbc:ID><cac:Attachment>"
        '<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="a.pdf">'
        "JVBERi0=</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>"
        "</cac:AdditionalDocumentReference>"
        "<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>"
        '<cac:InvoiceLine><cbc:ID>2</cbc:ID><cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>'
        '<cbc:LineExtensionAmount currencyID="GBP">9.99</cbc:LineExtensionAmount>'
        '<cac:Item><cac:StandardItemIdentification><cbc:ID schemeID="0160">5012345678900</cbc:ID>'
        "</cac:StandardItemIdentification><cac:CommodityClassification>"
        '<cbc:ItemClassificationCode listID="STI">30192000</cbc:ItemClassificationCode>'
        "</cac:CommodityClassification></cac:Item></cac:InvoiceLine>"
    )

    uses = {(u.attribute, u.value, u.location) for u in doc.code_uses}
    line = "/Invoice/cac:InvoiceLine[2]"
    assert uses == {
        (
            "mimeCode",
            "application/pdf",
            "/Invoice/cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
        ),
        ("unitCode", "C62", f"{line}/cbc:InvoicedQuantity"),
        ("currencyID", "GBP", f"{line}/cbc:LineExtensionAmount"),
        ("schemeID", "0160", f"{line}/cac:Item/cac:StandardItemIdentification/cbc:ID"),
        (
            "listID",
            "STI",
            f"{line}/cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode",
        ),
    }
    assert doc.supporting_documents[0].filename == "a.pdf"


def test_locations_in_an_invoice_with_hundreds_of_lines_are_numbered_per_line() -> None:
    lines = "".join(
        f"<cac:InvoiceLine><cbc:ID>{n}</cbc:ID><cbc:Note>a</cbc:Note><cbc:Note>b</cbc:Note>"
        f'<cbc:LineExtensionAmount currencyID="GBP">{n}.00</cbc:LineExtensionAmount>'
        "</cac:InvoiceLine>"
        for n in range(1, 301)
    )
    doc = ubl(
        f"<cbc:ID>BIG</cbc:ID>{lines}<cbc:DocumentCurrencyCode>GBP</cbc:DocumentCurrencyCode>"
    )

    assert len(doc.lines) == 300
    assert doc.lines[-1].note == "a\nb"
    assert [u.location for u in doc.code_uses[::299]] == [
        "/Invoice/cac:InvoiceLine[1]/cbc:LineExtensionAmount",
        "/Invoice/cac:InvoiceLine[300]/cbc:LineExtensionAmount",
    ]


def test_an_embedded_attachment_is_never_kept() -> None:
    path = "en16931-cen/ubl/examples/FT_G2G_TD01_con_Allegato_Bonifico_e_Split_Payment.xml"
    doc = read(path)

    assert (CORPUS / path).stat().st_size > 3_000_000
    (attached,) = doc.supporting_documents
    assert (attached.mime_code, attached.filename) == ("application/pdf", "mappatura_ubl_sdi.pdf")
    assert len(doc.model_dump_json()) < 20_000


def test_other_namespace_prefixes_read_the_same() -> None:
    plain = read("oasis-ubl21/xml/UBL-Invoice-2.0-Example.xml")
    for n in range(1, 5):
        other = read(f"oasis-ubl21/xml/UBL-Invoice-2.0-Example-NS{n}.xml")
        assert other == plain, f"NS{n}"


# -- fragments and refusals ------------------------------------------------------------------------


def test_fragments_of_the_br_co_10_test_set_parse_leniently() -> None:
    need_corpus()
    test_set = etree.parse(str(CORPUS / "en16931-cen/test/Invoice-unit-UBL/BR-CO-10.xml"))
    fragments = test_set.getroot().findall(f"{{*}}test/{{{NS_INVOICE}}}Invoice")
    assert len(fragments) >= 4

    docs = [parse_ubl(f) for f in fragments]

    first = docs[0]
    assert first.totals.line_net == Decimal("100")
    assert [str(line.net_amount) for line in first.lines] == ["100.00"]
    assert (first.number, first.seller.name, first.payment) == (None, None, None)
    assert all(d.findings == () for d in docs)
    assert first.code_uses == () or all(u.location.startswith("/Invoice") for u in first.code_uses)


def ubl_test_set_files() -> list[Any]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-missing")]
    files = sorted(p for folder in UBL_TEST_SET_FOLDERS for p in (CORPUS / folder).glob("*.xm*"))
    return [pytest.param(p, id=str(p.relative_to(CORPUS))) for p in files]


def test_every_fragment_of_the_ubl_test_sets_parses_without_an_exception() -> None:
    need_corpus()
    ubl_root = etree.XPath(
        "//i:Invoice | //c:CreditNote", namespaces={"i": NS_INVOICE, "c": NS_CREDIT_NOTE}
    )
    count = 0
    for param in ubl_test_set_files():
        path = param.values[0]
        for fragment in ubl_root(parse_xml(path.read_bytes())):
            doc = parse_ubl(fragment)
            assert all(f.rule == "PROCURE-PARSE-01" for f in doc.findings), path
            count += 1
    assert count > 1000


@pytest.mark.parametrize(
    ("xml", "named"),
    [
        (b"<dummy/>", "root element dummy in namespace (no namespace)"),
        (
            b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:'
            b'CrossIndustryInvoice:100"/>',
            "CrossIndustryInvoice in namespace urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
        ),
        (
            b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>',
            "Order in namespace urn:oasis:names:specification:ubl:schema:xsd:Order-2",
        ),
        (f'<Invoice xmlns="{NS_CREDIT_NOTE}"/>'.encode(), f"Invoice in namespace {NS_CREDIT_NOTE}"),
    ],
)
def test_a_document_that_is_not_a_ubl_invoice_or_credit_note_is_refused(
    xml: bytes, named: str
) -> None:
    with pytest.raises(UnsupportedDocument) as refused:
        parse_ubl(parse_xml(xml))

    assert refused.value.code == "unknown_document"
    assert named in refused.value.message
    assert "is not a UBL Invoice or CreditNote" in refused.value.message


def test_the_corpus_ubl_order_is_refused() -> None:
    with pytest.raises(UnsupportedDocument) as refused:
        read("oasis-ubl21/xml/UBL-Order-2.1-Example.xml")
    assert refused.value.code == "unknown_document"
