"""Canonical ``Invoice`` → UBL 2.1 Invoice or CreditNote in Peppol BIS Billing 3.0 shape.

``render_ubl(doc)`` writes every business term the model holds, in the element order of the
UBL 2.1 XSD, following the EN 16931 UBL binding as ``ubl.parse_ubl`` reads it, so that
``parse_ubl(parse_xml(render_ubl(doc)))`` gives ``doc`` back. Amounts carry ``currencyID``
(BT-5, or BT-6 for BT-111), quantities their ``unitCode``, and decimals are written exactly
as the model holds them (``Decimal("100.00")`` → ``100.00``). All text goes through lxml, which
escapes it.

Choices where the binding leaves room: BT-24 / BT-23 default to Peppol BIS 3; in a CreditNote,
BT-9 is ``PaymentMeans/PaymentDueDate`` and BT-11 an ``AdditionalDocumentReference`` with
DocumentTypeCode 50 (a UBL 2.1 CreditNote has no DueDate or ProjectReference); BT-8 comes from
``period.description_code``, else ``tax_point_date_code``, a CII code (UNTDID 2475) turned into
its UBL one (UNTDID 2005); BT-32 is a ``PartyTaxScheme`` with TaxScheme ``TAX``; BT-90 is a
``PartyIdentification`` with schemeID ``SEPA`` on the payee (else the seller); each BG-17
account gets its own ``PaymentMeans``, BT-82 only the first (UBL-SR-46). The model keeps an
attachment's filename and MIME code but not its content, so BG-24 attachments are written empty
(Peppol's R008 refuses empty elements: the content must come from where it is stored).

Where the XSD requires what the model lacks: identifiers and codes are written empty (read back
as absent); ``CardAccount/NetworkID`` (not in EN 16931) is ``NA``; a missing BT-110 beside a VAT
breakdown is its sum (BR-CO-14); a gross price (BT-148) without a discount (BT-147) gets a
discount of 0. Other missing amounts are left out: no XSD validity by invention.

Imports: lxml, the canonical model.
"""

from __future__ import annotations

import datetime as dt
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
    Payment,
    Period,
)

__all__ = ["PEPPOL_CUSTOMIZATION_ID", "PEPPOL_PROFILE_ID", "render_ubl"]

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
PEPPOL_CUSTOMIZATION_ID = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
)
PEPPOL_PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
BT8_FROM_CII = {"5": "3", "29": "35", "72": "432"}
"""BT-8 is UNTDID 2475 in CII and UNTDID 2005 in UBL; the model keeps the code as written."""
CARD_NETWORK_UNSTATED = "NA"
OTHER_TAX_SCHEME = "TAX"
"""TaxScheme of the seller's tax registration identifier (BT-32): anything but ``VAT``."""

Element = Any
"""An lxml element (lxml ships no type information)."""
Value = str | Decimal | dt.date | Identifier | None

_sub = etree.SubElement


@cache
def _tags(path: str) -> tuple[tuple[str, ...], str]:
    """``"PartyName/Name"`` → (``cac:PartyName``,), ``cbc:Name`` as Clark tags: in UBL every
    step but the last is an aggregate (cac), the last a basic component (cbc)."""
    *aggregates, leaf = path.split("/")
    return tuple(f"{{{NS_CAC}}}{a}" for a in aggregates), f"{{{NS_CBC}}}{leaf}"


def _agg(parent: Element, name: str) -> Element:
    return _sub(parent, f"{{{NS_CAC}}}{name}")


def _put(parent: Element, path: str, value: Value, **attrs: str | None) -> None:
    """Write ``value`` at ``path`` below ``parent`` (nothing when it is ``None``): text as is,
    a Decimal exactly as held, a date as YYYY-MM-DD, an Identifier with its schemeID."""
    if value is None:
        return
    aggregates, leaf = _tags(path)
    for tag in aggregates:
        parent = _sub(parent, tag)
    if isinstance(value, str):  # the common cases first: this runs ~20 times per line
        text = value
    elif value.__class__ is Decimal:
        text = format(value, "f")  # str(value) for every value a document holds
    elif isinstance(value, Identifier):
        attrs.setdefault("schemeID", value.scheme)
        text = value.value
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    el = _sub(parent, leaf)
    el.text = text
    for name, attr in attrs.items():
        if attr is not None:
            el.set(name, attr)


