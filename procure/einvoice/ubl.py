"""UBL 2.1 Invoice and CreditNote (Peppol BIS Billing 3.0, XRechnung UBL) → canonical ``Invoice``.

``parse_ubl(root)`` takes an element already loaded by ``xml_safety.parse_xml`` (or a UBL
document embedded in another one, such as a vefa test set) and maps every business term the
canonical model holds, following the EN 16931 UBL binding (the Peppol BIS 3 structure trees in
the conformance corpus). The tables below mirror that structure, one per aggregate; the few
terms that need more than "this element holds that BT" are settled in the ``_finish_*`` steps.

It is lenient: a fragment with three elements parses, and what is absent is ``None`` or ``()``.
Values that are present but unreadable become ``None`` plus a fatal ``PROCURE-PARSE-01``
finding, and their location goes into ``Invoice.unreadable`` so that the "shall have" rules,
which (like the Schematron) see text there, do not also call them missing; whether the
document is acceptable is for the rules, not the parser. An object identifier (BT-18, BT-128)
written empty but with a scheme is kept with an empty value, so BR-CL-07 can judge the scheme.

Choices where the binding leaves room: BT-110 is the TaxTotal/TaxAmount in the document
currency and BT-111 the one in the tax currency (without currencyIDs, the first TaxTotal is
BT-110); the VAT breakdown comes from every TaxTotal but the tax-currency one; an
AdditionalDocumentReference with DocumentTypeCode 130 is the invoiced object (BT-18) and, in a
credit note (which has no cac:ProjectReference), one with 50 the project reference (BT-11); a PartyIdentification with schemeID SEPA
is the creditor identifier (BT-90), not a party identifier; of several PaymentMeans the first
gives BT-81/82 and each the first remittance, card and mandate found, all their accounts;
dates may carry an xs:date time zone, which is dropped; an AllowanceCharge whose
ChargeIndicator is missing or unreadable is kept as an allowance, under a fatal finding.
Embedded attachments are never decoded or kept: only their filename and MIME code.

Imports: lxml (elements only), the canonical model, ``ubl_parts``, ``errors``.
"""

from __future__ import annotations

from lxml import etree

from procure.einvoice.errors import UnsupportedDocument
from procure.einvoice.model import Invoice
from procure.einvoice.ubl_parts import (
    ADDRESS,
    PARTY,
    PAYEE,
    TAX_REPRESENTATIVE,
    Out,
    Reader,
    Spec,
    attributes,
    both,
    cac,
    cbc,
    date,
    decimal,
    each,
    element,
    finish_buyer,
    finish_payee,
    finish_seller,
    finish_tax_representative,
    flat,
    ident,
    one,
    read,
    requires,
    text,
    texts,
    unreadable_locations,
)

__all__ = ["NS_CREDIT_NOTE", "NS_INVOICE", "parse_ubl"]

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_ROOTS = {f"{{{NS_INVOICE}}}Invoice": "invoice", f"{{{NS_CREDIT_NOTE}}}CreditNote": "credit_note"}


# -- finishing steps ----------------------------------------------------------------------------


def _charge_indicator(r: Reader, el: etree._Element, found: Out) -> None:
    """ChargeIndicator → is_charge. Without a readable one the entry is kept as an allowance
    so the rules still see its amounts and codes, under a fatal finding that says so."""
    indicator = found.pop("_indicator", None)
    if indicator is None:
        r.bad(
            el,
            "cac:AllowanceCharge has no cbc:ChargeIndicator, so it cannot be told whether it is "
            "an allowance (false) or a charge (true); it was read as an allowance",
        )
        is_charge = None
    else:
        is_charge = r.boolean(indicator, consequence="; the entry was read as an allowance")
    found["is_charge"] = bool(is_charge)


def _finish_line(r: Reader, el: etree._Element, found: Out) -> None:
    notes = found.pop("_notes", None)
    found["note"] = "\n".join(notes) if notes else None
    for ref in found.pop("_documents", ()):  # BT-128: the reference typed 130 (or untyped)
        number = ref.get("id")
        if number is None or (not number["value"] and ref.get("type_code") != "130"):
            continue  # an empty ID counts (for its scheme, BR-CL-07) only when typed 130
        if ref.get("type_code") in (None, "130"):
            found["object_id"] = number
            break
    entries = found.pop("_allowance_charges", ())
    found["allowances"] = [e for e in entries if not e["is_charge"]]
    found["charges"] = [e for e in entries if e["is_charge"]]
    for discount in found.pop("_price_allowances", ()):  # BT-147/148: an allowance only
        indicator = discount.pop("_indicator", None)
        if indicator is None or r.boolean(indicator) is not True:
            found.update(discount)
            break


# -- the UBL structure, one table per aggregate ---------------------------------------------------

