"""The server loses power just after a commit, before the message that should follow it is sent.
The database is the source of truth: a submitted requisition nobody routed, an approved task whose
chain was not moved on, an approved requisition without its purchase order are all visible in the
documents' states. At start-up procure lists that pending work and sends it again; and because
every worker is idempotent, sending the same work twice changes nothing the second time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from procure.domain.approval import Decision
from procure.ports import NullDispatcher
from procure.services import approvals, orders, queries, requisitions
from procure.services.recovery import pending_work
from procure.store import tables as t
from tests.conftest import draft, line


@contextmanager
def crash_before_sending(app: Any) -> Iterator[None]:
    """Commits happen; the messages that should follow them are lost."""
    dispatch = app.ctx.dispatch
    app.ctx.dispatch = NullDispatcher()
    try:
        yield
    finally:
        app.ctx.dispatch = dispatch


def two_step_requisition() -> Any:
    # £2,150: budget holder Emma Walsh, then head of service Tom Morgan.
    return draft("s.jones", "CC-FAC", "SUP-0002", line(quantity="100", unit_price="21.50"))


def the_only_task(app: Any, person: str) -> str:
    [task] = queries.inbox(app.ctx, person)
    task_id: str = task["task_id"]
    return task_id


def counts(app: Any) -> dict[str, int]:
    with app.db.reading() as s:
        return {
            table.__tablename__: s.scalar(select(func.count()).select_from(table))
            for table in (t.AuditEventRow, t.ApprovalTaskRow, t.PurchaseOrderRow)
        }


def test_a_requisition_submitted_but_never_routed_is_routed_on_recovery(app):
    with crash_before_sending(app):
        req = requisitions.submit(app.ctx, two_step_requisition())
    app.drain(fail_fast=True)
    assert queries.requisition_status(app.ctx, req.number)["approval_state"] == "submitted"

    work = pending_work(app.ctx)
    assert (work.to_route, work.to_advance, work.to_order) == ([req.id], [], [])

    assert app.recover() == 1
    app.drain(fail_fast=True)

    status = queries.requisition_status(app.ctx, req.number)
    assert status["approval_state"] == "pending_approval"
    assert status["waiting_on"]["assignee"] == "e.walsh"
    assert pending_work(app.ctx).total == 0


def test_an_approved_task_whose_chain_was_not_moved_on_is_advanced_on_recovery(app):
    req = requisitions.submit(app.ctx, two_step_requisition())
    app.drain(fail_fast=True)

    with crash_before_sending(app):
        approvals.decide(
            app.ctx, the_only_task(app, "e.walsh"), by="e.walsh", decision=Decision.APPROVE
        )
    app.drain(fail_fast=True)
    assert queries.requisition_status(app.ctx, req.number)["waiting_on"] is None
    assert queries.inbox(app.ctx, "t.morgan") == []

    work = pending_work(app.ctx)
    assert (work.to_route, work.to_advance, work.to_order) == ([], [req.id], [])

    assert app.recover() == 1
    app.drain(fail_fast=True)
    assert [x["requisition"] for x in queries.inbox(app.ctx, "t.morgan")] == [req.number]
    assert pending_work(app.ctx).total == 0


def test_an_approved_requisition_without_its_order_is_ordered_on_recovery(app):
    req = requisitions.submit(app.ctx, two_step_requisition())
    app.drain(fail_fast=True)
    approvals.decide(
        app.ctx, the_only_task(app, "e.walsh"), by="e.walsh", decision=Decision.APPROVE
    )
    app.drain(fail_fast=True)

    with crash_before_sending(app):
        approvals.decide(
            app.ctx, the_only_task(app, "t.morgan"), by="t.morgan", decision=Decision.APPROVE
        )
        # The advancing worker commits the final approval, then dies before sending the order.
        assert approvals.advance_requisition(app.ctx, req.id) == "approved"
    app.drain(fail_fast=True)
    status = queries.requisition_status(app.ctx, req.number)
    assert (status["approval_state"], status["order_state"]) == ("approved", "not_ordered")

    work = pending_work(app.ctx)
    assert (work.to_route, work.to_advance, work.to_order) == ([], [], [req.id])

    assert app.recover() == 1
    app.drain(fail_fast=True)
    status = queries.requisition_status(app.ctx, req.number)
    assert status["order_state"] == "ordered"
    assert status["purchase_order"]["number"] == "PO-2026-000001"
    assert pending_work(app.ctx).total == 0


def test_routing_advancing_and_ordering_twice_changes_nothing_the_second_time(app):
    req = requisitions.submit(app.ctx, two_step_requisition())
    app.drain(fail_fast=True)
    for person in ("e.walsh", "t.morgan"):
        approvals.decide(app.ctx, the_only_task(app, person), by=person, decision=Decision.APPROVE)
        app.drain(fail_fast=True)
    status = queries.requisition_status(app.ctx, req.number)
    assert status["purchase_order"]["number"] == "PO-2026-000001"
    before = counts(app)

    # The services themselves, called again...
    assert approvals.route_requisitions(app.ctx, [req.id]) == 0
    assert approvals.advance_requisition(app.ctx, req.id) == "nothing_to_do"
    assert orders.issue_purchase_order(app.ctx, req.id) is None
    # ...and the messages delivered again to the workers.
    app.actors.route_requisitions.send([req.id])
    app.actors.advance_requisition.send(req.id)
    app.actors.issue_purchase_order.send(req.id)
    app.drain(fail_fast=True)
    assert app.recover() == 0

    assert counts(app) == before
    again = queries.requisition_status(app.ctx, req.number)
    assert again["tasks"] == status["tasks"]
    assert again["purchase_order"] == status["purchase_order"]
    assert again["timeline"] == status["timeline"]


def test_recovery_sent_twice_before_the_workers_run_routes_once(app):
    with crash_before_sending(app):
        req = requisitions.submit(app.ctx, two_step_requisition())

    assert app.recover() == 1
    assert app.recover() == 1  # the first messages are still queued: the same work is sent again
    app.drain(fail_fast=True)

    tasks = queries.requisition_status(app.ctx, req.number)["tasks"]
    assert [(x["assignee"], x["state"]) for x in tasks] == [("e.walsh", "open")]
    routed = [
        e
        for e in queries.requisition_status(app.ctx, req.number)["timeline"]
        if e["event"] == "RequisitionRouted"
    ]
    assert len(routed) == 1


def test_a_capped_sweep_sends_the_oldest_work_first_and_the_rest_in_a_later_sweep(app, clock):
    submitted = []
    for _ in range(3):
        with crash_before_sending(app):
            submitted.append(requisitions.submit(app.ctx, two_step_requisition()))
        clock.advance(minutes=1)

    first = pending_work(app.ctx, quiet_for_seconds=30, limit=2)
    assert first.to_route == [r.id for r in submitted[:2]]
    assert first.capped
    assert app.recover(30, limit=2) == 2
    app.drain(fail_fast=True)

    later = pending_work(app.ctx, quiet_for_seconds=30, limit=2)
    assert (later.to_route, later.capped) == ([submitted[2].id], False)
    assert app.recover(30, limit=2) == 1
    app.drain(fail_fast=True)
    assert pending_work(app.ctx).total == 0
    assert {queries.requisition_status(app.ctx, r.number)["approval_state"] for r in submitted} == {
        "pending_approval"
    }