def _tax_category(parent: Element, name: str, category: str | None, rate: Decimal | None) -> None:
    el = _agg(parent, name)
    _put(el, "ID", category)
    _put(el, "Percent", rate)
    _put(el, "TaxScheme/ID", "VAT")


def render_ubl(doc: Invoice) -> bytes:
    """The UBL 2.1 Invoice (or CreditNote, for ``kind == "credit_note"``) for ``doc``."""
    credit = doc.kind == "credit_note"
    ns = NS_CREDIT_NOTE if credit else NS_INVOICE
    namespaces: dict[str | None, str] = {None: ns, "cac": NS_CAC, "cbc": NS_CBC}
    tag = f"{{{ns}}}{'CreditNote' if credit else 'Invoice'}"
    root = etree.Element(tag, nsmap=namespaces)  # type: ignore[arg-type]  # stubs lack None
    cur = doc.currency or ""
    _header(root, doc, credit)
    _parties(root, doc)
    _payment(root, doc, credit)
    for ac in (*doc.allowances, *doc.charges):
        _allowance_charge(root, ac, cur, document_level=True)
    _tax_totals(root, doc, cur)
    t = doc.totals
    total = _agg(root, "LegalMonetaryTotal")
    for path, amount in (
        ("LineExtensionAmount", t.line_net),
        ("TaxExclusiveAmount", t.tax_exclusive),
        ("TaxInclusiveAmount", t.tax_inclusive),
        ("AllowanceTotalAmount", t.allowances),
        ("ChargeTotalAmount", t.charges),
        ("PrepaidAmount", t.prepaid),
        ("PayableRoundingAmount", t.rounding),
        ("PayableAmount", t.payable),
    ):
        _put(total, path, amount, currencyID=cur)
    line_tag = "CreditNoteLine" if credit else "InvoiceLine"
    quantity = "CreditedQuantity" if credit else "InvoicedQuantity"
    for line in doc.lines:
        _line(_agg(root, line_tag), line, quantity, cur)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- header ------------------------------------------------------------------------------------


def _header(root: Element, doc: Invoice, credit: bool) -> None:
    _put(root, "CustomizationID", doc.customization_id or PEPPOL_CUSTOMIZATION_ID)
    _put(root, "ProfileID", doc.profile_id or PEPPOL_PROFILE_ID)
    _put(root, "ID", doc.number or "")
    _put(root, "IssueDate", doc.issue_date or "")
    if credit:  # the two document types order these four differently
        _put(root, "TaxPointDate", doc.tax_point_date)
        _put(root, "CreditNoteTypeCode", doc.type_code)
    else:
        _put(root, "DueDate", doc.due_date)
        _put(root, "InvoiceTypeCode", doc.type_code)
    for note in doc.notes:
        _put(root, "Note", note)
    if not credit:
        _put(root, "TaxPointDate", doc.tax_point_date)
    _put(root, "DocumentCurrencyCode", doc.currency)
    _put(root, "TaxCurrencyCode", doc.tax_currency)
    _put(root, "AccountingCost", doc.accounting_reference)
    _put(root, "BuyerReference", doc.buyer_reference)
    bt8 = (doc.period.description_code if doc.period else None) or doc.tax_point_date_code
    if doc.syntax == "cii" and bt8 is not None:
        bt8 = BT8_FROM_CII.get(bt8, bt8)
    if doc.period is not None or bt8 is not None:
        _period(root, doc.period or Period(), bt8)
    if doc.order_reference is not None or doc.sales_order_reference is not None:
        order = _agg(root, "OrderReference")
        _put(order, "ID", doc.order_reference or "")
        _put(order, "SalesOrderID", doc.sales_order_reference)
    for ref in doc.preceding_invoices:
        billed = _agg(_agg(root, "BillingReference"), "InvoiceDocumentReference")
        _put(billed, "ID", ref.id)
        _put(billed, "IssueDate", ref.issue_date)
    _put(root, "DespatchDocumentReference/ID", doc.despatch_advice_reference)
    _put(root, "ReceiptDocumentReference/ID", doc.receiving_advice_reference)
    if not credit:
        _put(root, "OriginatorDocumentReference/ID", doc.tender_reference)
    _put(root, "ContractDocumentReference/ID", doc.contract_reference)
    if doc.invoiced_object is not None:  # BT-18, then BT-11 in a credit note, then BG-24
        _document_reference(root, doc.invoiced_object, "130")
    if credit and doc.project_reference is not None:
        _document_reference(root, Identifier(value=doc.project_reference), "50")
    for ref in doc.supporting_documents:
        el = _agg(root, "AdditionalDocumentReference")
        _put(el, "ID", ref.id)
        _put(el, "DocumentDescription", ref.description)
        if ref.mime_code is not None or ref.filename is not None:
            # the model keeps an attachment's name and type, never its content
            binary = {"mimeCode": ref.mime_code or "", "filename": ref.filename}
            _put(el, "Attachment/EmbeddedDocumentBinaryObject", "", **binary)
    if credit:
        _put(root, "OriginatorDocumentReference/ID", doc.tender_reference)
    else:
        _put(root, "ProjectReference/ID", doc.project_reference)


