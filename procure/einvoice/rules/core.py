"""EN 16931 core business rules BR-01 … BR-65, on the canonical model.

Each rule carries its official id, flag and text from the CEN Schematron
(``abstract/EN16931-model.sch``); the test is that of the syntax bindings
(``UBL/EN16931-UBL-model.sch``, ``CII/EN16931-CII-model.sch``) read on the canonical model.
Most of these rules say "X shall have Y": they are the ``REQUIRED`` table, each a path into the
model (``lines[*].item_name``) whose value may not be absent or blank. A group that is absent
on the way (no tax representative, no deliver-to address) gives the rule no context, so it
holds, as in the Schematron. The rules with more to them follow as functions.

Where the two bindings disagree and the canonical model can tell them apart, the rule follows
the binding of the document's syntax:

* BR-17 compares the payee with the seller's ``PartyName`` in UBL (BT-28) and with the seller
  name (BT-27) and legal registration id (BT-30) in CII.
* BR-53 in CII also requires the VAT accounting currency (BT-6) to differ from the invoice
  currency (BT-5); in UBL a BT-6 equal to BT-5 is satisfied by BT-110.
* BR-51 is a *warning* in the UBL Schematron and *fatal* in the CII one; it is registered once,
  with the flag of the abstract model in the UBL distribution (warning).

What the model cannot show: which of several payment means (BG-16) a value came from (BR-49 and
BR-61 see the means code the model keeps, the first), and an account, supporting document,
preceding invoice or item attribute written without its identifier or name when a reader drops
it (BR-50, BR-52, BR-54, BR-55 then have nothing to see; see ``conformance``).

Imports: the canonical model, the rule registry and ``support``.
"""

from __future__ import annotations

from collections.abc import Iterator

from procure.einvoice.model import Invoice
from procure.einvoice.rules import Violation, context_of, rule
from procure.einvoice.rules.support import (
    lines,
    missing,
    missing_at,
    number,
    present,
    walk,
    without_reason,
)

CREDIT_TRANSFER_CODES = frozenset({"30", "58"})
"""UNTDID 4461: 30 credit transfer, 58 SEPA credit transfer (the Schematron's selection)."""

