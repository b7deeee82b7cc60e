"""Sarah (Civic Centre) orders paper; her budget holder approves; a PO goes out; it arrives in two
deliveries, and a damaged box goes back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from procure.domain.approval import Decision
from procure.errors import OverReceipt
from procure.services import approvals, orders, queries, requisitions
from tests.conftest import draft, line


def test_small_stationery_order_is_approved_by_the_budget_holder_and_received_in_parts(app):
    req = requisitions.submit(
        app.ctx,
        draft("s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50")),
    )
    app.drain(fail_fast=True)

    status = queries.requisition_status(app.ctx, req.number, viewer="s.jones")
    assert status["approval_state"] == "pending_approval"
    assert [s["approver"] for s in status["route"]["steps"]] == ["e.walsh"]
    assert status["waiting_on"]["assignee"] == "e.walsh"
    assert status["net_total"] == "215.00"
    assert status["vat_total"] == "43.00"

    [task] = queries.inbox(app.ctx, "e.walsh")
    assert task["requisition"] == req.number
    approvals.decide(app.ctx, task["task_id"], by="e.walsh", decision=Decision.APPROVE)
    app.drain(fail_fast=True)

    status = queries.requisition_status(app.ctx, req.number)
    assert status["approval_state"] == "approved"
    assert status["order_state"] == "ordered"
    po_number = status["purchase_order"]["number"]
    assert po_number == f"PO-{app.ctx.clock().year}-000001"

    orders.record_receipt(app.ctx, po_number, [(1, "6")], by="s.jones", note="first delivery")
    assert queries.order_view(app.ctx, po_number)["receipt_state"] == "partially_received"
    orders.record_receipt(app.ctx, po_number, [(1, "4")], by="s.jones")
    view = queries.order_view(app.ctx, po_number)
    assert view["receipt_state"] == "fully_received"
    assert view["lines"][0]["received_quantity"] == "10"

    orders.record_receipt(
        app.ctx, po_number, [(1, "-1")], by="s.jones", note="box crushed", is_return=True
    )
    view = queries.order_view(app.ctx, po_number)
    assert view["receipt_state"] == "partially_received"
    assert Decimal(view["lines"][0]["received_quantity"]) == Decimal("9")

    events = [e["event"] for e in queries.requisition_status(app.ctx, req.number)["timeline"]]
    assert events[:3] == ["RequisitionSubmitted", "RequisitionRouted", "ApprovalTaskCreated"]
    assert "PurchaseOrderIssued" in events and "GoodsReturned" in events


def test_over_receipt_beyond_the_allowance_is_refused_with_the_figures(app):
    req = requisitions.submit(
        app.ctx, draft("s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="2.00"))
    )
    app.drain(fail_fast=True)
    [task] = queries.inbox(app.ctx, "e.walsh")
    approvals.decide(app.ctx, task["task_id"], by="e.walsh", decision=Decision.APPROVE)
    app.drain(fail_fast=True)
    po = queries.requisition_status(app.ctx, req.number)["purchase_order"]["number"]

    orders.record_receipt(app.ctx, po, [(1, "10")], by="s.jones")
    with pytest.raises(OverReceipt) as refused:
        orders.record_receipt(app.ctx, po, [(1, "1")], by="s.jones")
    assert "ordered 10" in refused.value.message and "5%" in refused.value.message
    assert queries.order_view(app.ctx, po)["lines"][0]["received_quantity"] == "10"
