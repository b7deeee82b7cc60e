"""Richard Green runs the depot: he raises requisitions for grounds maintenance AND holds the
CC-GRD budget. Segregation of duties says nobody approves their own spending, so his requisition
goes past him to his line manager, Lowri Evans. When he tries to approve it anyway (from the API,
the CLI or anywhere else) the server refuses, and the refused attempt itself is kept in the audit
trail. Nor may anyone act on a task that is not theirs, hand a task to someone whose approval limit
is too low, or count twice in one chain."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from procure.domain.approval import Decision
from procure.errors import NotAllowed
from procure.services import approvals, queries, requisitions
from procure.services.admin import reference_data
from tests.conftest import draft, line


def mower_parts(unit_price: str = "500.00") -> Any:
    return line(
        "Ride-on mower blades and belts",
        "1",
        unit_price,
        unit_code="C62",
        gl_code="4300",
        category="GROUNDS",
    )


def submit_for_grounds(app: Any, unit_price: str = "500.00") -> str:
    req = requisitions.submit(
        app.ctx, draft("r.green", "CC-GRD", "SUP-0002", mower_parts(unit_price))
    )
    app.drain(fail_fast=True)
    return req.number


def refusals(app: Any, number: str) -> list[dict[str, Any]]:
    timeline = queries.requisition_status(app.ctx, number)["timeline"]
    return [e for e in timeline if e["event"] == "ApprovalDecisionRefused"]


def test_a_budget_holders_own_requisition_goes_to_their_line_manager(app):
    number = submit_for_grounds(app)

    route = queries.requisition_status(app.ctx, number)["route"]
    [step] = route["steps"]
    assert step["approver"] == "l.evans"
    assert "r.green is the requester" in step["reason"]
    assert "their line manager l.evans" in step["reason"]
    assert queries.inbox(app.ctx, "r.green") == []
    assert [t["requisition"] for t in queries.inbox(app.ctx, "l.evans")] == [number]


def test_the_requester_acting_on_the_task_is_refused_and_the_refusal_is_in_the_timeline(app):
    number = submit_for_grounds(app)
    [task] = queries.inbox(app.ctx, "l.evans")

    with pytest.raises(NotAllowed) as refused:
        approvals.decide(app.ctx, task["task_id"], by="r.green", decision=Decision.APPROVE)
    assert refused.value.code == "self_approval"

    [refusal] = refusals(app, number)
    assert refusal["actor"] == "r.green"
    assert "r.green" in refusal["summary"] and "may not act" in refusal["summary"]

    status = queries.requisition_status(app.ctx, number)
    assert status["approval_state"] == "pending_approval"
    assert status["waiting_on"]["assignee"] == "l.evans"


def test_someone_approving_a_task_assigned_to_another_is_refused(app):
    number = submit_for_grounds(app)
    [task] = queries.inbox(app.ctx, "l.evans")

    # Farah Ali is a budget holder with limit enough for this, but the task is not hers; Sarah
    # Jones has no approval limit at all, and is told the same thing: it is not her task.
    for person in ("f.ali", "s.jones"):
        with pytest.raises(NotAllowed) as refused:
            approvals.decide(app.ctx, task["task_id"], by=person, decision=Decision.APPROVE)
        assert refused.value.code == "not_assignee", person

    assert [r["actor"] for r in refusals(app, number)] == ["f.ali", "s.jones"]
    assert queries.requisition_status(app.ctx, number)["approval_state"] == "pending_approval"


def test_delegating_a_task_to_someone_whose_limit_is_too_low_is_refused(app):
    number = submit_for_grounds(app, "4000.00")
    route = queries.requisition_status(app.ctx, number)["route"]
    assert [s["approver"] for s in route["steps"]] == ["l.evans", "m.obrien"]
    assert route["steps"][1]["required_limit"] == "4000.00"

    [first] = queries.inbox(app.ctx, "l.evans")
    approvals.decide(app.ctx, first["task_id"], by="l.evans", decision=Decision.APPROVE)
    app.drain(fail_fast=True)
    [second] = queries.inbox(app.ctx, "m.obrien")

    # Farah Ali's limit is £3,000.00: she may not authorise £4,000.00.
    with pytest.raises(NotAllowed) as refused:
        approvals.decide(
            app.ctx,
            second["task_id"],
            by="m.obrien",
            decision=Decision.DELEGATE,
            delegate_to="f.ali",
        )
    assert refused.value.code == "limit_too_low"
    assert "£3,000.00" in refused.value.message and "£4,000.00" in refused.value.message
    assert [r["actor"] for r in refusals(app, number)] == ["m.obrien"]
    assert [t["task_id"] for t in queries.inbox(app.ctx, "m.obrien")] == [second["task_id"]]
    assert queries.inbox(app.ctx, "f.ali") == []


def test_nobody_counts_twice_in_a_chain(app):
    number = submit_for_grounds(app, "4000.00")
    route = queries.requisition_status(app.ctx, number)["route"]

    # Lowri Evans stands in for the budget holder, so the head of service step (naturally hers)
    # goes up to her director, Michael O'Brien.
    approvers = [s["approver"] for s in route["steps"]]
    assert approvers == ["l.evans", "m.obrien"]
    assert len(set(approvers)) == len(approvers)
    assert "r.green" not in approvers
    assert "l.evans is already on the route" in route["steps"][1]["reason"]

    [first] = queries.inbox(app.ctx, "l.evans")
    approvals.decide(app.ctx, first["task_id"], by="l.evans", decision=Decision.APPROVE)
    app.drain(fail_fast=True)
    [second] = queries.inbox(app.ctx, "m.obrien")

    # The director may not hand the second step back to the person who approved the first.
    with pytest.raises(NotAllowed) as refused:
        approvals.decide(
            app.ctx,
            second["task_id"],
            by="m.obrien",
            decision=Decision.DELEGATE,
            delegate_to="l.evans",
        )
    assert refused.value.code == "already_approved_in_chain"


def test_each_approver_on_the_route_has_a_limit_that_covers_their_step(app):
    number = submit_for_grounds(app, "4000.00")
    people = reference_data(app.ctx).people
    for step in queries.requisition_status(app.ctx, number)["route"]["steps"]:
        limit = people[step["approver"]].approval_limit
        assert limit >= Decimal(step["required_limit"]), step
