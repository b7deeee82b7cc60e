"""Canonical ``Invoice`` → UN/CEFACT Cross Industry Invoice (CII D16B, EN 16931 profile).

``render_cii(doc)`` writes every business term the model holds, in the element order of the
CII D16B XSD, following the EN 16931-3-3 CII binding as ``cii.parse_cii`` reads it, so that
``parse_cii(parse_xml(render_cii(doc)))`` gives ``doc`` back. Dates are format 102
(``YYYYMMDD``); decimals are written exactly as the model holds them; only the total VAT
amounts (BT-110, BT-111) carry a ``currencyID``, as the binding requires. All text goes through
lxml, which escapes it.

Choices where the binding leaves room: BT-24 defaults to ``urn:cen.eu:en16931:2017``; a note
read as ``#AAI#text`` is written with SubjectCode ``AAI`` (BT-21), the convention ``parse_cii``
reads back; identifiers without a scheme are ``ram:ID``, with one ``ram:GlobalID`` (so the
unscheme'd come first); BT-84 is an ``IBANID`` when it looks like an IBAN, else a
``ProprietaryID``; each BG-17 account gets its own payment means; BT-7 and BT-8 go on the first
VAT breakdown, BT-8 turned into its UNTDID 2475 code when the document was read from UBL
(UNTDID 2005); BT-11 needs a project name in CII, written as ``Project reference``; a discount
(BT-147) needs a gross price, which is BT-146 + BT-147 when the model has no BT-148; BT-6 equal
to BT-5 without a BT-111 is left out (CII's BR-53 forbids it; UBL allows it).

The model keeps an attachment's filename and MIME code but not its content: BG-24 attachments
are written empty. What CII D16B cannot hold raises ``NotRepresentable`` rather than being
dropped: more than one preceding invoice (BG-3 is 0..1 in D16B), and BT-7 / BT-8 without a
VAT breakdown to carry them.

Imports: lxml, the canonical model.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cache
from typing import Any

from lxml import etree

from procure.einvoice.model import (
    Address,
    AllowanceCharge,
    Identifier,
    Invoice,
    InvoiceLine,
    Party,
    Period,
)

__all__ = ["EN16931_GUIDELINE", "NotRepresentable", "render_cii"]

NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
NS_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NS_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
PROJECT_NAME = "Project reference"
"""``SpecifiedProcuringProject/Name`` is mandatory in CII; EN 16931 has only the id (BT-11)."""
BT8_FROM_UBL = {"3": "5", "35": "29", "432": "72"}
"""BT-8 is UNTDID 2005 in UBL and UNTDID 2475 in CII; the model keeps the code as written."""

Element = Any
"""An lxml element (lxml ships no type information)."""
Value = str | Decimal | Identifier | None

_sub = etree.SubElement
_NAMESPACES = {"rsm": NS_RSM, "ram": NS_RAM, "udt": NS_UDT, "qdt": NS_QDT}
_DATE_TIME = "udt:DateTimeString"
_SUBJECT_NOTE = re.compile(r"#([^#\s]+)#(.*)", re.DOTALL)
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


class NotRepresentable(ValueError):
    """The invoice holds something CII D16B has no place for; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@cache
def _tags(path: str) -> tuple[str, ...]:
    """``"ChargeIndicator/udt:Indicator"`` → Clark tags; a step without a prefix is ram."""
    steps = (s.split(":") if ":" in s else ("ram", s) for s in path.split("/"))
    return tuple(f"{{{_NAMESPACES[prefix]}}}{name}" for prefix, name in steps)


def _agg(parent: Element, path: str) -> Element:
    for tag in _tags(path):
        parent = _sub(parent, tag)
    return parent


def _put(parent: Element, path: str, value: Value, **attrs: str | None) -> None:
    """Write ``value`` at ``path`` below ``parent`` (nothing when it is ``None``): text as is,
    a Decimal exactly as held, an Identifier with its schemeID."""
    if value is None:
        return
    if isinstance(value, str):  # the common cases first: this runs ~20 times per line
        text = value
    elif isinstance(value, Identifier):
        attrs.setdefault("schemeID", value.scheme)
        text = value.value
    else:
        text = format(value, "f")  # str(value) for every value a document holds
    el = _agg(parent, path)
    el.text = text
    for name, attr in attrs.items():
        if attr is not None:
            el.set(name, attr)


