"""UN/CEFACT Cross Industry Invoice (CII D16B) onto the canonical EN 16931 model.

``parse_cii(root)`` reads an ``rsm:CrossIndustryInvoice`` as loaded by ``xml_safety.parse_xml``:
the EN 16931 (COMFORT), BASIC, EXTENDED and XRechnung profiles of Factur-X / ZUGFeRD 2.x, read
as far as EN 16931 goes (EXTENDED-only elements are ignored). Refused with
``UnsupportedDocument``: the MINIMUM and BASIC WL profiles (``profile_not_supported``: no
invoice lines, not full invoices), the ZUGFeRD 1.0 namespace (``zugferd1_not_supported``) and
any other root (``unknown_document``).

The mapping follows the EN 16931-3-3 CII syntax binding (the XPath of each BT in the CEN
Schematron) and the OpenPeppol CII↔UBL mapping table. Where CII and UBL spell one business
term differently, the reading is chosen so that both syntaxes give the same canonical model:

* BT-21 invoice note subject code has no canonical field; a note with one reads
  ``#SUBJECTCODE#text``, the convention UBL documents use (XRechnung, EN 16931 UBL binding).
* BT-8 (``ApplicableTradeTax/DueDateTypeCode``) fills both ``tax_point_date_code`` and
  ``period.description_code`` (where UBL carries it, in the invoice period). Its code stays as
  written: CII codes it with UNTDID 2475 (5, 29, 72), UBL with UNTDID 2005 (3, 35, 432), and
  BR-CL-06 checks each syntax against its own list.
* Several ``SpecifiedTradePaymentTerms/Description`` (BT-20) are joined with a line break;
  BT-81/BT-82 come from the first payment means, every means contributes its accounts (BG-17).
* BT-149/BT-150 come from the net price's ``BasisQuantity``, else the gross price's.
* The credit-note type codes are those of UNTDID 1001 that EN 16931 allows in a UBL
  CreditNote (BR-CL-01): 81 83 261 262 296 308 381 396 420 458 502 503 532.

Imports: lxml (via the elements handed in), the canonical model, ``errors``, ``cii_parts``.
"""

from __future__ import annotations

import datetime as dt

from procure.einvoice.cii_parts import (
    NS_RSM,
    Element,
    Kids,
    Reader,
    address,
    child_text,
    clean,
    code_uses,
    every,
    first,
    identifier,
    invoiced_object,
    kids,
    normalise_vat,
    party,
    party_ids,
    raw_text,
    tax_registration,
    text,
    texts,
)
from procure.einvoice.errors import UnsupportedDocument
from procure.einvoice.model import (
    Delivery,
    DocumentReference,
    Invoice,
    Payee,
    Payment,
    PaymentAccount,
    TaxRepresentative,
    Totals,
    VatBreakdown,
)

__all__ = ["CREDIT_NOTE_TYPE_CODES", "parse_cii"]

ROOT_TAG = f"{{{NS_RSM}}}CrossIndustryInvoice"
NS_ZUGFERD1 = "urn:ferd:CrossIndustryDocument:invoice:1p0"
CREDIT_NOTE_TYPE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "502", "503", "532"}
)
"""UNTDID 1001 credit-note codes allowed by EN 16931 (BR-CL-01, CreditNoteTypeCode list)."""
_LINELESS_PROFILES = ("minimum", "basicwl")


