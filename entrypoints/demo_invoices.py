"""Supplier invoices for the demo's own purchase orders, in UBL, CII and Excel.

The suppliers of the demo council "send" invoices for orders they delivered: one as UBL (Peppol
BIS 3), one as CII, one as an Excel workbook of their own layout, a credit note, and one with
totals that do not add up (quarantined with the rule that caught it).
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from procure.domain.reference import ReferenceData
from procure.einvoice.model import (
    Address,
    AllowanceCharge,
    DocumentReference,
    Invoice,
    InvoiceLine,
    Party,
    Payment,
    PaymentAccount,
    Totals,
    VatBreakdown,
)

PENNY = Decimal("0.01")
COUNCIL = Party(
    name="Wyvern Vale District Council",
    vat_id="GB888801276",
    address=Address(
        line1="Civic Centre, Market Street", city="Wyvern", postcode="WV1 1AA", country="GB"
    ),
)


def invoice_for_order(
    order: dict[str, Any],
    reference: ReferenceData,
    *,
    number: str,
    issued: date,
    credit_note_for: str | None = None,
    lines: list[tuple[int, Decimal]] | None = None,
    prices: dict[int, Decimal] | None = None,
    account: str | None = None,
    currency: str = "GBP",
    charge: Decimal | None = None,
    vat_codes: dict[int, str] | None = None,
) -> Invoice:
    """An EN 16931 invoice (or credit note) for ``lines`` = [(PO line, quantity)] of an order.
    ``prices`` and ``vat_codes`` change a line's unit price or VAT code from the order's;
    ``account`` is the payee account (default: the supplier's on record); ``charge`` adds a
    document-level charge (standard rated) that is not on the order."""
    supplier = reference.suppliers[order["supplier"]]
    vat_rates = {v.code: v for v in reference.vat_codes.values()}
    chosen = lines or [(ln["line_no"], Decimal(ln["quantity"])) for ln in order["lines"]]
    po_lines = {ln["line_no"]: ln for ln in order["lines"]}
    out_lines = []
    groups: dict[tuple[str, Decimal], Decimal] = {}
    for i, (line_no, qty) in enumerate(chosen, start=1):
        ln = po_lines[line_no]
        vat = vat_rates[(vat_codes or {}).get(line_no, ln["vat_code"])]
        price = (prices or {}).get(line_no, Decimal(ln["unit_price"]))
        net = (qty * price).quantize(PENNY, rounding=ROUND_HALF_UP)
        category, rate = vat.en16931_category, vat.rate.quantize(PENNY)
        groups[(category, rate)] = groups.get((category, rate), Decimal("0.00")) + net
        out_lines.append(
            InvoiceLine(
                id=str(i),
                quantity=qty,
                unit_code=ln["unit_code"],
                net_amount=net,
                order_line_reference=str(line_no),
                unit_price=price,
                vat_category=category,
                vat_rate=rate,
                item_name=ln["description"][:100],
            )
        )
    charges: tuple[AllowanceCharge, ...] = ()
    if charge is not None:
        standard = Decimal("20.00")
        groups[("S", standard)] = groups.get(("S", standard), Decimal("0.00")) + charge
        charges = (
            AllowanceCharge(
                is_charge=True, amount=charge, vat_category="S", vat_rate=standard,
                reason="Delivery and handling",
            ),
        )  # fmt: skip
    breakdown = []
    for (category, rate), taxable in sorted(groups.items()):
        tax = (taxable * rate / 100).quantize(PENNY, rounding=ROUND_HALF_UP)
        breakdown.append(
            VatBreakdown(
                taxable_amount=taxable,
                tax_amount=tax,
                category=category,
                rate=rate,
                exemption_reason=None if category in {"S", "Z"} else "Exempt",
            )
        )
    line_net = sum((x.net_amount or Decimal(0) for x in out_lines), Decimal("0.00"))
    tax_total = sum((b.tax_amount or Decimal(0) for b in breakdown), Decimal("0.00"))
    account = (
        account
        or supplier.iban
        or (f"{(supplier.sort_code or '').replace('-', '')}{supplier.account_number or ''}")
    )
    extra = charge or Decimal("0.00")
    return Invoice(
        kind="credit_note" if credit_note_for else "invoice",
        syntax="ubl",
        customization_id="urn:cen.eu:en16931:2017",
        number=number,
        issue_date=issued,
        due_date=issued + timedelta(days=30),
        type_code="381" if credit_note_for else "380",
        currency=currency,
        buyer_reference=order["cost_centre"],
        order_reference=order["number"],
        preceding_invoices=(DocumentReference(id=credit_note_for),) if credit_note_for else (),
        seller=Party(
            name=supplier.name,
            vat_id=supplier.vat_number,
            address=Address(
                line1=supplier.address_lines[0] if supplier.address_lines else None,
                postcode=supplier.postcode,
                country=supplier.country,
            ),
        ),
        buyer=COUNCIL,
        payment=Payment(means_code="30", accounts=(PaymentAccount(account_id=account),)),
        charges=charges,
        totals=Totals(
            line_net=line_net,
            charges=charge,
            tax_exclusive=line_net + extra,
            tax=tax_total,
            tax_inclusive=line_net + extra + tax_total,
            payable=line_net + extra + tax_total,
        ),
        vat_breakdown=tuple(breakdown),
        lines=tuple(out_lines),
    )


def workbook_for(doc: Invoice) -> bytes:
    """The same invoice as a supplier's own Excel layout (labels, a line table, a totals block)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Invoice"
    ws.append([doc.seller.name])
    ws.append(["INVOICE"])
    ws.append(["Supplier:", doc.seller.name, None, "Invoice To:", doc.buyer.name])
    ws.append(["Invoice No:", doc.number, None, "VAT Reg No:", doc.seller.vat_id])
    ws.append(["Invoice Date:", doc.issue_date, None, "Your Order Ref:", doc.order_reference])
    ws.append(["Due Date:", doc.due_date, None, "Currency:", doc.currency])
    ws.append([])
    ws.append(["Description", "Qty", "Unit", "Unit Price", "VAT %", "Net", "PO Line"])
    for ln in doc.lines:
        ws.append(
            [
                ln.item_name,
                ln.quantity,
                ln.unit_code,
                ln.unit_price,
                (ln.vat_rate or Decimal(0)) / 100,  # openpyxl writes Decimals as numbers
                ln.net_amount,
                ln.order_line_reference,
            ]
        )
        ws.cell(ws.max_row, 5).number_format = "0%"
    ws.append([])
    ws.append([None, None, None, None, "Net", doc.totals.tax_exclusive])
    ws.append([None, None, None, None, "VAT", doc.totals.tax])
    ws.append([None, None, None, None, "Total", doc.totals.payable])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def send_invoices(app: Any, numbers: dict[str, str], today: date) -> list[tuple[str, Any]]:
    """The suppliers invoice the demo's orders; returns (what, intake result) pairs."""
    from procure.einvoice.cii_writer import render_cii
    from procure.einvoice.ubl_writer import render_ubl
    from procure.services import queries
    from procure.services.admin import reference_data
    from procure.services.intake import Received, ingest_many

    ref = reference_data(app.ctx)

    def order(key: str) -> dict[str, Any]:
        number = queries.requisition_status(app.ctx, numbers[key])["purchase_order"]["number"]
        return queries.order_view(app.ctx, number)

    stationery = invoice_for_order(order("stationery"), ref, number="COS-48213", issued=today)
    ict = invoice_for_order(
        order("ict"),
        ref,
        number="SDS/2026/0917",
        issued=today,
        lines=[(1, Decimal(1)), (2, Decimal(2))],
    )
    chairs = invoice_for_order(order("chairs"), ref, number="COS-48250", issued=today)
    credit = invoice_for_order(
        order("stationery"),
        ref,
        number="COS-CN-0311",
        issued=today,
        credit_note_for="COS-48213",
        lines=[(1, Decimal(1))],
    )
    fuel = invoice_for_order(order("fuel1"), ref, number="MF-22871", issued=today)
    wrong = fuel.model_copy(
        update={
            "totals": fuel.totals.model_copy(
                update={"payable": (fuel.totals.payable or Decimal(0)) + Decimal("100.00")}
            )
        }
    )
    sent = [
        ("stationery invoice (UBL)", Received(render_ubl(stationery), "COS-48213.xml", "demo")),
        ("ICT invoice (CII)", Received(render_cii(ict), "SDS-2026-0917.xml", "demo")),
        ("chairs invoice (Excel)", Received(workbook_for(chairs), "COS-48250.xlsx", "demo")),
        ("stationery credit note (UBL)", Received(render_ubl(credit), "COS-CN-0311.xml", "demo")),
        (
            "fuel invoice with wrong total (UBL)",
            Received(render_ubl(wrong), "MF-22871.xml", "demo"),
        ),
        (
            "stationery invoice sent again",
            Received(render_ubl(stationery), "COS-48213 (1).xml", "demo"),
        ),
    ]
    results = ingest_many(app.ctx, [r for _, r in sent])
    return [(what, result) for (what, _), result in zip(sent, results, strict=True)]
