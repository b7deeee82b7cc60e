"""The CII reader: every CII instance of the public corpus, three documents checked value by
value, the boolean indicator's spellings, fragments from rule-level test sets, refusals.

The corpus (../shared/corpus) is read in place; without it these tests skip, except in CI.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from procure.einvoice.cii import parse_cii
from procure.einvoice.errors import UnsupportedDocument
from procure.einvoice.model import Invoice
from procure.einvoice.rules import run_rules
from procure.einvoice.xml_safety import parse_xml
from tests.conftest import CORPUS, require

NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"


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
    return parse_cii(parse_xml((CORPUS / relative).read_bytes()))


def cii(body: str, guideline: str = "urn:cen.eu:en16931:2017") -> bytes:
    """A small CII document around ``body`` (the SupplyChainTradeTransaction's content)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="{NS_RSM}"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>{guideline}</ram:ID>
    </ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>INV-1</ram:ID><ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20260115</udt:DateTimeString>
    </ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>{body}</rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>""".encode()


def allowance(indicator: str, amount: str = "5.00") -> str:
    return f"""<ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>GBP</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeAllowanceCharge>
        <ram:ChargeIndicator><udt:Indicator>{indicator}</udt:Indicator></ram:ChargeIndicator>
        <ram:ActualAmount>{amount}</ram:ActualAmount><ram:Reason>Delivery</ram:Reason>
      </ram:SpecifiedTradeAllowanceCharge>
    </ram:ApplicableHeaderTradeSettlement>"""


# --- the whole corpus -------------------------------------------------------------------------


@pytest.mark.parametrize("row", corpus_rows("cii", "cii-zugferd1"))
def test_every_corpus_cii_instance_parses_or_is_refused_with_its_reason(
    row: dict[str, str] | None,
) -> None:
    need_corpus()
    assert row is not None
    root = parse_xml((CORPUS / row["path"]).read_bytes())
    if row["kind"] == "cii-zugferd1":
        with pytest.raises(UnsupportedDocument) as refused:
            parse_cii(root)
        assert refused.value.code == "zugferd1_not_supported"
        return
    if "minimum" in row["spec_id"].lower() or "basicwl" in row["spec_id"].lower():
        with pytest.raises(UnsupportedDocument) as refused:
            parse_cii(root)
        assert refused.value.code == "profile_not_supported"
        assert "no invoice lines" in refused.value.message
        return
    doc = parse_cii(root)
    assert doc.syntax == "cii"
    # Only the two KoSIT BT-7 / BT-8 cardinality tests carry something the parser sets aside.
    expected = {"PROCURE-PARSE-02"} if "cardinality-test" in row["path"] else set()
    assert {f.rule for f in doc.findings} == expected, doc.findings
    # INDEX.tsv was computed independently of this parser: it must agree with it.
    assert (doc.customization_id or "") == row["spec_id"]
    assert (doc.type_code or "") == row["typecode"]
    assert (doc.currency or "") == row["currency"]
    assert str(len(doc.lines)) == row["lines"]
    categories = ",".join(sorted({v.category for v in doc.vat_breakdown if v.category}))
    assert categories == row["vat_cats"]


def test_the_corpus_holds_the_refused_profiles_we_test_for() -> None:
    need_corpus()
    rows = [p.values[0] for p in corpus_rows("cii", "cii-zugferd1")]
    minimum = [r for r in rows if "minimum" in r["spec_id"].lower()]
    zugferd1 = [r for r in rows if r["kind"] == "cii-zugferd1"]
    assert len(minimum) >= 2 and len(zugferd1) >= 2


# --- three documents, value by value ----------------------------------------------------------


def test_xrechnung_comprehensive_case_reads_every_business_term() -> None:
    doc = read("xrechnung-testsuite/technical-cases/cius/01.01_comprehensive_test_uncefact.xml")
    assert doc.kind == "invoice"
    assert (
        doc.customization_id
        == "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
    )
    assert doc.profile_id == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert (doc.number, doc.type_code, doc.issue_date) == ("1234567", "380", dt.date(2018, 4, 13))
    assert (doc.currency, doc.tax_currency) == ("EUR", "GBP")
    assert doc.notes == ("#AAC#Invoice Note Description", "#AAC#Invoice Note Description 2")
    assert doc.tax_point_date == dt.date(2018, 4, 13)
    assert doc.due_date == dt.date(2018, 4, 13)
    assert doc.buyer_reference == "90000000-03083-72"
    assert doc.project_reference == "PR12345678"
    assert doc.contract_reference == "0000000752"
    assert (doc.order_reference, doc.sales_order_reference) == ("65002278", "ABC123456789")
    assert doc.receiving_advice_reference == "RAR123456789"
    assert doc.despatch_advice_reference == "DAR123456789"
    assert doc.tender_reference == "ANG987654321"
    assert doc.invoiced_object is not None and doc.invoiced_object.value == "OK987654321"
    assert doc.accounting_reference == "Buchungscode1"
    assert [(p.id, p.issue_date) for p in doc.preceding_invoices] == [
        ("PIR1234567890", dt.date(2018, 2, 4))
    ]
    seller = doc.seller
    assert seller.name == "[Seller name]" and seller.trading_name == "[Seller trading name]"
    assert [(i.value, i.scheme) for i in seller.identifiers] == [
        ("9876543217894897438", None),
        ("748387437438", None),
        ("987654321", "0088"),
    ]
    assert seller.legal_id is not None and seller.legal_id.scheme == "0088"
    assert (seller.vat_id, seller.tax_registration_id) == ("ATU123456789", "123/456/789")
    assert seller.endpoint_id is not None
    assert (seller.endpoint_id.value, seller.endpoint_id.scheme) == (
        "rechnungsausgang@test.com",
        "EM",
    )
    assert seller.address is not None and seller.address.line3 == "[Seller address line 3]"
    assert seller.contact is not None and seller.contact.phone == "012 3456789"
    assert doc.buyer.vat_id == "DE12345ABC"
    assert doc.payee is not None and doc.payee.identifier is not None
    assert (doc.payee.name, doc.payee.identifier.value) == ("[Payee name]", "74")
    assert doc.tax_representative is not None and doc.tax_representative.vat_id == "DE124567"
    assert doc.delivery is not None and doc.delivery.location_id is not None
    assert (doc.delivery.name, doc.delivery.location_id.value) == ("[Deliver to party name]", "68")
    assert doc.payment is not None
    assert (doc.payment.means_code, doc.payment.means_text) == ("58", "[Payment means text]")
    assert doc.payment.remittance_info == "Deb. 12345 / Fact. 9876543"
    assert [a.account_id for a in doc.payment.accounts] == [
        "DE79000000001234567890",
        "DE16000000002345678901",
    ]
    assert [a.reason for a in doc.allowances] == ["Fixed long term", "Fixed long term 2"]
    assert [(c.amount, c.vat_category, c.vat_rate) for c in doc.charges] == [
        (Decimal("10"), "E", Decimal("0"))
    ] * 2
    t = doc.totals
    assert (t.line_net, t.tax_exclusive, t.tax_inclusive, t.payable) == (
        Decimal("10781.25"),
        Decimal("10781.25"),
        Decimal("12829.69"),
        Decimal("12829.69"),
    )
    assert (t.tax, t.tax_in_tax_currency, t.rounding) == (
        Decimal("2048.44"),
        Decimal("2048.44"),
        Decimal("0"),
    )
    assert [(v.category, v.exemption_code) for v in doc.vat_breakdown] == [
        ("S", None),
        ("E", "VATEX-EU-132-1A"),
    ]
    attachment = doc.supporting_documents[0]
    assert (attachment.id, attachment.mime_code) == (
        "01_15_Anhang_01.pdf",
        "application/pdf",
    )
    line = doc.lines[0]
    assert (line.id, line.quantity, line.unit_code) == ("1", Decimal("30.00000000000"), "XPP")
    assert str(line.quantity) == "30.00000000000"  # exactly as written
    assert (line.unit_price, line.gross_price, line.price_discount) == (
        Decimal("158.1250000000"),
        Decimal("168.1250000000"),
        Decimal("10"),
    )
    assert (line.price_base_quantity, line.price_base_unit) == (Decimal("1"), "XPP")
    assert line.object_id is not None and (line.object_id.value, line.object_id.scheme) == (
        "ANG987654321",
        "ABZ",
    )
    assert (line.order_line_reference, line.accounting_reference) == ("6171175.1", "Konto 1")
    assert [c.value for c in line.classifications] == ["0721-880X", "0721-880XYZ"]
    assert line.attributes[1].name == "[Description 2]" and line.origin_country == "DE"
    assert len(line.allowances) == 2 and len(line.charges) == 2


def test_foreign_currency_extended_invoice_keeps_both_vat_totals_apart() -> None:
    doc = read("mustang/library/Extended_fremdwaehrung.xml")
    assert (doc.currency, doc.tax_currency) == ("GBP", "EUR")
    assert doc.customization_id is not None and "extended" in doc.customization_id
    assert doc.totals.tax is not None and doc.totals.tax_in_tax_currency is not None
    assert doc.totals.tax != doc.totals.tax_in_tax_currency
    assert doc.payee is not None and doc.payee.identifier is not None
    assert doc.payee.identifier.scheme == "0060"
    assert doc.tax_representative is not None and doc.tax_representative.vat_id == "DE1334567"
    line = doc.lines[0]
    assert (line.quantity, line.unit_code, line.net_amount) == (
        Decimal("10"),
        "H87",
        Decimal("850"),
    )
    assert [a.reason_code for a in line.allowances] == ["64", "70"]
    currencies = {(u.attribute, u.value) for u in doc.code_uses}
    assert ("currencyID", "EUR") in currencies and ("currencyID", "GBP") in currencies


def test_a_second_different_vat_point_date_code_is_set_aside_with_a_warning() -> None:
    doc = read("kosit-xrechnung-config/test/cen-unit-test/cii-cii-sr-462-bt-8-cardinality-test.xml")
    assert (doc.tax_point_date_code, doc.period and doc.period.description_code) == ("5", "5")
    [warning] = doc.findings
    assert (warning.rule, warning.severity) == ("PROCURE-PARSE-02", "warning")
    assert warning.location is not None
    assert warning.location.endswith("ram:ApplicableTradeTax[2]/ram:DueDateTypeCode")


def test_type_code_381_reads_as_a_credit_note() -> None:
    doc = read("mustang/validator/invalidV2.xml")
    assert (doc.kind, doc.type_code, doc.number) == ("credit_note", "381", "RE-20171118/506")
    assert doc.seller.vat_id == "DE136695976"
    assert doc.seller.tax_registration_id == "22/815/0815/4"
    assert doc.payment is not None and doc.payment.accounts[0].service_provider == "COBADEFFXXX"
    assert [(v.rate, v.tax_amount) for v in doc.vat_breakdown] == [
        (Decimal("7.00"), Decimal("11.20")),
        (Decimal("19.00"), Decimal("63.84")),
    ]


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "is_charge"),
    [("true", True), ("false", False), ("1", True), ("0", False), ("  true\n ", True)],
)
def test_charge_indicator_accepts_every_xs_boolean_spelling(written: str, is_charge: bool) -> None:
    doc = parse_cii(parse_xml(cii(allowance(written))))
    assert not doc.findings
    read_back = doc.charges if is_charge else doc.allowances
    assert [(a.is_charge, a.amount, a.reason) for a in read_back] == [
        (is_charge, Decimal("5.00"), "Delivery")
    ]


@pytest.mark.parametrize("written", ["yes", "", "TRUE", "True", "2"])
def test_an_unreadable_charge_indicator_is_a_fatal_finding_not_a_guess(written: str) -> None:
    doc = parse_cii(parse_xml(cii(allowance(written))))
    assert doc.allowances == () and doc.charges == ()
    [finding] = doc.findings
    assert (finding.rule, finding.severity) == ("PROCURE-PARSE-01", "fatal")
    assert finding.location is not None and "ChargeIndicator" in finding.location


def test_an_unparsable_amount_is_none_with_a_fatal_finding_naming_where() -> None:
    doc = parse_cii(parse_xml(cii(allowance("false", amount="12,50"))))
    assert doc.allowances[0].amount is None
    [finding] = doc.findings
    assert finding.rule == "PROCURE-PARSE-01" and finding.severity == "fatal"
    assert "'12,50'" in finding.message
    assert finding.location == (
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/"
        "ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount"
    )


def test_a_date_not_in_format_102_is_none_with_a_fatal_finding() -> None:
    data = cii("").replace(b">20260115<", b">2026-01-15<")
    doc = parse_cii(parse_xml(data))
    assert doc.issue_date is None
    assert [f.rule for f in doc.findings] == ["PROCURE-PARSE-01"]
    assert "BT-2" in doc.findings[0].message


@pytest.mark.parametrize(
    ("written", "unreadable", "br_03"),
    [
        ('format="102">2026-01-15<', ("issue_date",), False),  # there, but unreadable
        ('format="610">202601<', (), True),  # BR-03 asks for format 102
        ('format="102"> <', (), True),  # blank
    ],
)
def test_an_issue_date_written_in_format_102_but_unreadable_is_not_missing_for_br_03(
    written: str, unreadable: tuple[str, ...], br_03: bool
) -> None:
    data = cii("").replace(b'format="102">20260115<', written.encode())
    doc = parse_cii(parse_xml(data))
    assert doc.issue_date is None and doc.unreadable == unreadable
    assert doc.rejected or br_03
    assert bool(run_rules(doc, ["BR-03"])) is br_03


@pytest.mark.parametrize(("code", "fires"), [("ABZ", False), (" XXA ", True), ("ABZ (2)", True)])
def test_every_reference_type_code_is_checked_by_br_cl_07(code: str, fires: bool) -> None:
    # The CII binding's BR-CL-07 has the context ram:ReferenceTypeCode: every one, here on a
    # supporting document (type 916) that is not the invoiced object (BT-18).
    doc = parse_cii(
        parse_xml(
            cii(
                "<ram:ApplicableHeaderTradeAgreement><ram:AdditionalReferencedDocument>"
                "<ram:IssuerAssignedID>T-1</ram:IssuerAssignedID><ram:TypeCode>916</ram:TypeCode>"
                f"<ram:ReferenceTypeCode>{code}</ram:ReferenceTypeCode>"
                "</ram:AdditionalReferencedDocument></ram:ApplicableHeaderTradeAgreement>"
            )
        )
    )
    assert doc.invoiced_object is None
    found = run_rules(doc, ["BR-CL-07"])
    assert bool(found) is fires
    if fires:
        assert found[0].location == (
            "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/"
            "ram:ApplicableHeaderTradeAgreement/ram:AdditionalReferencedDocument/ram:ReferenceTypeCode"
        )


def test_a_processing_instruction_inside_a_value_does_not_cut_it_short() -> None:
    data = cii("").replace(
        b"<ram:ID>INV-1</ram:ID>", b"<ram:ID><?xmute mutator='x'?>INV-1</ram:ID>"
    )
    assert parse_cii(parse_xml(data)).number == "INV-1"


def test_vat_identifiers_are_normalised_and_codes_recorded_where_written() -> None:
    body = """<ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>
        <ram:Name>Acme Ltd</ram:Name>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">gb 123.456-789</ram:ID>
        </ram:SpecifiedTaxRegistration></ram:SellerTradeParty></ram:ApplicableHeaderTradeAgreement>
      <ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>GBP</ram:InvoiceCurrencyCode>
        <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
          <ram:TaxTotalAmount currencyID="GBP">20.00</ram:TaxTotalAmount>
        </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
      </ram:ApplicableHeaderTradeSettlement>"""
    doc = parse_cii(parse_xml(cii(body)))
    assert doc.seller.vat_id == "GB123456789"
    assert doc.totals.tax == Decimal("20.00")
    assert [(u.attribute, u.value) for u in doc.code_uses] == [
        ("schemeID", "VA"),
        ("currencyID", "GBP"),
    ]
    assert doc.code_uses[1].location.endswith(
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount"
    )


@pytest.mark.parametrize(
    "guideline",
    ["urn:factur-x.eu:1p0:minimum", "urn:factur-x.eu:1p0:basicwl", "urn:zugferd.de:2p0:BASICWL"],
)
def test_lineless_profiles_are_refused_with_advice_for_the_supplier(guideline: str) -> None:
    with pytest.raises(UnsupportedDocument) as refused:
        parse_cii(parse_xml(cii("", guideline=guideline)))
    assert refused.value.code == "profile_not_supported"
    assert "EN 16931" in refused.value.message and "EXTENDED" in refused.value.message


def test_basic_and_extended_profiles_are_read() -> None:
    for guideline in (
        "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
        "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
    ):
        assert parse_cii(parse_xml(cii("", guideline=guideline))).number == "INV-1"


def test_another_root_in_the_cii_namespace_is_an_unknown_document() -> None:
    need_corpus()
    root = parse_xml((CORPUS / "mustang/validator/invalidV2Root.xml").read_bytes())
    with pytest.raises(UnsupportedDocument) as refused:
        parse_cii(root)
    assert refused.value.code == "unknown_document"
    with pytest.raises(UnsupportedDocument) as refused:
        parse_cii(parse_xml(b"<Invoice xmlns='urn:example'/>"))
    assert refused.value.code == "unknown_document"


# --- fragments from rule-level test sets ------------------------------------------------------


def fragments_of(path: Path) -> list[bytes]:
    """The partial CII documents inside a vefa ``testSet`` file, each as its own XML."""
    root = parse_xml(path.read_bytes())
    return [etree.tostring(el) for el in root.iter(f"{{{NS_RSM}}}CrossIndustryInvoice")]


def cii_testsets() -> list[Any]:
    index = CORPUS / "INDEX.tsv"
    if not index.is_file():
        return [pytest.param(None, id="corpus-missing")]
    with index.open(encoding="utf-8", newline="") as f:
        paths = [r["path"] for r in csv.DictReader(f, delimiter="\t") if r["kind"] == "testset"]
    return [
        pytest.param(p, id=p) for p in paths if (CORPUS / p).read_bytes().find(NS_RSM.encode()) >= 0
    ]


@pytest.mark.parametrize("relative", cii_testsets())
def test_every_fragment_of_a_cii_testset_parses(relative: str | None) -> None:
    need_corpus()
    assert relative is not None
    fragments = fragments_of(CORPUS / relative)
    assert fragments
    for data in fragments:
        doc = parse_cii(parse_xml(data))
        assert doc.syntax == "cii"


def test_partial_fragment_reads_what_it_holds_and_nothing_more() -> None:
    need_corpus()
    first, _, third, *_ = fragments_of(CORPUS / "en16931-cen/test/cii/BR-CO-15-2.xml")
    doc = parse_cii(parse_xml(first))
    assert (doc.currency, doc.tax_currency) == ("DKK", "EUR")
    assert (doc.totals.tax, doc.totals.tax_in_tax_currency) == (
        Decimal("675.00"),
        Decimal("628.62"),
    )
    assert (doc.number, doc.issue_date, doc.lines, doc.payment) == (None, None, (), None)
    assert not doc.findings
    # VAT total in a currency that is neither BT-5 nor BT-6: not read, and said so.
    odd = parse_cii(parse_xml(third))
    assert odd.totals.tax is None
    assert [(f.rule, f.severity) for f in odd.findings] == [("PROCURE-PARSE-02", "warning")]


def test_peppol_fragment_with_zero_indicator_in_default_namespace_is_an_allowance() -> None:
    need_corpus()
    fragments = fragments_of(CORPUS / "peppol-bis3/rules/unit-CII-PEPPOL/PEPPOL-EN16931-R043.xml")
    docs = [parse_cii(parse_xml(f)) for f in fragments]
    assert docs[0].allowances and not docs[0].charges
    assert not docs[0].findings