def parse_cii(root: Element) -> Invoice:
    """Map a CII invoice or credit note onto ``Invoice``; raise ``UnsupportedDocument`` for
    documents we do not read (see the module docstring). Never raises for missing or
    unreadable values: those are ``None`` and, when unreadable, a ``PROCURE-PARSE-01``."""
    _check_document(root)
    r = Reader()
    k = kids(root)
    context = kids(first(k, "ExchangedDocumentContext"))
    exchanged = kids(first(k, "ExchangedDocument"))
    transaction = kids(first(k, "SupplyChainTradeTransaction"))
    agreement = kids(first(transaction, "ApplicableHeaderTradeAgreement"))
    delivery = kids(first(transaction, "ApplicableHeaderTradeDelivery"))
    settlement = kids(first(transaction, "ApplicableHeaderTradeSettlement"))
    type_code = text(exchanged, "TypeCode")
    currency = text(settlement, "InvoiceCurrencyCode")
    tax_currency = text(settlement, "TaxCurrencyCode")
    taxes = every(settlement, "ApplicableTradeTax")
    tax_point_date, tax_point_code = _tax_point(r, taxes)
    terms = [kids(t) for t in every(settlement, "SpecifiedTradePaymentTerms")]
    documents = every(agreement, "AdditionalReferencedDocument")
    allowances, charges = r.allowances_charges(
        every(settlement, "SpecifiedTradeAllowanceCharge"), "document"
    )
    lines = tuple(r.line(el) for el in every(transaction, "IncludedSupplyChainTradeLineItem"))
    totals = _totals(r, settlement, currency, tax_currency)
    issue_date, unreadable = _issue_date(r, first(exchanged, "IssueDateTime"))
    return Invoice(
        kind="credit_note" if type_code in CREDIT_NOTE_TYPE_CODES else "invoice",
        syntax="cii",
        customization_id=child_text(
            first(context, "GuidelineSpecifiedDocumentContextParameter"), "ID"
        ),
        profile_id=child_text(
            first(context, "BusinessProcessSpecifiedDocumentContextParameter"), "ID"
        ),
        number=text(exchanged, "ID"),
        issue_date=issue_date,
        type_code=type_code,
        currency=currency,
        tax_currency=tax_currency,
        tax_point_date=tax_point_date,
        tax_point_date_code=tax_point_code,
        due_date=next(
            (
                d
                for t in terms
                if (d := r.date(first(t, "DueDateDateTime"), "BT-9 payment due date"))
            ),
            None,
        ),
        buyer_reference=text(agreement, "BuyerReference"),
        project_reference=child_text(first(agreement, "SpecifiedProcuringProject"), "ID"),
        contract_reference=_issuer_id(agreement, "ContractReferencedDocument"),
        order_reference=_issuer_id(agreement, "BuyerOrderReferencedDocument"),
        sales_order_reference=_issuer_id(agreement, "SellerOrderReferencedDocument"),
        receiving_advice_reference=_issuer_id(delivery, "ReceivingAdviceReferencedDocument"),
        despatch_advice_reference=_issuer_id(delivery, "DespatchAdviceReferencedDocument"),
        tender_reference=next(
            (
                ref
                for dk in map(kids, documents)
                if text(dk, "TypeCode") == "50" and (ref := text(dk, "IssuerAssignedID"))
            ),
            None,
        ),
        invoiced_object=invoiced_object(documents),
        accounting_reference=child_text(
            first(settlement, "ReceivableSpecifiedTradeAccountingAccount"), "ID"
        ),
        payment_terms="\n".join(d for t in terms for d in texts(t, "Description")) or None,
        notes=_notes(exchanged),
        preceding_invoices=tuple(
            DocumentReference(
                id=ref_id,
                issue_date=r.date(
                    first(rk, "FormattedIssueDateTime"), "BT-26 preceding invoice issue date"
                ),
            )
            for rk in map(kids, every(settlement, "InvoiceReferencedDocument"))
            if (ref_id := text(rk, "IssuerAssignedID")) is not None
        ),
        seller=party(first(agreement, "SellerTradeParty"), seller=True),
        buyer=party(first(agreement, "BuyerTradeParty"), seller=False),
        payee=_payee(first(settlement, "PayeeTradeParty")),
        tax_representative=_tax_representative(
            first(agreement, "SellerTaxRepresentativeTradeParty")
        ),
        delivery=_delivery(r, delivery),
        period=r.period(
            first(settlement, "BillingSpecifiedPeriod"), "BG-14 invoicing period", tax_point_code
        ),
        payment=_payment(settlement, terms),
        allowances=allowances,
        charges=charges,
        totals=totals,
        vat_breakdown=tuple(_vat_breakdown(r, kids(t)) for t in taxes),
        supporting_documents=_supporting_documents(documents),
        lines=lines,
        code_uses=tuple(code_uses(root)),
        unreadable=unreadable,
        findings=tuple(r.findings),
    )


def _issue_date(r: Reader, wrapper: Element | None) -> tuple[dt.date | None, tuple[str, ...]]:
    """BT-2, and whether it was written but unreadable: BR-03 asks only for non-blank text in
    a ``udt:DateTimeString`` of format 102, so such a date is there for BR-03 (and
    ``PROCURE-PARSE-01`` says what is wrong with it)."""
    issue_date = r.date(wrapper, "BT-2 invoice issue date")
    if issue_date is None and wrapper is not None:
        inner = next((c for c in wrapper if c.tag.__class__ is str), None)
        if inner is not None and inner.get("format") == "102" and raw_text(inner).strip():
            return None, ("issue_date",)
    return issue_date, ()