def _document_reference(parent: Element, ident: Identifier, type_code: str) -> None:
    el = _agg(parent, "AdditionalDocumentReference")
    _put(el, "ID", ident)
    _put(el, "DocumentTypeCode", type_code)


def _period(parent: Element, period: Period, description_code: str | None = None) -> None:
    el = _agg(parent, "InvoicePeriod")
    _put(el, "StartDate", period.start)
    _put(el, "EndDate", period.end)
    _put(el, "DescriptionCode", description_code)


# -- parties -----------------------------------------------------------------------------------


def _parties(root: Element, doc: Invoice) -> None:
    creditor = doc.payment.creditor_id if doc.payment else None
    seller_creditor = creditor if doc.payee is None else None
    _party(_agg(_agg(root, "AccountingSupplierParty"), "Party"), doc.seller, seller_creditor)
    _party(_agg(_agg(root, "AccountingCustomerParty"), "Party"), doc.buyer, None)
    if doc.payee is not None:
        el = _agg(root, "PayeeParty")
        _put(el, "PartyIdentification/ID", doc.payee.identifier)
        _put(el, "PartyIdentification/ID", creditor, schemeID="SEPA")
        _put(el, "PartyName/Name", doc.payee.name)
        _put(el, "PartyLegalEntity/CompanyID", doc.payee.legal_id)
    rep = doc.tax_representative
    if rep is not None:
        el = _agg(root, "TaxRepresentativeParty")
        _put(el, "PartyName/Name", rep.name)
        _address(el, "PostalAddress", rep.address)
        _tax_scheme(el, rep.vat_id, "VAT")
    d = doc.delivery
    if d is not None:
        el = _agg(root, "Delivery")
        _put(el, "ActualDeliveryDate", d.date)
        if d.location_id is not None or d.address is not None:
            location = _agg(el, "DeliveryLocation")
            _put(location, "ID", d.location_id)
            _address(location, "Address", d.address)
        _put(el, "DeliveryParty/PartyName/Name", d.name)


