"""Read models of matching: an invoice's decision line by line, the exception queue, and where
each PO line stands (ordered, received, billed), recomputed from receipts and the ledger.

Imports: sqlalchemy/sqlmodel, ``procure.store``, ``procure.matching`` and ``procure.services``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from procure.errors import NotFound
from procure.matching import positions
from procure.services.context import ServiceContext
from procure.services.matching_inputs import ledger_for, ledger_of_invoice, orders_from_rows
from procure.store import tables as t


def match_view(ctx: ServiceContext, invoice_id: str) -> dict[str, Any]:
    """The invoice's match state, its latest decision with every reason and figure, earlier
    decisions, its exception tasks and its match ledger rows."""
    with ctx.db.reading() as s:
        state = s.get(t.InvoiceMatchRow, invoice_id)
        d = t.MatchDecisionRow
        decisions = list(
            s.scalars(select(d).where(col(d.invoice_id) == invoice_id).order_by(col(d.version)))
        )
        e = t.MatchExceptionRow
        exceptions = list(
            s.scalars(select(e).where(col(e.invoice_id) == invoice_id).order_by(col(e.created_at)))
        )
        ledger = ledger_of_invoice(s, invoice_id)
    latest = decisions[-1] if decisions else None
    return {
        "state": state.state if state else "unmatched",
        "how": state.how if state else None,
        "version": state.version if state else 0,
        "purchase_orders": list(state.po_numbers) if state else [],
        "reason_codes": list(state.reason_codes) if state else [],
        "decision": latest.detail if latest else None,
        "history": [
            {
                "version": x.version,
                "outcome": x.outcome,
                "action": x.action,
                "trigger": x.trigger,
                "reasons": list(x.reason_codes),
                "at": x.decided_at.isoformat(timespec="seconds"),
                "by": x.decided_by,
            }
            for x in decisions
        ],
        "exceptions": [exception_row(x) for x in exceptions],
        "ledger": [
            {
                "id": r.id,
                "invoice_line_id": r.invoice_line_id,
                "po_number": r.po_number,
                "po_line_no": r.po_line_no,
                "quantity": str(r.quantity),
                "amount": str(r.amount),
                "price_variance": str(r.price_variance),
                "receipts": r.receipts,
                "reverses": r.reverses,
                "at": r.recorded_at.isoformat(timespec="seconds"),
            }
            for r in ledger
        ],
    }


def exception_row(
    x: t.MatchExceptionRow, doc: t.InvoiceDocumentRow | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": x.id,
        "invoice_id": x.invoice_id,
        "state": x.state,
        "reasons": list(x.reason_codes),
        "summary": x.summary,
        "role": x.role,
        "assignee": x.assignee_id,
        "created_at": x.created_at.isoformat(timespec="seconds"),
        "resolution": x.resolution,
        "resolution_reason": x.resolution_reason,
        "resolved_by": x.resolved_by,
        "resolved_at": x.resolved_at.isoformat(timespec="seconds") if x.resolved_at else None,
        "approval_task_id": x.approval_task_id,
    }
    if doc is not None:
        out.update(
            {
                "invoice_number": doc.number,
                "supplier_id": doc.supplier_id,
                "issue_date": doc.issue_date.isoformat() if doc.issue_date else None,
                "payable": None if doc.payable is None else str(doc.payable),
                "currency": doc.currency,
                "kind": doc.kind,
            }
        )
    return out


def exception_queue(
    ctx: ServiceContext, *, state: str | None = "open", limit: int = 500
) -> list[dict[str, Any]]:
    """The exception queue, oldest first (``state`` None: every exception)."""
    e, d = t.MatchExceptionRow, t.InvoiceDocumentRow
    stmt = select(e, d).join(d, col(d.id) == col(e.invoice_id))
    if state is not None:
        stmt = stmt.where(col(e.state) == state)
    stmt = stmt.order_by(col(e.created_at), col(e.id)).limit(limit)
    with ctx.db.reading() as s:
        return [exception_row(x, doc) for x, doc in s.execute(stmt)]


def exception_of(ctx: ServiceContext, exception_id: str) -> dict[str, Any]:
    with ctx.db.reading() as s:
        x = s.get(t.MatchExceptionRow, exception_id)
        if x is None:
            raise NotFound(f"no matching exception {exception_id}")
        return exception_row(x, s.get(t.InvoiceDocumentRow, x.invoice_id))


def order_positions(ctx: ServiceContext, po_number: str) -> list[dict[str, Any]]:
    """Ordered, received and billed per line of a purchase order, recomputed from the goods
    receipts and the match ledger (credit notes and reversals included)."""
    from procure.matching import ReceiptLine

    po, pol = t.PurchaseOrderRow, t.PurchaseOrderLineRow
    gr, grl = t.GoodsReceiptRow, t.GoodsReceiptLineRow
    with ctx.db.reading() as s:
        order = s.scalars(select(po).where(col(po.number) == po_number.upper())).first()
        if order is None:
            raise NotFound(f"no purchase order {po_number}")
        lines = list(s.scalars(select(pol).where(col(pol.purchase_order_id) == order.id)))
        receipts = [
            ReceiptLine(order.number, no, qty, on)
            for no, qty, on in s.execute(
                select(col(grl.po_line_no), col(grl.quantity), col(gr.received_on))
                .join(gr, col(gr.id) == col(grl.goods_receipt_id))
                .where(col(gr.purchase_order_id) == order.id)
            )
        ]
        ledger = ledger_for(s, [order.number])
        ref = ctx.reference(s)
    [the_order] = orders_from_rows([order], {order.id: lines}, ref)
    found = positions([the_order], receipts, ledger)
    return [
        {
            "line_no": no,
            "ordered": str(p.ordered),
            "received": str(p.received),
            "billed": str(p.billed),
            "matched": "3-way" if p.receipt_required else "2-way",
        }
        for (_, no), p in sorted(found.items())
    ]
