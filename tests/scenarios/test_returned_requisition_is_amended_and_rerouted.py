"""Sarah asks for £215 of paper. Emma Walsh, her budget holder, sends it back asking what it is
for; the question is required, so Sarah knows what to answer. Sarah amends it, now for £2,150
(the whole year's paper): that is version 2, routed afresh in the £10,000 band, so Tom Morgan
must approve too. A rejection also needs a reason and ends the requisition; withdrawing cancels
the open tasks; and an action that does not fit the requisition's state is refused, saying so."""

from __future__ import annotations

from typing import Any

import pytest

from procure.domain.approval import Decision
from procure.errors import InvalidTransition, NotAllowed, ValidationFailed
from procure.services import approvals, queries, requisitions
from tests.conftest import draft, line


def paper(quantity: str = "10") -> Any:
    return line("A4 copier paper, 80gsm, box of 5 reams", quantity, "21.50")


def submit(app: Any) -> str:
    req = requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", "SUP-0002", paper()))
    app.drain(fail_fast=True)
    return req.number


def task_of(app: Any, person: str) -> str:
    [task] = queries.inbox(app.ctx, person)
    task_id: str = task["task_id"]
    return task_id


def test_returning_for_information_needs_a_question(app):
    number = submit(app)
    task = task_of(app, "e.walsh")

    with pytest.raises(ValidationFailed) as refused:
        approvals.decide(app.ctx, task, by="e.walsh", decision=Decision.RETURN, comment="  ")
    assert [(p.field, p.code) for p in refused.value.problems] == [("reason", "missing")]
    assert queries.requisition_status(app.ctx, number)["approval_state"] == "pending_approval"

    approvals.decide(
        app.ctx, task, by="e.walsh", decision=Decision.RETURN, comment="Which team is this for?"
    )
    app.drain(fail_fast=True)
    status = queries.requisition_status(app.ctx, number, viewer="s.jones")
    assert status["approval_state"] == "returned"
    assert status["waiting_on"] is None
    assert [t["state"] for t in status["tasks"]] == ["returned"]
    assert any(
        e["event"] == "RequisitionReturned" and "Which team is this for?" in e["summary"]
        for e in status["timeline"]
    )


def test_an_amended_requisition_is_version_two_and_is_routed_to_its_new_band(app):
    number = submit(app)
    approvals.decide(
        app.ctx,
        task_of(app, "e.walsh"),
        by="e.walsh",
        decision=Decision.RETURN,
        comment="Is this the whole year's paper?",
    )
    app.drain(fail_fast=True)

    amended = requisitions.amend(
        app.ctx, number, draft("s.jones", "CC-FAC", "SUP-0002", paper("100")), by="s.jones"
    )
    assert amended.version == 2
    app.drain(fail_fast=True)

    status = queries.requisition_status(app.ctx, number)
    assert status["version"] == 2
    assert status["net_total"] == "2150.00"
    assert status["approval_state"] == "pending_approval"
    assert status["route"]["band"] == "up to £10,000"
    assert [s["approver"] for s in status["route"]["steps"]] == ["e.walsh", "t.morgan"]
    assert [(t["version"], t["state"]) for t in status["tasks"]] == [
        (1, "returned"),
        (2, "open"),
    ]
    assert any(
        e["event"] == "RequisitionAmended" and "£215.00 → £2150.00" in e["summary"]
        for e in status["timeline"]
    )


def test_amending_while_pending_cancels_the_old_tasks_and_routes_afresh(app):
    number = submit(app)
    old_task = task_of(app, "e.walsh")

    requisitions.amend(
        app.ctx, number, draft("s.jones", "CC-FAC", "SUP-0002", paper("100")), by="s.jones"
    )
    app.drain(fail_fast=True)

    status = queries.requisition_status(app.ctx, number)
    states = {t["task_id"]: (t["version"], t["state"]) for t in status["tasks"]}
    assert states[old_task] == (1, "cancelled")
    new_task = task_of(app, "e.walsh")
    assert states[new_task] == (2, "open")

    with pytest.raises(InvalidTransition):
        approvals.decide(app.ctx, old_task, by="e.walsh", decision=Decision.APPROVE)

    approvals.decide(app.ctx, new_task, by="e.walsh", decision=Decision.APPROVE)
    app.drain(fail_fast=True)
    assert queries.requisition_status(app.ctx, number)["waiting_on"]["assignee"] == "t.morgan"


def test_only_the_requester_may_amend(app):
    number = submit(app)
    with pytest.raises(NotAllowed) as refused:
        requisitions.amend(
            app.ctx, number, draft("s.jones", "CC-FAC", "SUP-0002", paper("5")), by="e.walsh"
        )
    assert refused.value.code == "not_requester"


def test_a_rejection_needs_a_reason_and_ends_the_requisition(app):
    number = submit(app)
    task = task_of(app, "e.walsh")

    with pytest.raises(ValidationFailed):
        approvals.decide(app.ctx, task, by="e.walsh", decision=Decision.REJECT)

    approvals.decide(
        app.ctx,
        task,
        by="e.walsh",
        decision=Decision.REJECT,
        comment="We have three months of paper in the store room",
    )
    app.drain(fail_fast=True)
    status = queries.requisition_status(app.ctx, number)
    assert status["approval_state"] == "rejected"
    assert status["purchase_order"] is None
    assert [t["state"] for t in status["tasks"]] == ["rejected"]

    # Nothing more can happen to a rejected requisition, however the amendment is filled in.
    for quantity in ("5", "-5"):
        with pytest.raises(InvalidTransition):
            requisitions.amend(
                app.ctx,
                number,
                draft("s.jones", "CC-FAC", "SUP-0002", paper(quantity)),
                by="s.jones",
            )
    with pytest.raises(InvalidTransition):
        requisitions.withdraw(app.ctx, number, by="s.jones")
    with pytest.raises(InvalidTransition):
        approvals.decide(app.ctx, task, by="e.walsh", decision=Decision.APPROVE)
    assert queries.requisition_status(app.ctx, number)["approval_state"] == "rejected"


def test_withdrawing_cancels_the_open_tasks(app):
    number = submit(app)
    task = task_of(app, "e.walsh")

    requisitions.withdraw(app.ctx, number, by="s.jones")
    app.drain(fail_fast=True)

    status = queries.requisition_status(app.ctx, number)
    assert status["approval_state"] == "withdrawn"
    assert [t["state"] for t in status["tasks"]] == ["cancelled"]
    assert queries.inbox(app.ctx, "e.walsh") == []
    with pytest.raises(InvalidTransition):
        approvals.decide(app.ctx, task, by="e.walsh", decision=Decision.APPROVE)
    with pytest.raises(InvalidTransition):
        requisitions.withdraw(app.ctx, number, by="s.jones")


def test_an_approved_requisition_can_no_longer_be_amended_or_withdrawn(app):
    number = submit(app)
    approvals.decide(app.ctx, task_of(app, "e.walsh"), by="e.walsh", decision=Decision.APPROVE)
    app.drain(fail_fast=True)

    with pytest.raises(InvalidTransition) as refused:
        requisitions.amend(
            app.ctx, number, draft("s.jones", "CC-FAC", "SUP-0002", paper("5")), by="s.jones"
        )
    assert "approved" in refused.value.message
    with pytest.raises(InvalidTransition):
        requisitions.withdraw(app.ctx, number, by="s.jones")
    status = queries.requisition_status(app.ctx, number)
    assert (status["approval_state"], status["version"]) == ("approved", 1)
