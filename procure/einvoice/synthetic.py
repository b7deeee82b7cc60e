"""Synthetic supplier invoices for benchmarks, the demo and tests: valid EN 16931, any size.

``synthetic_invoice(10_000)`` is a supplier's invoice to the council with ten thousand lines, the
same for the same arguments (a seeded ``random.Random``, a fixed issue date, no clock). Every
figure is computed with ``Decimal`` and rounded half-up to two places where EN 16931 states an
amount: line nets (quantity x price - line allowances + line charges), the VAT breakdown per
category and rate (taxable x rate / 100), and the document totals (BT-106..BT-115), so the
invoice passes the calculation rules (BR-CO-10..BR-CO-16) by construction.

Imports: the canonical model and the standard library.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from procure.einvoice.model import (
    Address,
    AllowanceCharge,
    Contact,
    Identifier,
    Invoice,
    InvoiceLine,
    Party,
    Payment,
    PaymentAccount,
    Totals,
    VatBreakdown,
)

__all__ = ["money", "synthetic_invoice"]

CENT = Decimal("0.01")
ISSUE_DATE = dt.date(2026, 11, 16)
PEPPOL_BILLING = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

# (item, unit of measure, price range in pence, quantity decimals, VAT category and rate, weight)
_CATALOGUE = (
    ("A4 copier paper, 80gsm, box of 5 reams", "XBX", (1800, 3200), 0, "S", "20", 14),
    ("Nitrile gloves, medium, box of 100", "XBX", (450, 900), 0, "S", "20", 12),
    ("Road salt, brown, bulk", "TNE", (6500, 9800), 3, "S", "20", 8),
    ("Grounds maintenance, operative", "HUR", (2200, 3800), 2, "S", "20", 12),
    ("Printer toner cartridge, black", "H87", (3900, 8900), 0, "S", "20", 10),
    ("Hi-vis vest, class 2", "EA", (350, 700), 0, "S", "20", 10),
    ("Cleaning chemicals, sanitiser 5L", "LTR", (180, 420), 1, "S", "20", 14),
    ("Heating oil, kerosene, sheltered housing", "LTR", (55, 95), 1, "S", "5", 8),
    ("Library books, hardback", "EA", (899, 2499), 0, "Z", "0", 7),
    ("First-aid at work course, one place", "EA", (9500, 18000), 0, "E", "0", 5),
)
_STANDARD = ("S", Decimal("20"))
_ORDER = {
    ("S", Decimal("20")): 0,
    ("S", Decimal("5")): 1,
    ("Z", Decimal("0")): 2,
    ("E", Decimal("0")): 3,
}
_WEIGHTS = [item[-1] for item in _CATALOGUE]
_EXEMPTION = "Exempt supply: education and vocational training (VAT Act 1994 Sch 9 Group 6)"


def money(value: Decimal) -> Decimal:
    """An amount as EN 16931 states one: two decimals, rounded half-up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _line(rng: random.Random, number: int, order_reference: str | None) -> InvoiceLine:
    # the first line is standard-rated, so the document rebate and delivery have a base
    index = 0 if number == 1 else rng.choices(range(len(_CATALOGUE)), _WEIGHTS)[0]
    name, unit, (low, high), places, category, rate, _ = _CATALOGUE[index]
    quantity = Decimal(rng.randint(1, 40) * 10**places + rng.randint(0, 10**places - 1))
    quantity = quantity.scaleb(-places)
    price = Decimal(rng.randint(low, high)).scaleb(-2)
    gross = money(quantity * price)
    allowances: tuple[AllowanceCharge, ...] = ()
    charges: tuple[AllowanceCharge, ...] = ()
    if rng.random() < 0.1:
        percent = Decimal(rng.choice((5, 10, 15)))
        allowances = (
            AllowanceCharge(
                is_charge=False,
                amount=money(gross * percent / 100),
                base_amount=gross,
                percent=percent,
                reason="Framework discount",
                reason_code="95",
            ),
        )
    if rng.random() < 0.05:
        charges = (
            AllowanceCharge(
                is_charge=True, amount=Decimal("7.50"), reason="Delivery", reason_code="FC"
            ),
        )
    net = gross - sum((a.amount or Decimal(0) for a in allowances), Decimal(0))
    net += sum((c.amount or Decimal(0) for c in charges), Decimal(0))
    return InvoiceLine(
        id=str(number),
        quantity=quantity,
        unit_code=unit,
        net_amount=net,
        order_line_reference=str(number) if order_reference else None,
        allowances=allowances,
        charges=charges,
        unit_price=price,
        vat_category=category,
        vat_rate=Decimal(rate),
        item_name=name,
        seller_item_id=f"SKU-{index + 1:03d}",
    )


