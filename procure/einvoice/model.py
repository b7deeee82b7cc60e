"""The canonical invoice: the EN 16931 semantic model as frozen pydantic models.

Every syntax (UBL 2.1 / Peppol BIS 3, UN/CEFACT CII, supplier Excel) maps onto ``Invoice``.
Each field's docstring names its business term (BT-nn) or group (BG-nn). Amounts, quantities
and rates are ``Decimal`` kept exactly as the document states them (``Decimal("100.00")`` keeps
its two decimals), so the decimal rules (BR-DEC-*) can be checked and JSON shows what was sent.

Parsers are lenient: what is missing is ``None`` (or an empty tuple), never invented, so that
the business rules, not the parser, decide whether a document is acceptable.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Severity = Literal["fatal", "warning", "information"]


class Finding(Frozen):
    """One result of validation: an official rule id where there is one (``BR-CO-10``),
    otherwise a procure id (``PROCURE-XML-01``)."""

    rule: str
    severity: Severity
    message: str
    location: str | None = None


class Identifier(Frozen):
    """An identifier with its optional scheme (``schemeID`` in UBL/CII)."""

    value: str
    scheme: str | None = None


class Address(Frozen):
    """BG-5 / BG-8 / BG-12 / BG-15 postal address."""

    line1: str | None = None
    """BT-35 / BT-50 / BT-64 / BT-75 address line 1."""
    line2: str | None = None
    """BT-36 / BT-51 / BT-65 / BT-76 address line 2."""
    line3: str | None = None
    """BT-162 / BT-163 / BT-164 / BT-165 address line 3."""
    city: str | None = None
    """BT-37 / BT-52 / BT-66 / BT-77 city."""
    postcode: str | None = None
    """BT-38 / BT-53 / BT-67 / BT-78 post code."""
    subdivision: str | None = None
    """BT-39 / BT-54 / BT-68 / BT-79 country subdivision."""
    country: str | None = None
    """BT-40 / BT-55 / BT-69 / BT-80 country code (ISO 3166-1 alpha-2)."""


class Contact(Frozen):
    """BG-6 / BG-9 contact."""

    name: str | None = None
    """BT-41 / BT-56 contact point."""
    phone: str | None = None
    """BT-42 / BT-57 telephone."""
    email: str | None = None
    """BT-43 / BT-58 e-mail."""


class Party(Frozen):
    """BG-4 seller or BG-7 buyer."""

    name: str | None = None
    """BT-27 seller name / BT-44 buyer name."""
    trading_name: str | None = None
    """BT-28 / BT-45 trading name."""
    identifiers: tuple[Identifier, ...] = ()
    """BT-29 seller identifier / BT-46 buyer identifier (with scheme, BT-29-1 / BT-46-1)."""
    legal_id: Identifier | None = None
    """BT-30 / BT-47 legal registration identifier (with scheme BT-30-1 / BT-47-1)."""
    vat_id: str | None = None
    """BT-31 seller VAT identifier / BT-48 buyer VAT identifier (normalised: no spaces)."""
    tax_registration_id: str | None = None
    """BT-32 seller tax registration identifier."""
    legal_info: str | None = None
    """BT-33 seller additional legal information."""
    endpoint_id: Identifier | None = None
    """BT-34 seller / BT-49 buyer electronic address (scheme BT-34-1 / BT-49-1)."""
    address: Address | None = None
    """BG-5 seller / BG-8 buyer postal address."""
    contact: Contact | None = None
    """BG-6 / BG-9 contact."""


class Payee(Frozen):
    """BG-10 payee."""

    name: str | None = None
    """BT-59 payee name."""
    identifier: Identifier | None = None
    """BT-60 payee identifier."""
    legal_id: Identifier | None = None
    """BT-61 payee legal registration identifier."""


class TaxRepresentative(Frozen):
    """BG-11 seller tax representative party."""

    name: str | None = None
    """BT-62 tax representative name."""
    vat_id: str | None = None
    """BT-63 tax representative VAT identifier."""
    address: Address | None = None
    """BG-12 tax representative postal address."""


class Delivery(Frozen):
    """BG-13 delivery information."""

    name: str | None = None
    """BT-70 deliver to party name."""
    location_id: Identifier | None = None
    """BT-71 deliver to location identifier."""
    date: dt.date | None = None
    """BT-72 actual delivery date."""
    address: Address | None = None
    """BG-15 deliver to address."""


class Period(Frozen):
    """BG-14 invoicing period / BG-26 invoice line period."""

    start: dt.date | None = None
    """BT-73 / BT-134 start date."""
    end: dt.date | None = None
    """BT-74 / BT-135 end date."""
    description_code: str | None = None
    """BT-8 value added tax point date code (document level only)."""


class PaymentAccount(Frozen):
    """BG-17 credit transfer."""

    account_id: str
    """BT-84 payment account identifier (IBAN or account number)."""
    name: str | None = None
    """BT-85 payment account name."""
    service_provider: str | None = None
    """BT-86 payment service provider identifier (BIC)."""


class Payment(Frozen):
    """BG-16 payment instructions."""

    means_code: str | None = None
    """BT-81 payment means type code (UNTDID 4461)."""
    means_text: str | None = None
    """BT-82 payment means text."""
    remittance_info: str | None = None
    """BT-83 remittance information."""
    accounts: tuple[PaymentAccount, ...] = ()
    """BG-17 credit transfers."""
    card_number: str | None = None
    """BT-87 payment card primary account number."""
    mandate_id: str | None = None
    """BT-89 mandate reference identifier (direct debit, BG-19)."""
    debited_account: str | None = None
    """BT-91 debited account identifier."""
    creditor_id: str | None = None
    """BT-90 bank assigned creditor identifier (UBL: seller or payee PartyIdentification/ID
    with schemeID SEPA; CII: ram:CreditorReferenceID)."""


class AllowanceCharge(Frozen):
    """BG-20 / BG-21 document level, or BG-27 / BG-28 line level, allowance or charge."""

    is_charge: bool
    """ChargeIndicator: false for an allowance, true for a charge."""
    amount: Decimal | None = None
    """BT-92 / BT-99 (document), BT-136 / BT-141 (line) amount."""
    base_amount: Decimal | None = None
    """BT-93 / BT-100 / BT-137 / BT-142 base amount."""
    percent: Decimal | None = None
    """BT-94 / BT-101 / BT-138 / BT-143 percentage."""
    vat_category: str | None = None
    """BT-95 / BT-102 VAT category code (document level only)."""
    vat_rate: Decimal | None = None
    """BT-96 / BT-103 VAT rate (document level only)."""
    reason: str | None = None
    """BT-97 / BT-104 / BT-139 / BT-144 reason."""
    reason_code: str | None = None
    """BT-98 / BT-105 / BT-140 / BT-145 reason code (UNTDID 5189 / 7161)."""


class VatBreakdown(Frozen):
    """BG-23 VAT breakdown."""

    taxable_amount: Decimal | None = None
    """BT-116 VAT category taxable amount."""
    tax_amount: Decimal | None = None
    """BT-117 VAT category tax amount."""
    category: str | None = None
    """BT-118 VAT category code (UNTDID 5305 subset)."""
    rate: Decimal | None = None
    """BT-119 VAT category rate."""
    exemption_reason: str | None = None
    """BT-120 VAT exemption reason text."""
    exemption_code: str | None = None
    """BT-121 VAT exemption reason code (VATEX)."""


class Totals(Frozen):
    """BG-22 document totals."""

    line_net: Decimal | None = None
    """BT-106 sum of invoice line net amount."""
    allowances: Decimal | None = None
    """BT-107 sum of allowances on document level."""
    charges: Decimal | None = None
    """BT-108 sum of charges on document level."""
    tax_exclusive: Decimal | None = None
    """BT-109 invoice total amount without VAT."""
    tax: Decimal | None = None
    """BT-110 invoice total VAT amount (in the invoice currency)."""
    tax_in_tax_currency: Decimal | None = None
    """BT-111 invoice total VAT amount in accounting currency."""
    tax_inclusive: Decimal | None = None
    """BT-112 invoice total amount with VAT."""
    prepaid: Decimal | None = None
    """BT-113 paid amount."""
    rounding: Decimal | None = None
    """BT-114 rounding amount."""
    payable: Decimal | None = None
    """BT-115 amount due for payment."""


class ItemAttribute(Frozen):
    """BG-32 item attribute."""

    name: str
    """BT-160 item attribute name."""
    value: str | None = None
    """BT-161 item attribute value."""


class InvoiceLine(Frozen):
    """BG-25 invoice line."""

    id: str | None = None
    """BT-126 invoice line identifier."""
    note: str | None = None
    """BT-127 invoice line note."""
    object_id: Identifier | None = None
    """BT-128 invoice line object identifier."""
    quantity: Decimal | None = None
    """BT-129 invoiced quantity."""
    unit_code: str | None = None
    """BT-130 invoiced quantity unit of measure code (UN/ECE Rec 20/21)."""
    net_amount: Decimal | None = None
    """BT-131 invoice line net amount."""
    order_line_reference: str | None = None
    """BT-132 referenced purchase order line reference."""
    accounting_reference: str | None = None
    """BT-133 invoice line buyer accounting reference."""
    period: Period | None = None
    """BG-26 invoice line period."""
    allowances: tuple[AllowanceCharge, ...] = ()
    """BG-27 invoice line allowances."""
    charges: tuple[AllowanceCharge, ...] = ()
    """BG-28 invoice line charges."""
    unit_price: Decimal | None = None
    """BT-146 item net price."""
    price_discount: Decimal | None = None
    """BT-147 item price discount."""
    gross_price: Decimal | None = None
    """BT-148 item gross price."""
    price_base_quantity: Decimal | None = None
    """BT-149 item price base quantity."""
    price_base_unit: str | None = None
    """BT-150 item price base quantity unit of measure code."""
    vat_category: str | None = None
    """BT-151 invoiced item VAT category code."""
    vat_rate: Decimal | None = None
    """BT-152 invoiced item VAT rate."""
    item_name: str | None = None
    """BT-153 item name."""
    item_description: str | None = None
    """BT-154 item description."""
    seller_item_id: str | None = None
    """BT-155 item seller's identifier."""
    buyer_item_id: str | None = None
    """BT-156 item buyer's identifier."""
    standard_item_id: Identifier | None = None
    """BT-157 item standard identifier (scheme BT-157-1)."""
    classifications: tuple[Identifier, ...] = ()
    """BT-158 item classification identifier (list id BT-158-1)."""
    origin_country: str | None = None
    """BT-159 item country of origin."""
    attributes: tuple[ItemAttribute, ...] = ()
    """BG-32 item attributes."""