# (id, path of the value that shall be there, business term, official text)
REQUIRED: list[tuple[str, str, str, str]] = [
    ("BR-01", "customization_id", "BT-24", "An Invoice shall have a Specification identifier (BT-24)."),
    ("BR-02", "number", "BT-1", "An Invoice shall have an Invoice number (BT-1)."),
    ("BR-03", "issue_date", "BT-2", "An Invoice shall have an Invoice issue date (BT-2)."),
    ("BR-04", "type_code", "BT-3", "An Invoice shall have an Invoice type code (BT-3)."),
    ("BR-05", "currency", "BT-5", "An Invoice shall have an Invoice currency code (BT-5)."),
    ("BR-06", "seller.name", "BT-27", "An Invoice shall contain the Seller name (BT-27)."),
    ("BR-07", "buyer.name", "BT-44", "An Invoice shall contain the Buyer name (BT-44)."),
    ("BR-08", "seller.address", "BG-5", "An Invoice shall contain the Seller postal address."),
    ("BR-09", "seller.address.country", "BT-40", "The Seller postal address (BG-5) shall contain a Seller country code (BT-40)."),
    ("BR-10", "buyer.address", "BG-8", "An Invoice shall contain the Buyer postal address (BG-8)."),
    ("BR-11", "buyer.address.country", "BT-55", "The Buyer postal address shall contain a Buyer country code (BT-55)."),
    ("BR-12", "totals.line_net", "BT-106", "An Invoice shall have the Sum of Invoice line net amount (BT-106)."),
    ("BR-13", "totals.tax_exclusive", "BT-109", "An Invoice shall have the Invoice total amount without VAT (BT-109)."),
    ("BR-14", "totals.tax_inclusive", "BT-112", "An Invoice shall have the Invoice total amount with VAT (BT-112)."),
    ("BR-15", "totals.payable", "BT-115", "An Invoice shall have the Amount due for payment (BT-115)."),
    ("BR-18", "tax_representative.name", "BT-62", "The Seller tax representative name (BT-62) shall be provided in the Invoice, if the Seller (BG-4) has a Seller tax representative party (BG-11)"),
    ("BR-19", "tax_representative.address", "BG-12", "The Seller tax representative postal address (BG-12) shall be provided in the Invoice, if the Seller (BG-4) has a Seller tax representative party (BG-11)."),
    ("BR-20", "tax_representative.address.country", "BT-69", "The Seller tax representative postal address (BG-12) shall contain a Tax representative country code (BT-69), if the Seller (BG-4) has a Seller tax representative party (BG-11)."),
    ("BR-21", "lines[*].id", "BT-126", "Each Invoice line (BG-25) shall have an Invoice line identifier (BT-126)."),
    ("BR-22", "lines[*].quantity", "BT-129", "Each Invoice line (BG-25) shall have an Invoiced quantity (BT-129)."),
    ("BR-23", "lines[*].unit_code", "BT-130", "An Invoice line (BG-25) shall have an Invoiced quantity unit of measure code (BT-130)."),
    ("BR-24", "lines[*].net_amount", "BT-131", "Each Invoice line (BG-25) shall have an Invoice line net amount (BT-131)."),
    ("BR-25", "lines[*].item_name", "BT-153", "Each Invoice line (BG-25) shall contain the Item name (BT-153)."),
    ("BR-26", "lines[*].unit_price", "BT-146", "Each Invoice line (BG-25) shall contain the Item net price (BT-146)."),
    ("BR-31", "allowances[*].amount", "BT-92", "Each Document level allowance (BG-20) shall have a Document level allowance amount (BT-92)."),
    ("BR-32", "allowances[*].vat_category", "BT-95", "Each Document level allowance (BG-20) shall have a Document level allowance VAT category code (BT-95)."),
    ("BR-36", "charges[*].amount", "BT-99", "Each Document level charge (BG-21) shall have a Document level charge amount (BT-99)."),
    ("BR-37", "charges[*].vat_category", "BT-102", "Each Document level charge (BG-21) shall have a Document level charge VAT category code (BT-102)."),
    ("BR-41", "lines[*].allowances[*].amount", "BT-136", "Each Invoice line allowance (BG-27) shall have an Invoice line allowance amount (BT-136)."),
    ("BR-43", "lines[*].charges[*].amount", "BT-141", "Each Invoice line charge (BG-28) shall have an Invoice line charge amount (BT-141)."),
    ("BR-45", "vat_breakdown[*].taxable_amount", "BT-116", "Each VAT breakdown (BG-23) shall have a VAT category taxable amount (BT-116)."),
    ("BR-46", "vat_breakdown[*].tax_amount", "BT-117", "Each VAT breakdown (BG-23) shall have a VAT category tax amount (BT-117)."),
    ("BR-47", "vat_breakdown[*].category", "BT-118", "Each VAT breakdown (BG-23) shall be defined through a VAT category code (BT-118)."),
    ("BR-49", "payment.means_code", "BT-81", "A Payment instruction (BG-16) shall specify the Payment means type code (BT-81)."),
    ("BR-52", "supporting_documents[*].id", "BT-122", "Each Additional supporting document (BG-24) shall contain a Supporting document reference (BT-122)."),
    ("BR-55", "preceding_invoices[*].id", "BT-25", "Each Preceding Invoice reference (BG-3) shall contain a Preceding Invoice reference (BT-25)."),
    ("BR-56", "tax_representative.vat_id", "BT-63", "Each Seller tax representative party (BG-11) shall have a Seller tax representative VAT identifier (BT-63)."),
    ("BR-57", "delivery.address.country", "BT-80", "Each Deliver to address (BG-15) shall contain a Deliver to country code (BT-80)."),
    ("BR-62", "seller.endpoint_id.scheme", "BT-34-1", "The Seller electronic address (BT-34) shall have a Scheme identifier."),
    ("BR-63", "buyer.endpoint_id.scheme", "BT-49-1", "The Buyer electronic address (BT-49) shall have a Scheme identifier."),
    ("BR-64", "lines[*].standard_item_id.scheme", "BT-157-1", "The Item standard identifier (BT-157) shall have a Scheme identifier."),
    ("BR-65", "lines[*].classifications[*].scheme", "BT-158-1", "The Item classification identifier (BT-158) shall have a Scheme identifier."),
]  # fmt: skip