def _party(el: Element, p: Party, creditor: str | None) -> None:
    """BG-4 / BG-7 as a cac:Party."""
    _put(el, "EndpointID", p.endpoint_id)
    for ident in p.identifiers:
        _put(el, "PartyIdentification/ID", ident)
    _put(el, "PartyIdentification/ID", creditor, schemeID="SEPA")
    _put(el, "PartyName/Name", p.trading_name)
    _address(el, "PostalAddress", p.address)
    _tax_scheme(el, p.vat_id, "VAT")
    _tax_scheme(el, p.tax_registration_id, OTHER_TAX_SCHEME)
    if p.name is not None or p.legal_id is not None or p.legal_info is not None:
        legal = _agg(el, "PartyLegalEntity")
        _put(legal, "RegistrationName", p.name)
        _put(legal, "CompanyID", p.legal_id)
        _put(legal, "CompanyLegalForm", p.legal_info)
    if p.contact is not None:
        contact = _agg(el, "Contact")
        _put(contact, "Name", p.contact.name)
        _put(contact, "Telephone", p.contact.phone)
        _put(contact, "ElectronicMail", p.contact.email)


def _tax_scheme(parent: Element, company_id: str | None, scheme: str) -> None:
    if company_id is not None:
        el = _agg(parent, "PartyTaxScheme")
        _put(el, "CompanyID", company_id)
        _put(el, "TaxScheme/ID", scheme)


def _address(parent: Element, name: str, a: Address | None) -> None:
    if a is None:
        return
    el = _agg(parent, name)
    _put(el, "StreetName", a.line1)
    _put(el, "AdditionalStreetName", a.line2)
    _put(el, "CityName", a.city)
    _put(el, "PostalZone", a.postcode)
    _put(el, "CountrySubentity", a.subdivision)
    _put(el, "AddressLine/Line", a.line3)
    _put(el, "Country/IdentificationCode", a.country)


# -- payment, allowances, VAT ------------------------------------------------------------------


def _payment(root: Element, doc: Invoice, credit: bool) -> None:
    """BG-16..BG-19: one PaymentMeans per BG-17 account; card, mandate, BT-83 in the first."""
    p = doc.payment or Payment()
    due_date = doc.due_date if credit else None
    means_terms = (p.means_code, p.means_text, p.remittance_info, p.card_number, p.mandate_id)
    if p.accounts or p.debited_account or due_date or any(v is not None for v in means_terms):
        for i, account in enumerate(p.accounts or (None,)):
            means = _agg(root, "PaymentMeans")
            name = p.means_text if i == 0 else None  # UBL-SR-46: BT-82 once
            _put(means, "PaymentMeansCode", p.means_code or "", name=name)
            if i == 0:
                _put(means, "PaymentDueDate", due_date)
                _put(means, "PaymentID", p.remittance_info)
                if p.card_number is not None:
                    card = _agg(means, "CardAccount")
                    _put(card, "PrimaryAccountNumberID", p.card_number)
                    _put(card, "NetworkID", CARD_NETWORK_UNSTATED)  # mandatory, not in EN 16931
            if account is not None:
                payee_account = _agg(means, "PayeeFinancialAccount")
                _put(payee_account, "ID", account.account_id)
                _put(payee_account, "Name", account.name)
                _put(payee_account, "FinancialInstitutionBranch/ID", account.service_provider)
            if i == 0 and (p.mandate_id is not None or p.debited_account is not None):
                mandate = _agg(means, "PaymentMandate")
                _put(mandate, "ID", p.mandate_id)
                _put(mandate, "PayerFinancialAccount/ID", p.debited_account)
    _put(root, "PaymentTerms/Note", doc.payment_terms)


def _allowance_charge(
    parent: Element, ac: AllowanceCharge, cur: str, *, document_level: bool
) -> None:
    el = _agg(parent, "AllowanceCharge")
    _put(el, "ChargeIndicator", "true" if ac.is_charge else "false")
    _put(el, "AllowanceChargeReasonCode", ac.reason_code)
    _put(el, "AllowanceChargeReason", ac.reason)
    _put(el, "MultiplierFactorNumeric", ac.percent)
    _put(el, "Amount", ac.amount, currencyID=cur)
    _put(el, "BaseAmount", ac.base_amount, currencyID=cur)
    if document_level and (ac.vat_category is not None or ac.vat_rate is not None):
        _tax_category(el, "TaxCategory", ac.vat_category, ac.vat_rate)