DELIVERY: Spec = {
    cbc.ActualDeliveryDate: date("date"),
    cac.DeliveryLocation: flat(
        {cbc.ID: ident("location_id"), cac.Address: one("address", ADDRESS)}
    ),
    cac.DeliveryParty: flat({cac.PartyName: flat({cbc.Name: text("name")})}),
}
PAYMENT_MEANS: Spec = {
    cbc.PaymentMeansCode: both(text("means_code"), attributes(means_text="name")),
    cbc.PaymentDueDate: date("_due_date"),
    cbc.PaymentID: text("remittance_info"),
    cac.CardAccount: flat({cbc.PrimaryAccountNumberID: text("card_number")}),
    cac.PayeeFinancialAccount: each(
        "accounts",
        {
            cbc.ID: text("account_id"),
            cbc.Name: text("name"),
            cac.FinancialInstitutionBranch: flat({cbc.ID: text("service_provider")}),
        },
        requires("account_id"),
    ),
    cac.PaymentMandate: flat(
        {
            cbc.ID: text("mandate_id"),
            cac.PayerFinancialAccount: flat({cbc.ID: text("debited_account")}),
        }
    ),
}
LINE_ALLOWANCE_CHARGE: Spec = {
    cbc.ChargeIndicator: element("_indicator"),
    cbc.AllowanceChargeReasonCode: text("reason_code"),
    cbc.AllowanceChargeReason: text("reason"),
    cbc.MultiplierFactorNumeric: decimal("percent"),
    cbc.Amount: decimal("amount"),
    cbc.BaseAmount: decimal("base_amount"),
}
ALLOWANCE_CHARGE: Spec = {
    **LINE_ALLOWANCE_CHARGE,
    cac.TaxCategory: flat({cbc.ID: text("vat_category"), cbc.Percent: decimal("vat_rate")}),
}
TAX_TOTAL: Spec = {
    cbc.TaxAmount: decimal("amount", ("currencyID", "currency")),
    cac.TaxSubtotal: each(
        "subtotals",
        {
            cbc.TaxableAmount: decimal("taxable_amount"),
            cbc.TaxAmount: decimal("tax_amount"),
            cac.TaxCategory: flat(
                {
                    cbc.ID: text("category"),
                    cbc.Percent: decimal("rate"),
                    cbc.TaxExemptionReason: text("exemption_reason"),
                    cbc.TaxExemptionReasonCode: text("exemption_code"),
                }
            ),
        },
    ),
}
TOTALS: Spec = {
    cbc.LineExtensionAmount: decimal("line_net"),
    cbc.TaxExclusiveAmount: decimal("tax_exclusive"),
    cbc.TaxInclusiveAmount: decimal("tax_inclusive"),
    cbc.AllowanceTotalAmount: decimal("allowances"),
    cbc.ChargeTotalAmount: decimal("charges"),
    cbc.PrepaidAmount: decimal("prepaid"),
    cbc.PayableRoundingAmount: decimal("rounding"),
    cbc.PayableAmount: decimal("payable"),
}
ITEM: Spec = {
    cbc.Description: text("item_description"),
    cbc.Name: text("item_name"),
    cac.BuyersItemIdentification: flat({cbc.ID: text("buyer_item_id")}),
    cac.SellersItemIdentification: flat({cbc.ID: text("seller_item_id")}),
    cac.StandardItemIdentification: flat({cbc.ID: ident("standard_item_id")}),
    cac.OriginCountry: flat({cbc.IdentificationCode: text("origin_country")}),
    cac.CommodityClassification: flat(
        {cbc.ItemClassificationCode: ident("classifications", "listID", many=True)}
    ),
    cac.ClassifiedTaxCategory: flat(
        {cbc.ID: text("vat_category"), cbc.Percent: decimal("vat_rate")}
    ),
    cac.AdditionalItemProperty: each(
        "attributes", {cbc.Name: text("name"), cbc.Value: text("value")}, requires("name")
    ),
}
PRICE: Spec = {
    cbc.PriceAmount: decimal("unit_price"),
    cbc.BaseQuantity: decimal("price_base_quantity", ("unitCode", "price_base_unit")),
    cac.AllowanceCharge: each(
        "_price_allowances",
        {
            cbc.ChargeIndicator: element("_indicator"),
            cbc.Amount: decimal("price_discount"),
            cbc.BaseAmount: decimal("gross_price"),
        },
    ),
}
LINE: Spec = {
    cbc.ID: text("id"),
    cbc.Note: texts("_notes"),
    cbc.InvoicedQuantity: decimal("quantity", ("unitCode", "unit_code")),
    cbc.CreditedQuantity: decimal("quantity", ("unitCode", "unit_code")),
    cbc.LineExtensionAmount: decimal("net_amount"),
    cbc.AccountingCost: text("accounting_reference"),
    cac.InvoicePeriod: one("period", {cbc.StartDate: date("start"), cbc.EndDate: date("end")}),
    cac.OrderLineReference: flat({cbc.LineID: text("order_line_reference")}),
    cac.DocumentReference: each(
        "_documents",
        {cbc.ID: ident("id", keep_scheme=True), cbc.DocumentTypeCode: text("type_code")},
    ),
    cac.AllowanceCharge: each("_allowance_charges", LINE_ALLOWANCE_CHARGE, _charge_indicator),
    cac.Item: flat(ITEM),
    cac.Price: flat(PRICE),
}
DOCUMENT: Spec = {
    cbc.CustomizationID: text("customization_id"),
    cbc.ProfileID: text("profile_id"),
    cbc.ID: text("number"),
    cbc.IssueDate: date("issue_date"),
    cbc.DueDate: date("due_date"),
    cbc.InvoiceTypeCode: text("type_code"),
    cbc.CreditNoteTypeCode: text("type_code"),
    cbc.Note: texts("notes"),
    cbc.TaxPointDate: date("tax_point_date"),
    cbc.DocumentCurrencyCode: text("currency"),
    cbc.TaxCurrencyCode: text("tax_currency"),
    cbc.AccountingCost: text("accounting_reference"),
    cbc.BuyerReference: text("buyer_reference"),
    cac.InvoicePeriod: one(
        "period",
        {
            cbc.StartDate: date("start"),
            cbc.EndDate: date("end"),
            cbc.DescriptionCode: text("description_code"),
        },
    ),
    cac.OrderReference: flat(
        {cbc.ID: text("order_reference"), cbc.SalesOrderID: text("sales_order_reference")}
    ),
    cac.BillingReference: flat(
        {
            cac.InvoiceDocumentReference: each(
                "preceding_invoices",
                {cbc.ID: text("id"), cbc.IssueDate: date("issue_date")},
                requires("id"),
            )
        }
    ),
    cac.DespatchDocumentReference: flat({cbc.ID: text("despatch_advice_reference")}),
    cac.ReceiptDocumentReference: flat({cbc.ID: text("receiving_advice_reference")}),
    cac.OriginatorDocumentReference: flat({cbc.ID: text("tender_reference")}),
    cac.ContractDocumentReference: flat({cbc.ID: text("contract_reference")}),
    cac.AdditionalDocumentReference: each(
        "_additional_documents",
        {
            cbc.ID: ident("id", keep_scheme=True),
            cbc.DocumentTypeCode: text("type_code"),
            cbc.DocumentDescription: text("description"),
            cac.Attachment: flat(
                # never the content: an attachment can be megabytes of base64
                {
                    cbc.EmbeddedDocumentBinaryObject: attributes(
                        mime_code="mimeCode", filename="filename"
                    )
                }
            ),
        },
    ),
    cac.ProjectReference: flat({cbc.ID: text("project_reference")}),
    cac.AccountingSupplierParty: flat({cac.Party: one("seller", PARTY, finish_seller)}),
    cac.AccountingCustomerParty: flat({cac.Party: one("buyer", PARTY, finish_buyer)}),
    cac.PayeeParty: one("payee", PAYEE, finish_payee),
    cac.TaxRepresentativeParty: one(
        "tax_representative", TAX_REPRESENTATIVE, finish_tax_representative
    ),
    cac.Delivery: one("delivery", DELIVERY),
    cac.PaymentMeans: each("_payment_means", PAYMENT_MEANS),
    cac.PaymentTerms: flat({cbc.Note: texts("_payment_terms")}),
    cac.AllowanceCharge: each("_allowance_charges", ALLOWANCE_CHARGE, _charge_indicator),
    cac.TaxTotal: each("_tax_totals", TAX_TOTAL),
    cac.LegalMonetaryTotal: one("totals", TOTALS),
    cac.InvoiceLine: each("lines", LINE, _finish_line),
    cac.CreditNoteLine: each("lines", LINE, _finish_line),
}