def _document_allowances(standard: Decimal) -> tuple[AllowanceCharge, AllowanceCharge]:
    """A 2% volume rebate on the standard-rated lines and a fixed delivery charge."""
    rebate = AllowanceCharge(
        is_charge=False,
        amount=money(standard * 2 / 100),
        base_amount=standard,
        percent=Decimal("2"),
        vat_category="S",
        vat_rate=Decimal("20"),
        reason="Volume rebate",
        reason_code="95",
    )
    delivery = AllowanceCharge(
        is_charge=True,
        amount=Decimal("25.00"),
        vat_category="S",
        vat_rate=Decimal("20"),
        reason="Delivery to depot",
        reason_code="FC",
    )
    return rebate, delivery


def _breakdown(
    lines: tuple[InvoiceLine, ...], allowances: tuple[AllowanceCharge, ...]
) -> tuple[VatBreakdown, ...]:
    """BG-23: per category and rate, taxable = lines ± document allowances/charges."""
    taxable: dict[tuple[str, Decimal], Decimal] = {}
    for line in lines:
        key = (line.vat_category or "", line.vat_rate or Decimal(0))
        taxable[key] = taxable.get(key, Decimal(0)) + (line.net_amount or Decimal(0))
    for ac in allowances:
        key = (ac.vat_category or "", ac.vat_rate or Decimal(0))
        signed = (ac.amount or Decimal(0)) * (1 if ac.is_charge else -1)
        taxable[key] = taxable.get(key, Decimal(0)) + signed
    return tuple(
        VatBreakdown(
            taxable_amount=amount,
            tax_amount=money(amount * rate / 100),
            category=category,
            rate=rate,
            exemption_reason=_EXEMPTION if category == "E" else None,
        )
        for (category, rate), amount in sorted(taxable.items(), key=lambda kv: _ORDER[kv[0]])
    )


def synthetic_invoice(
    lines: int,
    *,
    seed: int = 0,
    currency: str = "GBP",
    order_reference: str | None = None,
    seller_vat: str = "GB220430231",
) -> Invoice:
    """A valid EN 16931 invoice with ``lines`` lines (at least one), the same for the same
    arguments. With ``order_reference`` each line refers to the order line of its number."""
    if lines < 1:
        raise ValueError("an invoice needs at least one line (BR-16)")
    rng = random.Random(seed)
    invoice_lines = tuple(_line(rng, n, order_reference) for n in range(1, lines + 1))
    line_net = sum((line.net_amount or Decimal(0) for line in invoice_lines), Decimal(0))
    standard = sum(
        (
            ln.net_amount or Decimal(0)
            for ln in invoice_lines
            if (ln.vat_category, ln.vat_rate) == _STANDARD
        ),
        Decimal(0),
    )
    rebate, delivery = _document_allowances(standard)
    breakdown = _breakdown(invoice_lines, (rebate, delivery))
    tax_exclusive = line_net - (rebate.amount or Decimal(0)) + (delivery.amount or Decimal(0))
    tax = sum((v.tax_amount or Decimal(0) for v in breakdown), Decimal(0))
    return Invoice(
        kind="invoice",
        syntax="ubl",
        customization_id=PEPPOL_BILLING,
        profile_id=PEPPOL_PROFILE,
        number=f"SYN-{seed:05d}-{lines}",
        issue_date=ISSUE_DATE,
        type_code="380",
        currency=currency,
        due_date=ISSUE_DATE + dt.timedelta(days=30),
        buyer_reference="FIN-AP-0042",
        order_reference=order_reference,
        payment_terms="30 days net from the date of invoice",
        seller=Party(
            name="Northgate Municipal Supplies Ltd",
            identifiers=(Identifier(value="5060012340001", scheme="0088"),),
            legal_id=Identifier(value="04123456"),  # Companies House number
            vat_id=seller_vat,
            endpoint_id=Identifier(value=seller_vat, scheme="9932"),
            address=Address(
                line1="Unit 4, Riverside Trading Estate",
                city="Leeds",
                postcode="LS11 5DD",
                country="GB",
            ),
            contact=Contact(
                name="Accounts receivable",
                phone="0113 496 0000",
                email="ar@northgate-supplies.example",
            ),
        ),
        buyer=Party(
            name="Example Borough Council",
            endpoint_id=Identifier(value="5050000123457", scheme="0088"),
            address=Address(
                line1="Town Hall, Market Square",
                city="Exampleton",
                postcode="EX1 1AA",
                country="GB",
            ),
        ),
        payment=Payment(
            means_code="30",
            remittance_info=f"SYN-{seed:05d}-{lines}",
            accounts=(
                PaymentAccount(
                    account_id="GB33BUKB20201555555555",
                    name="Northgate Municipal Supplies Ltd",
                    service_provider="BUKBGB22",
                ),
            ),
        ),
        allowances=(rebate,),
        charges=(delivery,),
        totals=Totals(
            line_net=line_net,
            allowances=rebate.amount,
            charges=delivery.amount,
            tax_exclusive=tax_exclusive,
            tax=tax,
            tax_inclusive=tax_exclusive + tax,
            payable=tax_exclusive + tax,
        ),
        vat_breakdown=breakdown,
        lines=invoice_lines,
    )