class DocumentReference(Frozen):
    """BG-3 preceding invoice reference, or BG-24 additional supporting document."""

    id: str
    """BT-25 preceding invoice reference / BT-122 supporting document reference."""
    issue_date: dt.date | None = None
    """BT-26 preceding invoice issue date."""
    description: str | None = None
    """BT-123 supporting document description."""
    mime_code: str | None = None
    """BT-125-1 attached document mime code."""
    filename: str | None = None
    """BT-125-2 attached document filename."""


class CodeUse(Frozen):
    """A code attribute as written in the source (currencyID, unitCode, schemeID, mimeCode),
    kept so the code-list rules (BR-CL-*) can check every occurrence; in CII also each
    ``ram:ReferenceTypeCode`` element (``attribute="ReferenceTypeCode"``, for BR-CL-07)."""

    attribute: str
    value: str
    location: str


class Invoice(Frozen):
    """An invoice or credit note on the EN 16931 semantic model."""

    kind: Literal["invoice", "credit_note"]
    """Invoice (UBL Invoice, CII type codes other than credit notes) or credit note."""
    syntax: Literal["ubl", "cii", "xlsx"]
    """The syntax the document came in."""
    customization_id: str | None = None
    """BT-24 specification identifier."""
    profile_id: str | None = None
    """BT-23 business process type."""
    number: str | None = None
    """BT-1 invoice number."""
    issue_date: dt.date | None = None
    """BT-2 invoice issue date."""
    type_code: str | None = None
    """BT-3 invoice type code (UNTDID 1001: 380 invoice, 381 credit note, ...)."""
    currency: str | None = None
    """BT-5 invoice currency code (ISO 4217)."""
    tax_currency: str | None = None
    """BT-6 VAT accounting currency code."""
    tax_point_date: dt.date | None = None
    """BT-7 value added tax point date."""
    tax_point_date_code: str | None = None
    """BT-8 value added tax point date code, as written in its syntax (UBL: UNTDID 2005
    3/35/432; CII: UNTDID 2475 5/29/72). BR-CL-06 checks each against its own list."""
    due_date: dt.date | None = None
    """BT-9 payment due date."""
    buyer_reference: str | None = None
    """BT-10 buyer reference."""
    project_reference: str | None = None
    """BT-11 project reference."""
    contract_reference: str | None = None
    """BT-12 contract reference."""
    order_reference: str | None = None
    """BT-13 purchase order reference."""
    sales_order_reference: str | None = None
    """BT-14 sales order reference."""
    receiving_advice_reference: str | None = None
    """BT-15 receiving advice reference."""
    despatch_advice_reference: str | None = None
    """BT-16 despatch advice reference."""
    tender_reference: str | None = None
    """BT-17 tender or lot reference."""
    invoiced_object: Identifier | None = None
    """BT-18 invoiced object identifier."""
    accounting_reference: str | None = None
    """BT-19 buyer accounting reference."""
    payment_terms: str | None = None
    """BT-20 payment terms."""
    notes: tuple[str, ...] = ()
    """BT-22 invoice notes (BG-1)."""
    preceding_invoices: tuple[DocumentReference, ...] = ()
    """BG-3 preceding invoice references (BT-25, BT-26)."""
    seller: Party = Field(default_factory=Party)
    """BG-4 seller."""
    buyer: Party = Field(default_factory=Party)
    """BG-7 buyer."""
    payee: Payee | None = None
    """BG-10 payee."""
    tax_representative: TaxRepresentative | None = None
    """BG-11 seller tax representative party."""
    delivery: Delivery | None = None
    """BG-13 delivery information."""
    period: Period | None = None
    """BG-14 invoicing period."""
    payment: Payment | None = None
    """BG-16 payment instructions."""
    allowances: tuple[AllowanceCharge, ...] = ()
    """BG-20 document level allowances."""
    charges: tuple[AllowanceCharge, ...] = ()
    """BG-21 document level charges."""
    totals: Totals = Field(default_factory=Totals)
    """BG-22 document totals."""
    vat_breakdown: tuple[VatBreakdown, ...] = ()
    """BG-23 VAT breakdown."""
    supporting_documents: tuple[DocumentReference, ...] = ()
    """BG-24 additional supporting documents."""
    lines: tuple[InvoiceLine, ...] = ()
    """BG-25 invoice lines."""
    code_uses: tuple[CodeUse, ...] = ()
    """Every currencyID / unitCode / schemeID / listID / mimeCode attribute as written."""
    unreadable: tuple[str, ...] = ()
    """Where a value was written (non-blank) but could not be read, as canonical locations
    (``issue_date``, ``lines[2].net_amount``): the field is ``None`` and a fatal
    ``PROCURE-PARSE-01`` finding names the text. The Schematron counts such a value as present,
    so the "shall have" rules (BR-03, BR-12…) do not also report it missing."""
    findings: tuple[Finding, ...] = ()
    """Parser and validation findings (rule id, severity, message, location)."""

    @property
    def payee_account(self) -> str | None:
        """BT-84 of the first credit transfer: the account the supplier asks to be paid into."""
        if self.payment and self.payment.accounts:
            return self.payment.accounts[0].account_id
        return None

    @property
    def rejected(self) -> bool:
        return any(f.severity == "fatal" for f in self.findings)