def _register_required(rule_id: str, path: str, term: str, text: str) -> None:
    def check(doc: Invoice) -> Iterator[Violation]:
        for where in missing_at(doc, path):
            yield Violation(location=f"{where} ({term})")

    check.__name__ = check.__qualname__ = "br_" + rule_id.removeprefix("BR-")
    rule(rule_id, "fatal", text, context=context_of(path))(check)


for _required in REQUIRED:
    _register_required(*_required)


# -- rules with more to them --------------------------------------------------------------------


@rule("BR-16", "fatal", "An Invoice shall have at least one Invoice line (BG-25)")
def br_16(doc: Invoice) -> Iterator[Violation]:
    if not doc.lines:
        yield Violation(location="lines (BG-25)")


@rule(
    "BR-17",
    "fatal",
    "The Payee name (BT-59) shall be provided in the Invoice, if the Payee (BG-10) is "
    "different from the Seller (BG-4)",
)
def br_17(doc: Invoice) -> Iterator[Violation]:
    payee = doc.payee
    if payee is None:
        return
    if not present(payee.name):
        yield Violation(location="payee.name (BT-59)")
        return
    seller = doc.seller
    seller_name = seller.trading_name if doc.syntax == "ubl" else seller.name
    same_id = payee.identifier is not None and any(
        i.value == payee.identifier.value for i in seller.identifiers
    )
    same_legal = (
        doc.syntax != "ubl"
        and payee.legal_id is not None
        and seller.legal_id is not None
        and payee.legal_id.value == seller.legal_id.value
    )
    if payee.name == seller_name or same_id or same_legal:
        yield Violation(
            "The payee (BG-10) is given but is the seller itself (same name or identifier): "
            "leave the payee out when the seller is to be paid.",
            "payee (BG-10)",
        )


@rule("BR-27", "fatal", "The Item net price (BT-146) shall NOT be negative.")
def br_27(doc: Invoice) -> Iterator[Violation]:
    for where, line in lines(doc):
        price = number(line.unit_price)
        if price is not None and price < 0:
            yield Violation(
                f"The item net price (BT-146) is {price}; it shall not be negative.",
                f"{where}.unit_price (BT-146)",
            )


@rule("BR-28", "fatal", "The Item gross price (BT-148) shall NOT be negative.")
def br_28(doc: Invoice) -> Iterator[Violation]:
    for where, line in lines(doc):
        price = number(line.gross_price)
        if price is not None and price < 0:
            yield Violation(
                f"The item gross price (BT-148) is {price}; it shall not be negative.",
                f"{where}.gross_price (BT-148)",
            )


def _ends_before_start(path: str, doc: Invoice, term: str) -> Iterator[Violation]:
    for where, period in walk(doc, path):
        if period is not None and period.start and period.end and period.end < period.start:
            yield Violation(
                f"The period ends ({period.end}) before it starts ({period.start}).",
                f"{where}.end ({term})",
            )


@rule(
    "BR-29",
    "fatal",
    "If both Invoicing period start date (BT-73) and Invoicing period end date (BT-74) are "
    "given then the Invoicing period end date (BT-74) shall be later or equal to the Invoicing "
    "period start date (BT-73).",
)
def br_29(doc: Invoice) -> Iterator[Violation]:
    yield from _ends_before_start("period", doc, "BT-74")


@rule(
    "BR-30",
    "fatal",
    "If both Invoice line period start date (BT-134) and Invoice line period end date (BT-135) "
    "are given then the Invoice line period end date (BT-135) shall be later or equal to the "
    "Invoice line period start date (BT-134).",
)
def br_30(doc: Invoice) -> Iterator[Violation]:
    yield from _ends_before_start("lines[*].period", doc, "BT-135")


def _reasonless(rule_id: str, path: str, term: str, text: str) -> None:
    def check(doc: Invoice) -> Iterator[Violation]:
        for where in without_reason(doc, path):
            yield Violation(location=f"{where}.reason ({term})")

    check.__name__ = check.__qualname__ = "br_" + rule_id.removeprefix("BR-")
    rule(rule_id, "fatal", text)(check)


