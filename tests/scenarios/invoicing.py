"""Helpers for the matching scenarios: an order approved through the services, and a supplier
invoice for it sent through intake (the workers then match it)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from entrypoints.demo_invoices import invoice_for_order
from procure.domain.approval import Decision
from procure.domain.requisition import RequisitionLine
from procure.einvoice.ubl_writer import render_ubl
from procure.services import approvals, intake, matching_views, queries, requisitions
from procure.services.admin import reference_data
from tests.conftest import draft


def ordered(app: Any, requester: str, cost_centre: str, supplier: str, *lines: RequisitionLine):
    """A requisition submitted and approved by whoever the route names, until it is ordered;
    returns the purchase order view."""
    req = requisitions.submit(app.ctx, draft(requester, cost_centre, supplier, *lines))
    app.drain(fail_fast=True)
    for _ in range(6):
        status = queries.requisition_status(app.ctx, req.number)
        if status["order_state"] == "ordered":
            return queries.order_view(app.ctx, status["purchase_order"]["number"])
        who = status["waiting_on"]["assignee"]
        [task] = [x for x in queries.inbox(app.ctx, who) if x["requisition"] == req.number]
        approvals.decide(app.ctx, task["task_id"], by=who, decision=Decision.APPROVE)
        app.drain(fail_fast=True)
    raise AssertionError(f"{req.number} was not ordered")


def send_invoice(
    app: Any,
    order: dict[str, Any],
    number: str,
    lines: list[tuple[int, str]] | None = None,
    *,
    credit_note_for: str | None = None,
    issued: date | None = None,
    **changes: Any,
) -> str:
    """The order's supplier sends an invoice (UBL) for ``lines`` = [(PO line, quantity)];
    intake accepts it and the workers match it. Returns the invoice's id."""
    doc = invoice_for_order(
        order,
        reference_data(app.ctx),
        number=number,
        issued=issued or app.ctx.clock().date(),
        credit_note_for=credit_note_for,
        lines=[(no, Decimal(q)) for no, q in lines] if lines else None,
        **changes,
    )
    result = intake.ingest(app.ctx, render_ubl(doc), filename=f"{number}.xml")
    assert result.status == "accepted", result.findings
    app.drain(fail_fast=True)
    return result.id


def matching_of(app: Any, invoice_id: str) -> dict[str, Any]:
    return matching_views.match_view(app.ctx, invoice_id)


def codes(view: dict[str, Any]) -> set[str]:
    return {r["code"] for r in view["decision"]["reasons"]}


def events_of(app: Any, invoice_id: str) -> list[str]:
    return [e["event"] for e in intake.invoice_view(app.ctx, invoice_id)["timeline"]]


def billed(app: Any, po_number: str) -> dict[int, Decimal]:
    """Billed per PO line, recomputed from the match ledger."""
    return {
        p["line_no"]: Decimal(p["billed"])
        for p in matching_views.order_positions(app.ctx, po_number)
    }