def _check_document(root: Element) -> None:
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag.startswith(f"{{{NS_ZUGFERD1}}}"):
        raise UnsupportedDocument(
            "zugferd1_not_supported",
            "this is a ZUGFeRD 1.0 invoice (CrossIndustryDocument); we read ZUGFeRD 2.x / "
            "Factur-X and XRechnung: ask the supplier to send the invoice in one of those",
        )
    if tag != ROOT_TAG:
        raise UnsupportedDocument(
            "unknown_document",
            f"root element {tag or root.tag!s} is not a CII CrossIndustryInvoice",
        )
    guideline = child_text(
        first(
            kids(first(kids(root), "ExchangedDocumentContext")),
            "GuidelineSpecifiedDocumentContextParameter",
        ),
        "ID",
    )
    lowered = (guideline or "").lower()
    if any(p in lowered for p in _LINELESS_PROFILES):
        raise UnsupportedDocument(
            "profile_not_supported",
            f"the invoice uses the Factur-X/ZUGFeRD profile {guideline}: MINIMUM and BASIC WL "
            "carry no invoice lines and are not full invoices; ask the supplier for the "
            "EN 16931 (COMFORT) or EXTENDED profile, or an XRechnung",
        )


def _tax_point(r: Reader, taxes: list[Element]) -> tuple[dt.date | None, str | None]:
    """BT-7 and BT-8, which CII repeats on each VAT breakdown: the first of each; another,
    different value is a warning (EN 16931 allows one VAT point date and one code)."""
    dates: list[tuple[Element, dt.date]] = []
    codes: list[tuple[Element, str]] = []
    for tk in map(kids, taxes):
        wrapper = first(tk, "TaxPointDate")
        if (date := r.date(wrapper, "BT-7 VAT point date")) is not None:
            dates.append((wrapper, date))
        if (code := text(tk, "DueDateTypeCode")) is not None:
            codes.append((first(tk, "DueDateTypeCode"), code))
    for what, found in (("VAT point date (BT-7)", dates), ("VAT point date code (BT-8)", codes)):
        for el, value in found[1:]:
            if value != found[0][1]:
                r.unused(
                    el, f"a second, different {what} {value}; the first, {found[0][1]}, is used"
                )
    return (dates[0][1] if dates else None), (codes[0][1] if codes else None)


def _issuer_id(k: Kids, name: str) -> str | None:
    """``name/IssuerAssignedID``: the identifier of a referenced document."""
    return text(kids(first(k, name)), "IssuerAssignedID")


def _notes(exchanged: Kids) -> tuple[str, ...]:
    notes: list[str] = []
    for el in every(exchanged, "IncludedNote"):
        nk = kids(el)
        content = "\n".join(texts(nk, "Content"))
        if not content:
            continue
        subject = text(nk, "SubjectCode")
        notes.append(f"#{subject}#{content}" if subject else content)
    return tuple(notes)


def _payee(el: Element | None) -> Payee | None:
    """BG-10 from ``ApplicableHeaderTradeSettlement/PayeeTradeParty``."""
    if el is None:
        return None
    k = kids(el)
    ids = party_ids(k)
    return Payee(
        name=text(k, "Name"),
        identifier=ids[0] if ids else None,
        legal_id=identifier(first(kids(first(k, "SpecifiedLegalOrganization")), "ID")),
    )


def _tax_representative(el: Element | None) -> TaxRepresentative | None:
    """BG-11 from ``SellerTaxRepresentativeTradeParty``."""
    if el is None:
        return None
    k = kids(el)
    return TaxRepresentative(
        name=text(k, "Name"),
        vat_id=normalise_vat(tax_registration(k, "VA")),
        address=address(first(k, "PostalTradeAddress")),
    )


def _delivery(r: Reader, k: Kids) -> Delivery | None:
    """BG-13 from ``ShipToTradeParty`` and ``ActualDeliverySupplyChainEvent``."""
    ship_to = first(k, "ShipToTradeParty")
    event = first(k, "ActualDeliverySupplyChainEvent")
    if ship_to is None and event is None:
        return None
    sk = kids(ship_to)
    ids = party_ids(sk)
    return Delivery(
        name=text(sk, "Name"),
        location_id=ids[0] if ids else None,
        date=r.date(first(kids(event), "OccurrenceDateTime"), "BT-72 actual delivery date"),
        address=address(first(sk, "PostalTradeAddress")),
    )


