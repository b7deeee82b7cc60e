"""A matching stand-in for testing posting in isolation: records ``InvoiceMatched`` directly.

Posting was built beside matching. Now that matching records ``InvoiceMatched`` itself (the demo
and ``procure chaos`` go through ``procure.services.matching``), nothing in the product uses
this; it stays here, beside the benchmarks, for the posting tests and ``procure bench posting``,
which measure and test the finance path on its own (matched → posted) without the cost or the
set-up of a 3-way match. ``record_matched_standin`` says "these accepted invoices matched", with
a distribution built the simplest way: each invoice line's order line reference (BT-132) picks
the purchase order line, whose cost centre (the order's), GL code and VAT code it takes. No
quantities or prices are checked here; that is matching's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from procure.domain import events as ev
from procure.domain.distribution import DistributionLine
from procure.domain.events import Event
from procure.domain.order import PurchaseOrder
from procure.einvoice.model import Invoice
from procure.errors import NotFound
from procure.services.context import ServiceContext
from procure.store import repository as repo
from procure.store import tables as t


def record_matched_standin(
    ctx: ServiceContext, invoice_ids: Sequence[str], *, version: int = 1
) -> int:
    """Record ``InvoiceMatched`` (``version``, "automatic") for accepted invoices, in one unit.

    Returns how many were recorded (invoices that were not accepted, or whose purchase order is
    unknown, are skipped)."""
    recorded = 0
    with ctx.unit() as u:
        orders: dict[str, PurchaseOrder | None] = {}
        found = {
            r.id: r
            for r in u.session.scalars(
                select(t.InvoiceDocumentRow).where(col(t.InvoiceDocumentRow.id).in_(invoice_ids))
            )
        }
        for invoice_id in invoice_ids:
            row = found.get(invoice_id)
            if row is None or row.status != "accepted" or row.canonical is None:
                continue
            doc = Invoice.model_validate(row.canonical)
            number = doc.order_reference or ""
            if number not in orders:
                try:
                    orders[number] = repo.get_order(u.session, number)
                except NotFound:  # an unknown order: not this stand-in's business
                    orders[number] = None
            po = orders[number]
            if po is None:
                continue
            po_lines = {ln.line_no: ln for ln in po.lines}
            lines = []
            for i, ln in enumerate(doc.lines, start=1):
                ref = int(ln.order_line_reference or i)
                pol = po_lines.get(ref) or next(iter(po_lines.values()))
                lines.append(
                    DistributionLine(
                        invoice_line_id=ln.id or str(i),
                        po_number=po.number,
                        po_line_no=pol.line_no,
                        cost_centre=po.cost_centre,
                        gl_code=pol.gl_code,
                        vat_code=pol.vat_code,
                        vat_category=ln.vat_category or "S",
                        vat_rate=ln.vat_rate if ln.vat_rate is not None else Decimal(0),
                        net_amount=ln.net_amount or Decimal("0.00"),
                        description=ln.item_name or pol.description,
                    )
                )
            u.record(
                Event(
                    name=ev.INVOICE_MATCHED,
                    entity_type="invoice",
                    entity_id=invoice_id,
                    occurred_at=ctx.clock(),
                    data={
                        "version": version,
                        "how": "automatic",
                        "purchase_orders": [po.number],
                        "distribution": [x.as_data() for x in lines],
                    },
                )
            )
            recorded += 1
    return recorded


def stationery_order(app: Any, *, quantity: str = "10") -> str:
    """Sample data for posting's tests, benchmarks and chaos: Sarah's stationery order, approved
    by her budget holder and issued; returns the purchase order number."""
    from procure.domain.approval import Decision
    from procure.domain.requisition import RequisitionDraft, RequisitionLine
    from procure.services import approvals, queries, requisitions

    need_by = app.ctx.clock().date() + timedelta(days=30)
    req = requisitions.submit(
        app.ctx,
        RequisitionDraft(
            requester_id="s.jones",
            cost_centre="CC-FAC",
            supplier_id="SUP-0002",
            need_by=need_by,
            justification="Paper and toner for the civic centre",
            lines=(
                RequisitionLine(
                    1,
                    "A4 copier paper, 80gsm (box of 5 reams)",
                    Decimal(quantity),
                    "XBX",
                    Decimal("21.50"),
                    "S",
                    "4010",
                    "STATIONERY",
                ),
                RequisitionLine(
                    2,
                    "Toner, black",
                    Decimal(3),
                    "C62",
                    Decimal("33.33"),
                    "S",
                    "4010",
                    "STATIONERY",
                ),
                RequisitionLine(
                    3,
                    "Printed leaflets",
                    Decimal(1),
                    "LS",
                    Decimal("99.99"),
                    "Z",
                    "4020",
                    "STATIONERY",
                ),
            ),
        ),
    )
    app.drain()
    [task] = [t for t in queries.inbox(app.ctx, "e.walsh") if t["requisition"] == req.number]
    approvals.decide(app.ctx, task["task_id"], by="e.walsh", decision=Decision.APPROVE)
    app.drain()
    number: str = queries.requisition_status(app.ctx, req.number)["purchase_order"]["number"]
    return number


def ingest_invoices_for(
    app: Any, po_number: str, count: int, *, prefix: str = "COS", credit_every: int = 0
) -> list[str]:
    """``count`` supplier invoices (UBL) for one order, ingested through intake in batches;
    every ``credit_every``-th is a credit note. Returns the accepted document ids."""
    from entrypoints.demo_invoices import invoice_for_order
    from procure.einvoice.ubl_writer import render_ubl
    from procure.services import queries
    from procure.services.admin import reference_data
    from procure.services.intake import Received, ingest_many

    ref = reference_data(app.ctx)
    order = queries.order_view(app.ctx, po_number)
    today = app.ctx.clock().date()
    template = invoice_for_order(order, ref, number=f"{prefix}-0", issued=today)
    credit = invoice_for_order(
        order,
        ref,
        number=f"{prefix}-CN-0",
        issued=today,
        credit_note_for=f"{prefix}-0",
        lines=[(1, Decimal(1))],
    )
    ids: list[str] = []
    for start in range(0, count, 200):
        batch = []
        for i in range(start, min(count, start + 200)):
            is_credit = credit_every > 0 and i % credit_every == credit_every - 1
            doc = (credit if is_credit else template).model_copy(
                update={"number": f"{prefix}-{'CN-' if is_credit else ''}{i + 1:06d}"}
            )
            batch.append(Received(render_ubl(doc), f"{doc.number}.xml", "test"))
        results = ingest_many(app.ctx, batch)
        ids.extend(r.id for r in results if r.status == "accepted")
    return ids