_reasonless(
    "BR-33",
    "allowances[*]",
    "BT-97",
    "Each Document level allowance (BG-20) shall have a Document level allowance reason (BT-97) "
    "or a Document level allowance reason code (BT-98).",
)
_reasonless(
    "BR-38",
    "charges[*]",
    "BT-104",
    "Each Document level charge (BG-21) shall have a Document level charge reason (BT-104) or a "
    "Document level charge reason code (BT-105).",
)
_reasonless(
    "BR-42",
    "lines[*].allowances[*]",
    "BT-139",
    "Each Invoice line allowance (BG-27) shall have an Invoice line allowance reason (BT-139) or "
    "an Invoice line allowance reason code (BT-140).",
)
_reasonless(
    "BR-44",
    "lines[*].charges[*]",
    "BT-144",
    "Each Invoice line charge shall have an Invoice line charge reason or an invoice line "
    "allowance reason code.",
)


@rule(
    "BR-48",
    "fatal",
    "Each VAT breakdown (BG-23) shall have a VAT category rate (BT-119), except if the Invoice "
    "is not subject to VAT.",
)
def br_48(doc: Invoice) -> Iterator[Violation]:
    for where, vat in walk(doc, "vat_breakdown[*]"):
        if vat.rate is None and (vat.category or "").strip() != "O":
            yield Violation(location=f"{where}.rate (BT-119)")


@rule(
    "BR-50",
    "fatal",
    "A Payment account identifier (BT-84) shall be present if Credit transfer (BG-17) "
    "information is provided in the Invoice.",
)
def br_50(doc: Invoice) -> Iterator[Violation]:
    payment = doc.payment
    if payment is None or (payment.means_code or "").strip() not in CREDIT_TRANSFER_CODES:
        return  # the Schematron looks at accounts under means code 30 or 58 only
    for where, account_id in walk(doc, "payment.accounts[*].account_id"):
        if missing(account_id):
            yield Violation(location=f"{where} (BT-84)")


@rule(
    "BR-51",
    "warning",
    "In accordance with card payments security standards an invoice should never include a "
    "full card primary account number (BT-87). At the moment PCI Security Standards Council has "
    "defined that the first 6 digits and last 4 digits are the maximum number of digits to be "
    "shown.",
)
def br_51(doc: Invoice) -> Iterator[Violation]:
    card = doc.payment.card_number if doc.payment else None
    if card is not None and len(" ".join(card.split())) > 10:
        yield Violation(
            "The invoice shows more than 10 characters of a payment card number (BT-87); ask "
            "the supplier to show at most the first 6 and last 4 digits.",
            "payment.card_number (BT-87)",
        )


@rule(
    "BR-53",
    "fatal",
    "If the VAT accounting currency code (BT-6) is present, then the Invoice total VAT amount "
    "in accounting currency (BT-111) shall be provided.",
)
def br_53(doc: Invoice) -> Iterator[Violation]:
    if doc.tax_currency is None:
        return
    if doc.tax_currency == doc.currency:
        if doc.syntax == "cii":  # the CII binding requires BT-6 to differ from BT-5
            yield Violation(
                f"The VAT accounting currency (BT-6) {doc.tax_currency} is the invoice currency "
                "(BT-5); leave BT-6 out when VAT is accounted in the invoice currency.",
                "tax_currency (BT-6)",
            )
        elif doc.totals.tax is None:  # UBL: the amount in that currency is BT-110 itself
            yield Violation(location="totals.tax (BT-110)")
        return
    if doc.totals.tax_in_tax_currency is None:
        yield Violation(location="totals.tax_in_tax_currency (BT-111)")


@rule(
    "BR-54",
    "fatal",
    "Each Item attribute (BG-32) shall contain an Item attribute name (BT-160) and an Item "
    "attribute value (BT-161).",
)
def br_54(doc: Invoice) -> Iterator[Violation]:
    for where, attribute in walk(doc, "lines[*].attributes[*]"):
        if missing(attribute.name) or attribute.value is None:
            yield Violation(location=f"{where} (BG-32)")


@rule(
    "BR-61",
    "fatal",
    "If the Payment means type code (BT-81) means SEPA credit transfer, Local credit transfer "
    "or Non-SEPA international credit transfer, the Payment account identifier (BT-84) shall "
    "be present.",
)
def br_61(doc: Invoice) -> Iterator[Violation]:
    payment = doc.payment
    if payment is None or (payment.means_code or "").strip() not in CREDIT_TRANSFER_CODES:
        return
    if not any(present(a.account_id) for a in payment.accounts):
        yield Violation(location="payment.accounts (BT-84)")