def _payment(settlement: Kids, terms: list[Kids]) -> Payment | None:
    """BG-16 from the payment means, ``PaymentReference``, the direct-debit mandate (BT-89)
    and ``CreditorReferenceID`` (BT-90)."""
    means = [kids(m) for m in every(settlement, "SpecifiedTradeSettlementPaymentMeans")]
    reference = text(settlement, "PaymentReference")
    mandate = next((d for t in terms if (d := text(t, "DirectDebitMandateID"))), None)
    creditor = text(settlement, "CreditorReferenceID")
    if not means and reference is None and mandate is None and creditor is None:
        return None
    accounts: list[PaymentAccount] = []
    for m in means:
        bic = child_text(first(m, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID")
        for acc in map(kids, every(m, "PayeePartyCreditorFinancialAccount")):
            account_id = text(acc, "IBANID") or text(acc, "ProprietaryID")
            if account_id is not None:
                accounts.append(
                    PaymentAccount(
                        account_id=account_id,
                        name=text(acc, "AccountName"),
                        service_provider=bic,
                    )
                )
    first_means = means[0] if means else {}
    return Payment(
        means_code=text(first_means, "TypeCode"),
        means_text=text(first_means, "Information"),
        remittance_info=reference,
        accounts=tuple(accounts),
        card_number=next(
            (
                c
                for m in means
                if (c := child_text(first(m, "ApplicableTradeSettlementFinancialCard"), "ID"))
            ),
            None,
        ),
        mandate_id=mandate,
        creditor_id=creditor,
        debited_account=next(
            (
                a
                for m in means
                if (a := child_text(first(m, "PayerPartyDebtorFinancialAccount"), "IBANID"))
            ),
            None,
        ),
    )


def _vat_breakdown(r: Reader, k: Kids) -> VatBreakdown:
    """BG-23 from one header ``ApplicableTradeTax``."""
    return VatBreakdown(
        taxable_amount=r.dec(k, "BasisAmount", "BT-116 VAT category taxable amount"),
        tax_amount=r.dec(k, "CalculatedAmount", "BT-117 VAT category tax amount"),
        category=text(k, "CategoryCode"),
        rate=r.dec(k, "RateApplicablePercent", "BT-119 VAT category rate"),
        exemption_reason=text(k, "ExemptionReason"),
        exemption_code=text(k, "ExemptionReasonCode"),
    )


def _totals(r: Reader, settlement: Kids, currency: str | None, tax_currency: str | None) -> Totals:
    """BG-22. Of the ``TaxTotalAmount``s, BT-110 is the one in the invoice currency (or without
    currencyID), BT-111 the one in the VAT accounting currency (BT-6)."""
    k = kids(first(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation"))
    tax = tax_in_tax_currency = None
    for el in every(k, "TaxTotalAmount"):
        cur = clean(el.get("currencyID"))
        if tax is None and (cur is None or cur == currency):
            tax = r.decimal(el, "BT-110 invoice total VAT amount")
        elif tax_currency is not None and cur == tax_currency and tax_in_tax_currency is None:
            tax_in_tax_currency = r.decimal(
                el, "BT-111 invoice total VAT amount in accounting currency"
            )
        else:
            r.unused(
                el,
                f"a total VAT amount in currency {cur} is neither in the invoice currency "
                f"(BT-5 {currency}) nor in the VAT accounting currency (BT-6 {tax_currency}); "
                "it was not read",
            )
    return Totals(
        line_net=r.dec(k, "LineTotalAmount", "BT-106 sum of invoice line net amount"),
        allowances=r.dec(k, "AllowanceTotalAmount", "BT-107 sum of allowances"),
        charges=r.dec(k, "ChargeTotalAmount", "BT-108 sum of charges"),
        tax_exclusive=r.dec(k, "TaxBasisTotalAmount", "BT-109 invoice total without VAT"),
        tax=tax,
        tax_in_tax_currency=tax_in_tax_currency,
        tax_inclusive=r.dec(k, "GrandTotalAmount", "BT-112 invoice total with VAT"),
        prepaid=r.dec(k, "TotalPrepaidAmount", "BT-113 paid amount"),
        rounding=r.dec(k, "RoundingAmount", "BT-114 rounding amount"),
        payable=r.dec(k, "DuePayableAmount", "BT-115 amount due for payment"),
    )


def _supporting_documents(documents: list[Element]) -> tuple[DocumentReference, ...]:
    """BG-24: ``AdditionalReferencedDocument`` with TypeCode 916 (or none given)."""
    out: list[DocumentReference] = []
    for el in documents:
        k = kids(el)
        if text(k, "TypeCode") not in (None, "916"):
            continue
        ref_id = text(k, "IssuerAssignedID")
        if ref_id is None:
            continue
        attachment = first(k, "AttachmentBinaryObject")
        out.append(
            DocumentReference(
                id=ref_id,
                description=text(k, "Name"),
                mime_code=None if attachment is None else clean(attachment.get("mimeCode")),
                filename=None if attachment is None else clean(attachment.get("filename")),
            )
        )
    return tuple(out)