# -- the document -------------------------------------------------------------------------------


def parse_ubl(root: etree._Element) -> Invoice:
    """Map a UBL Invoice or CreditNote element onto the canonical model.

    Raises ``UnsupportedDocument("unknown_document", ...)`` for any other element."""
    kind = _ROOTS.get(root.tag) if isinstance(root.tag, str) else None
    if kind is None:
        qname = etree.QName(root) if isinstance(root.tag, str) else None
        name = qname.localname if qname else repr(root.tag)
        ns = (qname.namespace if qname else None) or "(no namespace)"
        raise UnsupportedDocument(
            "unknown_document",
            f"root element {name} in namespace {ns} is not a UBL Invoice or CreditNote",
        )
    r = Reader(root)
    doc = read(r, root, DOCUMENT)
    doc["kind"] = kind
    doc["syntax"] = "ubl"
    period = doc.get("period")
    if period is not None:
        doc["tax_point_date_code"] = period.get("description_code")
    terms = doc.pop("_payment_terms", None)
    doc["payment_terms"] = "\n".join(terms) if terms else None
    entries = doc.pop("_allowance_charges", ())
    doc["allowances"] = [e for e in entries if not e["is_charge"]]
    doc["charges"] = [e for e in entries if e["is_charge"]]
    _finish_references(doc, is_credit_note=kind == "credit_note")
    empty_billing = sum(
        1
        for br in root.iterchildren(cac.BillingReference)
        if next(br.iterchildren(cac.InvoiceDocumentReference), None) is None
    )
    if empty_billing:
        # BG-3 written without its invoice reference: kept empty so that BR-55 can say so.
        doc["preceding_invoices"] = [
            *doc.get("preceding_invoices", []),
            *({"id": ""} for _ in range(empty_billing)),
        ]
    _finish_payment(doc, is_credit_note=kind == "credit_note")
    _finish_tax(doc)
    doc["code_uses"] = r.code_uses()
    if r.unreadable:
        doc["unreadable"] = unreadable_locations(doc, r.unreadable)
        r.unreadable.clear()
    r.forget_locations()
    doc["findings"] = r.findings
    return Invoice.model_validate(doc)


