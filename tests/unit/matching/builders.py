"""Small builders for matching tests: a council order for paper (goods) and cleaning (a service),
its receipts, and invoices that bill it, each overridable field by field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from procure.domain.money import line_net, money
from procure.matching import (
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    ReceiptLine,
)

D = Decimal
PO = "PO-1001"
SUPPLIER = "SUP-OFFICE"
ACCOUNT = "GB33BUKB20201555555555"


def paper(po: str = PO, **kw: Any) -> OrderLine:
    base: dict[str, Any] = {
        "po_number": po,
        "line_no": 1,
        "description": "A4 copier paper, white, 80gsm, box of 5 reams",
        "seller_item_id": "PAP-A4-80",
        "quantity": D("10"),
        "unit_code": "BX",
        "unit_price": D("20.00"),
        "net_amount": D("200.00"),
        "vat_code": "S20",
        "vat_rate": D("20"),
        "cost_centre": "CC-LIB",
        "gl_code": "5100",
        "category": "stationery",
        "receipt_required": True,
    }
    base.update(kw)
    return OrderLine(**base)


def cleaning(po: str = PO, **kw: Any) -> OrderLine:
    base: dict[str, Any] = {
        "po_number": po,
        "line_no": 2,
        "description": "Office deep cleaning, hours",
        "seller_item_id": "SRV-CLEAN",
        "quantity": D("8"),
        "unit_code": "HUR",
        "unit_price": D("25.00"),
        "net_amount": D("200.00"),
        "vat_code": "S20",
        "vat_rate": D("20"),
        "cost_centre": "CC-FAC",
        "gl_code": "5300",
        "category": "cleaning",
        "receipt_required": False,
    }
    base.update(kw)
    return OrderLine(**base)


def order(*lines: OrderLine, number: str = PO, **kw: Any) -> Order:
    base: dict[str, Any] = {
        "number": number,
        "supplier_id": SUPPLIER,
        "currency": "GBP",
        "status": "open",
        "buyer_reference": None,
        "lines": lines or (paper(number), cleaning(number)),
    }
    base.update(kw)
    return Order(**base)


def receipt(
    qty: str = "10", line_no: int = 1, on: date = date(2026, 11, 2), po: str = PO
) -> ReceiptLine:
    return ReceiptLine(po, line_no, D(qty), on)


def billing(ol: OrderLine, id: str | None = None, **kw: Any) -> InvoiceLine:
    """An invoice line billing ``ol`` in full at the ordered price."""
    base: dict[str, Any] = {
        "id": id or str(ol.line_no),
        "quantity": ol.quantity,
        "unit_code": ol.unit_code,
        "unit_price": ol.unit_price,
        "price_base_quantity": D("1"),
        "net_amount": None,
        "order_line_reference": str(ol.line_no),
        "seller_item_id": ol.seller_item_id,
        "item_name": ol.description,
        "vat_category": "S",
        "vat_rate": ol.vat_rate,
    }
    base.update(kw)
    if base["net_amount"] is None:
        base["net_amount"] = line_net(
            base["quantity"], base["unit_price"] / base["price_base_quantity"]
        )
    return InvoiceLine(**base)


def invoice(*lines: InvoiceLine, **kw: Any) -> Invoice:
    if not lines:
        lines = (billing(paper()), billing(cleaning()))
    tax_exclusive = sum((ln.net_amount for ln in lines), D(0))
    by_rate: dict[Decimal, Decimal] = {}
    for ln in lines:
        by_rate[ln.vat_rate] = by_rate.get(ln.vat_rate, D(0)) + ln.net_amount
    vat = sum((money(net * rate / 100) for rate, net in by_rate.items()), D(0))
    base: dict[str, Any] = {
        "id": "inv-1",
        "kind": "invoice",
        "supplier_id": SUPPLIER,
        "number": "INV-0042",
        "issue_date": date(2026, 11, 5),
        "currency": "GBP",
        "order_reference": PO,
        "buyer_reference": None,
        "preceding_invoices": (),
        "payee_account": ACCOUNT,
        "lines": tuple(lines),
        "tax_exclusive": tax_exclusive,
        "vat_total": vat,
        "payable": tax_exclusive + vat,
        "sha256": "a" * 64,
    }
    base.update(kw)
    return Invoice(**base)


def with_lines(inv: Invoice, *lines: InvoiceLine) -> Invoice:
    """``inv`` with other lines and its totals recomputed."""
    fresh = invoice(*lines)
    return replace(
        inv,
        lines=fresh.lines,
        tax_exclusive=fresh.tax_exclusive,
        vat_total=fresh.vat_total,
        payable=fresh.payable,
    )
