"""Facilities need a new boiler for the Civic Centre: £60,000, above the £50,000 band. Spending that
large needs four people in turn: the budget holder (Emma Walsh), the head of service (Tom Morgan),
the director of Resources (Helen Wright) and procurement (Aisha Khan), who must see three written
quotes or a recorded exemption. Each approver's personal limit covers what their role authorises.
Purchase orders are numbered without gaps, in the order they are issued."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from procure.domain.approval import Decision
from procure.services import approvals, queries, requisitions
from procure.services.admin import reference_data
from tests.conftest import draft, line

CHAIN = ["e.walsh", "t.morgan", "h.wright", "a.khan"]


def boiler(unit_price: str = "60000.00") -> Any:
    return line(
        "Condensing boiler, supply and installation",
        "1",
        unit_price,
        unit_code="C62",
        gl_code="4500",
        category="FACILITIES",
    )


def submit_large(app: Any, supplier: str, unit_price: str, quotes: int) -> str:
    req = requisitions.submit(
        app.ctx, draft("s.jones", "CC-FAC", supplier, boiler(unit_price), quotes=quotes)
    )
    app.drain(fail_fast=True)
    return req.number


def approve_step(app: Any, person: str, number: str) -> None:
    [task] = [t for t in queries.inbox(app.ctx, person) if t["requisition"] == number]
    approvals.decide(app.ctx, task["task_id"], by=person, decision=Decision.APPROVE)
    app.drain(fail_fast=True)


def test_over_fifty_thousand_needs_budget_holder_head_of_service_director_and_procurement(app):
    number = submit_large(app, "SUP-0003", "60000.00", quotes=3)

    route = queries.requisition_status(app.ctx, number)["route"]
    assert route["band"] == "above £50,000"
    assert [(s["approver"], s["role"]) for s in route["steps"]] == [
        ("e.walsh", "budget_holder"),
        ("t.morgan", "head_of_service"),
        ("h.wright", "director"),
        ("a.khan", "procurement"),
    ]
    # Each role authorises up to the top of the highest band it closes; procurement the lot.
    assert [s["required_limit"] for s in route["steps"]] == [
        "1000.00",
        "10000.00",
        "50000.00",
        "60000.00",
    ]
    assert route["quotes_required"] == 3
    assert not any("quotes" in note for note in route["notes"])


def test_each_approvers_limit_covers_the_limit_their_step_requires(app):
    number = submit_large(app, "SUP-0003", "60000.00", quotes=3)
    people = reference_data(app.ctx).people
    for step in queries.requisition_status(app.ctx, number)["route"]["steps"]:
        limit = people[step["approver"]].approval_limit
        assert limit >= Decimal(step["required_limit"]), step


def test_fewer_than_three_quotes_is_noted_for_procurement_to_check(app):
    number = submit_large(app, "SUP-0003", "60000.00", quotes=1)

    route = queries.requisition_status(app.ctx, number)["route"]
    assert "band needs 3 quotes; 1 attached" in route["notes"]
    procurement = route["steps"][-1]
    assert procurement["approver"] == "a.khan"
    assert "the band needs 3 quotes and 1 is attached" in procurement["reason"]
    assert "missing quotes or a recorded exemption" in procurement["reason"]
    assert all("quotes" not in s["reason"] for s in route["steps"][:-1])


def test_the_steps_are_asked_in_turn_and_the_order_is_issued_after_procurement(app):
    number = submit_large(app, "SUP-0003", "60000.00", quotes=3)

    for i, person in enumerate(CHAIN):
        status = queries.requisition_status(app.ctx, number)
        assert status["approval_state"] == "pending_approval"
        assert status["purchase_order"] is None
        assert status["waiting_on"]["assignee"] == person
        assert status["waiting_on"]["step_no"] == i + 1
        for later in CHAIN[i + 1 :]:
            assert queries.inbox(app.ctx, later) == []
        approve_step(app, person, number)

    status = queries.requisition_status(app.ctx, number)
    assert status["approval_state"] == "approved"
    assert status["order_state"] == "ordered"
    assert [t["decided_by"] for t in status["tasks"]] == CHAIN
    assert status["purchase_order"]["number"] == "PO-2026-000001"


def test_purchase_orders_are_numbered_without_gaps_in_the_order_they_are_issued(app):
    boiler_req = submit_large(app, "SUP-0003", "60000.00", quotes=3)
    lifts_req = submit_large(app, "SUP-0004", "85000.00", quotes=3)
    refused_req = submit_large(app, "SUP-0005", "55000.00", quotes=3)

    # The lifts are approved first; a third requisition is rejected; then the boiler is approved.
    for person in CHAIN:
        approve_step(app, person, lifts_req)
    [task] = [t for t in queries.inbox(app.ctx, "e.walsh") if t["requisition"] == refused_req]
    approvals.decide(
        app.ctx,
        task["task_id"],
        by="e.walsh",
        decision=Decision.REJECT,
        comment="Covered by the planned-maintenance contract",
    )
    app.drain(fail_fast=True)
    for person in CHAIN:
        approve_step(app, person, boiler_req)

    lifts = queries.requisition_status(app.ctx, lifts_req)["purchase_order"]["number"]
    boiler_po = queries.requisition_status(app.ctx, boiler_req)["purchase_order"]["number"]
    assert (lifts, boiler_po) == ("PO-2026-000001", "PO-2026-000002")
    refused = queries.requisition_status(app.ctx, refused_req)
    assert refused["approval_state"] == "rejected"
    assert refused["purchase_order"] is None