def _finish_references(doc: Out, *, is_credit_note: bool) -> None:
    """AdditionalDocumentReference → BT-18, (credit note) BT-11, and BG-24 documents."""
    supporting = []
    for ref in doc.pop("_additional_documents", ()):
        type_code = ref.pop("type_code", None)
        number = ref.pop("id", None)
        if number is not None and not number["value"] and type_code != "130":
            number = None  # an empty ID is kept for its scheme only in BT-18 (BR-CL-07)
        if type_code == "130" and "invoiced_object" not in doc and number is not None:
            doc["invoiced_object"] = number
        elif type_code == "50" and is_credit_note and "project_reference" not in doc and number:
            doc["project_reference"] = number["value"]  # a CreditNote has no ProjectReference
        elif type_code not in ("130", "50") or number is None:
            # BG-24 with its reference (BT-122), or with none written: kept with an empty one
            # so that BR-52 can say the reference is missing.
            supporting.append({**ref, "id": number["value"] if number else ""})
    doc["supporting_documents"] = supporting


def _finish_payment(doc: Out, *, is_credit_note: bool) -> None:
    """BG-16..BG-19 from every PaymentMeans; BT-90 from the payee, else the seller."""
    means = doc.pop("_payment_means", [])
    payee, seller = (doc.get(p, {}).pop("_creditor", None) for p in ("payee", "seller"))
    creditor = payee or seller
    if is_credit_note and doc.get("due_date") is None:  # a CreditNote has BT-9 in PaymentMeans
        doc["due_date"] = next((m["_due_date"] for m in means if "_due_date" in m), None)
    if not means and creditor is None:
        return
    payment: Out = {"accounts": [], "creditor_id": creditor}
    for m in means:
        m.pop("_due_date", None)
        payment["accounts"].extend(m.pop("accounts", ()))
        for key, value in m.items():
            if payment.get(key) is None:
                payment[key] = value
    if means:  # BT-81 / BT-82 are the first PaymentMeans', not merged from several
        payment["means_code"] = means[0].get("means_code")
        payment["means_text"] = means[0].get("means_text")
    doc["payment"] = payment


def _finish_tax(doc: Out) -> None:
    """BT-110 / BT-111 / BG-23 from the TaxTotals, told apart by their currencyID."""
    tax_totals = doc.pop("_tax_totals", [])
    currency, tax_currency = doc.get("currency"), doc.get("tax_currency")
    in_currency = in_tax_currency = None
    for total in tax_totals:
        currency_id = total.get("currency")
        if in_currency is None and currency is not None and currency_id == currency:
            in_currency = total
        elif in_tax_currency is None and tax_currency is not None and currency_id == tax_currency:
            in_tax_currency = total
    if in_currency is None:  # no currencyID to go by (a fragment): the first other one
        in_currency = next((t for t in tax_totals if t is not in_tax_currency), None)
    totals = doc.setdefault("totals", {})
    totals["tax"] = in_currency.get("amount") if in_currency else None
    totals["tax_in_tax_currency"] = in_tax_currency.get("amount") if in_tax_currency else None
    doc["vat_breakdown"] = [
        sub for t in tax_totals if t is not in_tax_currency for sub in t.get("subtotals", ())
    ]
