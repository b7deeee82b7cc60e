"""The JSON shape of ``procure invoice parse --json``: stable keys for machines.

Amounts and quantities are decimal strings exactly as the document states them, dates ISO 8601,
absent values ``null``. The full canonical model is under ``document`` for anyone who needs more.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from procure.einvoice.model import AllowanceCharge, Identifier, Invoice
from procure.einvoice.reader import ReadOutcome


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _id(value: Identifier | None) -> str | None:
    return None if value is None else value.value


def _ac(a: AllowanceCharge) -> dict[str, Any]:
    return {
        "amount": _s(a.amount),
        "base_amount": _s(a.base_amount),
        "percent": _s(a.percent),
        "reason": a.reason,
        "reason_code": a.reason_code,
        "vat_category": a.vat_category,
        "vat_rate": _s(a.vat_rate),
    }


def invoice_json(doc: Invoice) -> dict[str, Any]:
    t = doc.totals
    return {
        "kind": doc.kind,
        "syntax": doc.syntax,
        "number": doc.number,
        "issue_date": doc.issue_date.isoformat() if doc.issue_date else None,
        "type_code": doc.type_code,
        "currency": doc.currency,
        "tax_currency": doc.tax_currency,
        "due_date": doc.due_date.isoformat() if doc.due_date else None,
        "buyer_reference": doc.buyer_reference,
        "order_reference": doc.order_reference,
        "preceding_invoices": [p.id for p in doc.preceding_invoices],
        "seller": {
            "name": doc.seller.name,
            "vat_id": doc.seller.vat_id,
            "legal_id": _id(doc.seller.legal_id),
            "endpoint_id": _id(doc.seller.endpoint_id),
            "country": doc.seller.address.country if doc.seller.address else None,
        },
        "buyer": {
            "name": doc.buyer.name,
            "vat_id": doc.buyer.vat_id,
            "endpoint_id": _id(doc.buyer.endpoint_id),
        },
        "payee_account": doc.payee_account,
        "lines": [
            {
                "id": ln.id,
                "quantity": _s(ln.quantity),
                "unit_code": ln.unit_code,
                "net_amount": _s(ln.net_amount),
                "order_line_reference": ln.order_line_reference,
                "item_name": ln.item_name,
                "seller_item_id": ln.seller_item_id,
                "unit_price": _s(ln.unit_price),
                "price_base_quantity": _s(ln.price_base_quantity),
                "vat_category": ln.vat_category,
                "vat_rate": _s(ln.vat_rate),
                "allowances": [_ac(a) for a in ln.allowances],
                "charges": [_ac(c) for c in ln.charges],
            }
            for ln in doc.lines
        ],
        "allowances": [_ac(a) for a in doc.allowances],
        "charges": [_ac(c) for c in doc.charges],
        "vat_breakdown": [
            {
                "category": v.category,
                "rate": _s(v.rate),
                "taxable_amount": _s(v.taxable_amount),
                "tax_amount": _s(v.tax_amount),
                "exemption_reason": v.exemption_reason,
            }
            for v in doc.vat_breakdown
        ],
        "totals": {
            "line_net": _s(t.line_net),
            "allowances": _s(t.allowances),
            "charges": _s(t.charges),
            "tax_exclusive": _s(t.tax_exclusive),
            "tax": _s(t.tax),
            "tax_inclusive": _s(t.tax_inclusive),
            "prepaid": _s(t.prepaid),
            "rounding": _s(t.rounding),
            "payable": _s(t.payable),
        },
        "findings": [f.model_dump() for f in doc.findings],
    }


def outcome_json(outcome: ReadOutcome) -> dict[str, Any]:
    """What ``--json`` prints: the document's keys (or nulls), the verdict and the findings."""
    if outcome.document is not None:
        body = invoice_json(outcome.document)
    else:
        body = {
            "kind": None,
            "syntax": outcome.syntax,
            "number": None,
            "findings": [f.model_dump() for f in outcome.findings],
        }
    body["accepted"] = outcome.accepted
    body["sha256"] = outcome.sha256
    return body
