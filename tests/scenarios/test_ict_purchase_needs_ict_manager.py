"""Sarah (Civic Centre Facilities) orders two laptops. The money is the facilities budget, so Emma
Walsh approves it as budget holder; but every ICT purchase must also be seen by the ICT manager,
Deepa Patel, who checks the kit meets the council's standard build. Only when both have approved
does the purchase order go to Severn Digital.

When the laptops are charged to the ICT cost centre itself, Deepa is its budget holder already:
she is asked once, and the route says that her approval covers the ICT check as well."""

from __future__ import annotations

from typing import Any

from procure.domain.approval import Decision
from procure.services import approvals, queries, requisitions
from tests.conftest import draft, line


def laptops(quantity: str = "2", unit_price: str = "450.00") -> Any:
    return line(
        "Laptop, 14 inch, council standard build",
        quantity,
        unit_price,
        unit_code="C62",
        gl_code="4200",
        category="ICT",
    )


def approve(app: Any, person: str) -> None:
    [task] = queries.inbox(app.ctx, person)
    approvals.decide(app.ctx, task["task_id"], by=person, decision=Decision.APPROVE)
    app.drain(fail_fast=True)


def test_laptops_on_a_facilities_budget_go_to_the_budget_holder_then_the_ict_manager(app):
    req = requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", "SUP-0001", laptops()))
    app.drain(fail_fast=True)

    status = queries.requisition_status(app.ctx, req.number)
    steps = status["route"]["steps"]
    assert [(s["approver"], s["role"]) for s in steps] == [
        ("e.walsh", "budget_holder"),
        ("d.patel", "ict_manager"),
    ]
    assert steps[1]["reason"] == "ICT purchases also need the ICT manager"
    assert steps[1]["required_limit"] is None  # a category check, not a spending authority
    assert status["waiting_on"]["assignee"] == "e.walsh"
    assert queries.inbox(app.ctx, "d.patel") == []  # her step opens only after Emma's


def test_the_chain_completes_and_the_order_is_issued_only_after_both_approve(app):
    req = requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", "SUP-0001", laptops()))
    app.drain(fail_fast=True)

    approve(app, "e.walsh")
    status = queries.requisition_status(app.ctx, req.number)
    assert status["approval_state"] == "pending_approval"
    assert status["order_state"] == "not_ordered"
    assert status["purchase_order"] is None
    assert status["waiting_on"]["assignee"] == "d.patel"
    assert status["waiting_on"]["role"] == "ict_manager"

    approve(app, "d.patel")
    status = queries.requisition_status(app.ctx, req.number)
    assert status["approval_state"] == "approved"
    assert status["order_state"] == "ordered"
    assert status["purchase_order"]["number"] == "PO-2026-000001"

    events = [(e["event"], e["actor"]) for e in status["timeline"]]
    last_decision = max(
        i for i, (name, actor) in enumerate(events) if name == "ApprovalTaskDecided"
    )
    assert events[last_decision][1] == "d.patel"
    assert events.index(("PurchaseOrderIssued", None)) > last_decision
    approved = [e for e in status["timeline"] if e["event"] == "RequisitionApproved"]
    assert [e["actor"] for e in approved] == ["d.patel"]


def test_when_the_ict_manager_is_the_budget_holder_she_is_asked_once_and_a_note_says_so(app):
    req = requisitions.submit(app.ctx, draft("s.jones", "CC-ICT", "SUP-0001", laptops()))
    app.drain(fail_fast=True)

    route = queries.requisition_status(app.ctx, req.number)["route"]
    assert [s["approver"] for s in route["steps"]] == ["d.patel"]
    assert [s["role"] for s in route["steps"]] == ["budget_holder"]
    assert any(
        "ICT manager" in note and "d.patel is already on the route (step 1)" in note
        for note in route["notes"]
    )

    approve(app, "d.patel")
    status = queries.requisition_status(app.ctx, req.number)
    assert status["approval_state"] == "approved"
    assert status["purchase_order"]["number"] == "PO-2026-000001"
    assert [t["assignee"] for t in status["tasks"]] == ["d.patel"]


def test_an_order_with_one_ict_line_among_others_still_needs_the_ict_manager(app):
    paper = line("A4 copier paper, box of 5 reams", "4", "21.50")
    req = requisitions.submit(
        app.ctx, draft("s.jones", "CC-FAC", "SUP-0001", paper, laptops("1", "450.00"))
    )
    app.drain(fail_fast=True)

    route = queries.requisition_status(app.ctx, req.number)["route"]
    assert [s["approver"] for s in route["steps"]] == ["e.walsh", "d.patel"]