def _date(parent: Element, path: str, value: dt.date | None, inner: str = _DATE_TIME) -> None:
    if value is not None:
        ymd = f"{value.year:04d}{value.month:02d}{value.day:02d}"
        _put(parent, f"{path}/{inner}", ymd, format="102")


def _referenced(parent: Element, kind: str, value: str | None) -> None:
    """BT-12 / BT-13 / BT-14 / BT-15 / BT-16: ``{kind}ReferencedDocument/IssuerAssignedID``."""
    _put(parent, f"{kind}ReferencedDocument/IssuerAssignedID", value)


def _ids(parent: Element, idents: tuple[Identifier | None, ...]) -> None:
    """BT-29 / BT-46 / BT-60 / BT-71: ``ram:ID`` without a scheme, ``ram:GlobalID`` with one."""
    for i in idents:
        if i is not None and i.scheme is None:
            _put(parent, "ID", i.value)
    for i in idents:
        if i is not None and i.scheme is not None:
            _put(parent, "GlobalID", i)


def _vat(parent: Element, path: str, category: str | None, rate: Decimal | None) -> None:
    el = _agg(parent, path)
    _put(el, "TypeCode", "VAT")
    _put(el, "CategoryCode", category)
    _put(el, "RateApplicablePercent", rate)


def render_cii(doc: Invoice) -> bytes:
    """The CII D16B ``rsm:CrossIndustryInvoice`` for ``doc``; raises ``NotRepresentable``."""
    _check(doc)
    root = etree.Element(f"{{{NS_RSM}}}CrossIndustryInvoice", nsmap=_NAMESPACES)
    context = _agg(root, "rsm:ExchangedDocumentContext")
    _put(context, "BusinessProcessSpecifiedDocumentContextParameter/ID", doc.profile_id)
    guideline = doc.customization_id or EN16931_GUIDELINE
    _put(context, "GuidelineSpecifiedDocumentContextParameter/ID", guideline)
    exchanged = _agg(root, "rsm:ExchangedDocument")
    _put(exchanged, "ID", doc.number or "")
    _put(exchanged, "TypeCode", doc.type_code)
    _date(exchanged, "IssueDateTime", doc.issue_date)
    for note in doc.notes:
        included = _agg(exchanged, "IncludedNote")
        subject = _SUBJECT_NOTE.fullmatch(note)
        if subject and (not subject[2] or subject[2] != subject[2].strip()):
            subject = None  # "#AAI#" alone, or padded text, would not read back the same
        _put(included, "Content", subject[2] if subject else note)
        _put(included, "SubjectCode", subject[1] if subject else None)
    transaction = _agg(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        _line(_agg(transaction, "IncludedSupplyChainTradeLineItem"), line)
    _agreement(_agg(transaction, "ApplicableHeaderTradeAgreement"), doc)
    delivery = _agg(transaction, "ApplicableHeaderTradeDelivery")
    d = doc.delivery
    if d is not None:
        if (d.name, d.location_id, d.address) != (None, None, None) or d.date is None:
            ship_to = _agg(delivery, "ShipToTradeParty")
            _ids(ship_to, (d.location_id,))
            _put(ship_to, "Name", d.name)
            _address(ship_to, d.address)
        _date(delivery, "ActualDeliverySupplyChainEvent/OccurrenceDateTime", d.date)
    _referenced(delivery, "DespatchAdvice", doc.despatch_advice_reference)
    _referenced(delivery, "ReceivingAdvice", doc.receiving_advice_reference)
    _settlement(_agg(transaction, "ApplicableHeaderTradeSettlement"), doc)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _check(doc: Invoice) -> None:
    if len(doc.preceding_invoices) > 1:
        raise NotRepresentable(
            "preceding_invoices",
            f"the invoice refers to {len(doc.preceding_invoices)} preceding invoices (BG-3); "
            "CII D16B holds one: send it as UBL",
        )
    bt8 = doc.tax_point_date_code or (doc.period.description_code if doc.period else None)
    if (doc.tax_point_date is not None or bt8 is not None) and not doc.vat_breakdown:
        raise NotRepresentable(
            "tax_point_without_breakdown",
            "CII carries the VAT point date (BT-7) and its code (BT-8) in the VAT breakdown "
            "(BG-23), and the invoice has none",
        )


# -- header: agreement -------------------------------------------------------------------------


def _agreement(el: Element, doc: Invoice) -> None:
    _put(el, "BuyerReference", doc.buyer_reference)
    _party(_agg(el, "SellerTradeParty"), doc.seller)
    _party(_agg(el, "BuyerTradeParty"), doc.buyer)
    rep = doc.tax_representative
    if rep is not None:
        party = _agg(el, "SellerTaxRepresentativeTradeParty")
        _put(party, "Name", rep.name)
        _address(party, rep.address)
        _put(party, "SpecifiedTaxRegistration/ID", rep.vat_id, schemeID="VA")
    _referenced(el, "SellerOrder", doc.sales_order_reference)
    _referenced(el, "BuyerOrder", doc.order_reference)
    _referenced(el, "Contract", doc.contract_reference)
    for ref in doc.supporting_documents:
        add = _agg(el, "AdditionalReferencedDocument")
        _put(add, "IssuerAssignedID", ref.id)
        _put(add, "TypeCode", "916")
        _put(add, "Name", ref.description)
        if ref.mime_code is not None or ref.filename is not None:
            # the model keeps an attachment's name and type, never its content
            binary = {"mimeCode": ref.mime_code, "filename": ref.filename}
            _put(add, "AttachmentBinaryObject", "", **binary)
    if doc.tender_reference is not None:
        _referenced_document(el, Identifier(value=doc.tender_reference), "50")
    _referenced_document(el, doc.invoiced_object, "130")
    if doc.project_reference is not None:
        project = _agg(el, "SpecifiedProcuringProject")
        _put(project, "ID", doc.project_reference)
        _put(project, "Name", PROJECT_NAME)


def _referenced_document(parent: Element, ident: Identifier | None, type_code: str) -> None:
    """BT-17 (type 50), BT-18 / BT-128 (type 130, scheme as ReferenceTypeCode)."""
    if ident is not None:
        add = _agg(parent, "AdditionalReferencedDocument")
        _put(add, "IssuerAssignedID", ident.value)
        _put(add, "TypeCode", type_code)
        _put(add, "ReferenceTypeCode", ident.scheme)


def _party(el: Element, p: Party) -> None:
    """BG-4 / BG-7 as a TradeParty."""
    _ids(el, p.identifiers)
    _put(el, "Name", p.name)
    _put(el, "Description", p.legal_info)
    if p.legal_id is not None or p.trading_name is not None:
        legal = _agg(el, "SpecifiedLegalOrganization")
        _put(legal, "ID", p.legal_id)
        _put(legal, "TradingBusinessName", p.trading_name)
    if p.contact is not None:
        contact = _agg(el, "DefinedTradeContact")
        _put(contact, "PersonName", p.contact.name)
        _put(contact, "TelephoneUniversalCommunication/CompleteNumber", p.contact.phone)
        _put(contact, "EmailURIUniversalCommunication/URIID", p.contact.email)
    _address(el, p.address)
    _put(el, "URIUniversalCommunication/URIID", p.endpoint_id)
    _put(el, "SpecifiedTaxRegistration/ID", p.vat_id, schemeID="VA")
    _put(el, "SpecifiedTaxRegistration/ID", p.tax_registration_id, schemeID="FC")


def _address(parent: Element, a: Address | None) -> None:
    if a is None:
        return
    el = _agg(parent, "PostalTradeAddress")
    _put(el, "PostcodeCode", a.postcode)
    _put(el, "LineOne", a.line1)
    _put(el, "LineTwo", a.line2)
    _put(el, "LineThree", a.line3)
    _put(el, "CityName", a.city)
    _put(el, "CountryID", a.country)
    _put(el, "CountrySubDivisionName", a.subdivision)


# -- header: settlement ------------------------------------------------------------------------


def _settlement(el: Element, doc: Invoice) -> None:
    p = doc.payment
    if p is not None:
        _put(el, "CreditorReferenceID", p.creditor_id)
        _put(el, "PaymentReference", p.remittance_info)
    same = doc.tax_currency == doc.currency and doc.totals.tax_in_tax_currency is None
    _put(el, "TaxCurrencyCode", None if same else doc.tax_currency)  # BR-53: BT-6 != BT-5
    _put(el, "InvoiceCurrencyCode", doc.currency)
    if doc.payee is not None:
        payee = _agg(el, "PayeeTradeParty")
        _ids(payee, (doc.payee.identifier,))
        _put(payee, "Name", doc.payee.name)
        _put(payee, "SpecifiedLegalOrganization/ID", doc.payee.legal_id)
    means_terms = (p.means_code, p.means_text, p.card_number, p.debited_account) if p else ()
    if p is not None and (p.accounts or any(v is not None for v in means_terms)):
        for i, account in enumerate(p.accounts or (None,)):
            means = _agg(el, "SpecifiedTradeSettlementPaymentMeans")
            _put(means, "TypeCode", p.means_code)
            if i == 0:
                _put(means, "Information", p.means_text)
                _put(means, "ApplicableTradeSettlementFinancialCard/ID", p.card_number)
                _put(means, "PayerPartyDebtorFinancialAccount/IBANID", p.debited_account)
            if account is not None:
                creditor = _agg(means, "PayeePartyCreditorFinancialAccount")
                iban = _IBAN.fullmatch(account.account_id.replace(" ", "")) is not None
                _put(creditor, "IBANID", account.account_id if iban else None)
                _put(creditor, "AccountName", account.name)
                _put(creditor, "ProprietaryID", None if iban else account.account_id)
                bank = "PayeeSpecifiedCreditorFinancialInstitution/BICID"
                _put(means, bank, account.service_provider)
    bt8 = doc.tax_point_date_code or (doc.period.description_code if doc.period else None)
    if doc.syntax != "cii" and bt8 is not None:
        bt8 = BT8_FROM_UBL.get(bt8, bt8)
    for i, v in enumerate(doc.vat_breakdown):
        tax = _agg(el, "ApplicableTradeTax")
        _put(tax, "CalculatedAmount", v.tax_amount)
        _put(tax, "TypeCode", "VAT")
        _put(tax, "ExemptionReason", v.exemption_reason)
        _put(tax, "BasisAmount", v.taxable_amount)
        _put(tax, "CategoryCode", v.category)
        _put(tax, "ExemptionReasonCode", v.exemption_code)
        if i == 0:  # CII-SR-461 / CII-SR-462: once
            _date(tax, "TaxPointDate", doc.tax_point_date, "udt:DateString")
            _put(tax, "DueDateTypeCode", bt8)
        _put(tax, "RateApplicablePercent", v.rate)
    if doc.period is not None and (doc.period.start or doc.period.end):
        _period(el, doc.period)
    for ac in (*doc.allowances, *doc.charges):
        _allowance_charge(el, ac, document_level=True)
    mandate = p.mandate_id if p else None
    if doc.payment_terms is not None or doc.due_date is not None or mandate is not None:
        terms = _agg(el, "SpecifiedTradePaymentTerms")
        _put(terms, "Description", doc.payment_terms)
        _date(terms, "DueDateDateTime", doc.due_date)
        _put(terms, "DirectDebitMandateID", mandate)
    t, cur = doc.totals, doc.currency or ""
    total = _agg(el, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _put(total, "LineTotalAmount", t.line_net)
    _put(total, "ChargeTotalAmount", t.charges)
    _put(total, "AllowanceTotalAmount", t.allowances)
    _put(total, "TaxBasisTotalAmount", t.tax_exclusive)
    _put(total, "TaxTotalAmount", t.tax, currencyID=cur)
    _put(total, "TaxTotalAmount", t.tax_in_tax_currency, currencyID=doc.tax_currency or cur)
    _put(total, "RoundingAmount", t.rounding)
    _put(total, "GrandTotalAmount", t.tax_inclusive)
    _put(total, "TotalPrepaidAmount", t.prepaid)
    _put(total, "DuePayableAmount", t.payable)
    for ref in doc.preceding_invoices:
        invoice_ref = _agg(el, "InvoiceReferencedDocument")
        _put(invoice_ref, "IssuerAssignedID", ref.id)
        _date(invoice_ref, "FormattedIssueDateTime", ref.issue_date, "qdt:DateTimeString")
    _put(el, "ReceivableSpecifiedTradeAccountingAccount/ID", doc.accounting_reference)


def _period(parent: Element, period: Period) -> None:
    el = _agg(parent, "BillingSpecifiedPeriod")
    _date(el, "StartDateTime", period.start)
    _date(el, "EndDateTime", period.end)


def _allowance_charge(parent: Element, ac: AllowanceCharge, *, document_level: bool) -> None:
    el = _agg(parent, "SpecifiedTradeAllowanceCharge")
    _put(el, "ChargeIndicator/udt:Indicator", "true" if ac.is_charge else "false")
    _put(el, "CalculationPercent", ac.percent)
    _put(el, "BasisAmount", ac.base_amount)
    _put(el, "ActualAmount", ac.amount)
    _put(el, "ReasonCode", ac.reason_code)
    _put(el, "Reason", ac.reason)
    if document_level and (ac.vat_category is not None or ac.vat_rate is not None):
        _vat(el, "CategoryTradeTax", ac.vat_category, ac.vat_rate)


# -- lines -------------------------------------------------------------------------------------


def _line(el: Element, line: InvoiceLine) -> None:
    """BG-25 as an IncludedSupplyChainTradeLineItem."""
    line_doc = _agg(el, "AssociatedDocumentLineDocument")
    _put(line_doc, "LineID", line.id)
    _put(line_doc, "IncludedNote/Content", line.note)
    product = _agg(el, "SpecifiedTradeProduct")
    _put(product, "GlobalID", line.standard_item_id)
    _put(product, "SellerAssignedID", line.seller_item_id)
    _put(product, "BuyerAssignedID", line.buyer_item_id)
    _put(product, "Name", line.item_name)
    _put(product, "Description", line.item_description)
    for a in line.attributes:
        characteristic = _agg(product, "ApplicableProductCharacteristic")
        _put(characteristic, "Description", a.name)
        _put(characteristic, "Value", a.value)
    for c in line.classifications:
        _put(product, "DesignatedProductClassification/ClassCode", c.value, listID=c.scheme)
    _put(product, "OriginTradeCountry/ID", line.origin_country)
    agreement = _agg(el, "SpecifiedLineTradeAgreement")
    _put(agreement, "BuyerOrderReferencedDocument/LineID", line.order_line_reference)
    gross_price, net_price = line.gross_price, line.unit_price
    if gross_price is None and line.price_discount is not None and net_price is not None:
        gross_price = net_price + line.price_discount  # BT-146 = BT-148 - BT-147
    if gross_price is not None or line.price_discount is not None:
        gross = _agg(agreement, "GrossPriceProductTradePrice")
        _put(gross, "ChargeAmount", gross_price)
        if net_price is None:
            _put(gross, "BasisQuantity", line.price_base_quantity, unitCode=line.price_base_unit)
        if line.price_discount is not None:
            discount = _agg(gross, "AppliedTradeAllowanceCharge")
            _put(discount, "ChargeIndicator/udt:Indicator", "false")
            _put(discount, "ActualAmount", line.price_discount)
    if net_price is not None:
        net = _agg(agreement, "NetPriceProductTradePrice")
        _put(net, "ChargeAmount", net_price)
        _put(net, "BasisQuantity", line.price_base_quantity, unitCode=line.price_base_unit)
    delivery = _agg(el, "SpecifiedLineTradeDelivery")
    _put(delivery, "BilledQuantity", line.quantity, unitCode=line.unit_code)
    settlement = _agg(el, "SpecifiedLineTradeSettlement")
    if line.vat_category is not None or line.vat_rate is not None:
        _vat(settlement, "ApplicableTradeTax", line.vat_category, line.vat_rate)
    if line.period is not None:
        _period(settlement, line.period)
    for ac in (*line.allowances, *line.charges):
        _allowance_charge(settlement, ac, document_level=False)
    summation = _agg(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
    _put(summation, "LineTotalAmount", line.net_amount)
    _referenced_document(settlement, line.object_id, "130")
    _put(settlement, "ReceivableSpecifiedTradeAccountingAccount/ID", line.accounting_reference)