def _tax_totals(root: Element, doc: Invoice, cur: str) -> None:
    """BT-110 with the BG-23 breakdown; BT-111 in a second TaxTotal in the BT-6 currency."""
    tax = doc.totals.tax
    amounts = [v.tax_amount for v in doc.vat_breakdown if v.tax_amount is not None]
    if tax is None and amounts and len(amounts) == len(doc.vat_breakdown):
        tax = sum(amounts, Decimal(0))  # UBL needs BT-110 for a breakdown: BR-CO-14 gives it
    if tax is not None or doc.vat_breakdown:
        total = _agg(root, "TaxTotal")
        _put(total, "TaxAmount", tax, currencyID=cur)
        for v in doc.vat_breakdown:
            sub = _agg(total, "TaxSubtotal")
            _put(sub, "TaxableAmount", v.taxable_amount, currencyID=cur)
            _put(sub, "TaxAmount", v.tax_amount, currencyID=cur)
            category = _agg(sub, "TaxCategory")
            _put(category, "ID", v.category)
            _put(category, "Percent", v.rate)
            _put(category, "TaxExemptionReasonCode", v.exemption_code)
            _put(category, "TaxExemptionReason", v.exemption_reason)
            _put(category, "TaxScheme/ID", "VAT")
    if doc.totals.tax_in_tax_currency is not None:
        tax_currency = doc.tax_currency or cur
        in_tax_currency = _agg(root, "TaxTotal")
        _put(in_tax_currency, "TaxAmount", doc.totals.tax_in_tax_currency, currencyID=tax_currency)


# -- lines -------------------------------------------------------------------------------------


def _line(el: Element, line: InvoiceLine, quantity: str, cur: str) -> None:
    """BG-25 as a cac:InvoiceLine / cac:CreditNoteLine."""
    _put(el, "ID", line.id or "")
    _put(el, "Note", line.note)
    _put(el, quantity, line.quantity, unitCode=line.unit_code)
    _put(el, "LineExtensionAmount", line.net_amount, currencyID=cur)
    _put(el, "AccountingCost", line.accounting_reference)
    if line.period is not None:
        _period(el, line.period)
    _put(el, "OrderLineReference/LineID", line.order_line_reference)
    if line.object_id is not None:
        ref = _agg(el, "DocumentReference")
        _put(ref, "ID", line.object_id)
        _put(ref, "DocumentTypeCode", "130")
    for ac in (*line.allowances, *line.charges):
        _allowance_charge(el, ac, cur, document_level=False)
    item = _agg(el, "Item")
    _put(item, "Description", line.item_description)
    _put(item, "Name", line.item_name)
    _put(item, "BuyersItemIdentification/ID", line.buyer_item_id)
    _put(item, "SellersItemIdentification/ID", line.seller_item_id)
    _put(item, "StandardItemIdentification/ID", line.standard_item_id)
    _put(item, "OriginCountry/IdentificationCode", line.origin_country)
    for c in line.classifications:
        _put(item, "CommodityClassification/ItemClassificationCode", c.value, listID=c.scheme)
    if line.vat_category is not None or line.vat_rate is not None:
        _tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_rate)
    for a in line.attributes:
        prop = _agg(item, "AdditionalItemProperty")
        _put(prop, "Name", a.name)
        _put(prop, "Value", a.value)
    if line.unit_price is None and line.price_discount is None and line.gross_price is None:
        return
    price = _agg(el, "Price")
    _put(price, "PriceAmount", line.unit_price, currencyID=cur)
    _put(price, "BaseQuantity", line.price_base_quantity, unitCode=line.price_base_unit)
    if line.price_discount is not None or line.gross_price is not None:
        discount = _agg(price, "AllowanceCharge")  # BT-147 and BT-148
        _put(discount, "ChargeIndicator", "false")
        amount = line.price_discount if line.price_discount is not None else Decimal(0)
        _put(discount, "Amount", amount, currencyID=cur)  # mandatory: a gross price alone is 0
        _put(discount, "BaseAmount", line.gross_price, currencyID=cur)
