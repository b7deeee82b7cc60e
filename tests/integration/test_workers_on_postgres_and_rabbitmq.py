"""The real thing: requisitions flow through dramatiq workers on RabbitMQ, stored in PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from procure.domain.approval import Decision
from procure.services import approvals, queries, requisitions
from tests.conftest import draft, line, reset_postgres


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def rabbit_app(make_app: Any, postgres_url: str, rabbitmq_url: str) -> Any:
    reset_postgres(postgres_url)
    app = make_app(postgres_url, rabbitmq_url)
    app.broker.declare_queue("procure")
    app.broker.flush_all()
    app.start_worker(2)
    return app


def test_a_requisition_is_routed_approved_and_ordered_by_rabbitmq_workers(rabbit_app: Any):
    app = rabbit_app
    assert not app.embedded
    req = requisitions.submit(
        app.ctx,
        draft(
            "s.jones",
            "CC-ICT",
            "SUP-0001",
            line(
                "Laptop, 14 inch", "2", "1450.00", unit_code="C62", gl_code="4200", category="ICT"
            ),
        ),
    )

    def state() -> str:
        return str(queries.requisition_status(app.ctx, req.number)["approval_state"])

    wait_until(lambda: state() == "pending_approval", what="routing by the worker")
    view = queries.requisition_status(app.ctx, req.number)
    # £2,900 on ICT: budget holder d.patel is also the ICT manager, then the head of service.
    assert [s["approver"] for s in view["route"]["steps"]] == ["d.patel", "t.morgan"]

    for approver in ["d.patel", "t.morgan"]:
        wait_until(lambda a=approver: bool(queries.inbox(app.ctx, a)), what=f"{approver}'s task")
        [task] = queries.inbox(app.ctx, approver)
        approvals.decide(app.ctx, task["task_id"], by=approver, decision=Decision.APPROVE)

    wait_until(
        lambda: queries.requisition_status(app.ctx, req.number)["order_state"] == "ordered",
        what="the purchase order",
    )
    po = queries.requisition_status(app.ctx, req.number)["purchase_order"]
    assert po["number"].startswith("PO-2026-")


def test_a_batch_is_routed_once_even_when_messages_are_sent_twice(rabbit_app: Any):
    app = rabbit_app
    drafts = [
        draft(
            "a.price",
            "CC-LEI",
            "SUP-0005",
            line(
                "Cleaning materials",
                "3",
                "40.00",
                unit_code="C62",
                gl_code="4600",
                category="CLEANING",
            ),
        )
        for _ in range(50)
    ]
    reqs = requisitions.submit_many(app.ctx, drafts)
    ids = [r.id for r in reqs]
    app.actors.route_requisitions.send(ids)  # a duplicate delivery of the same work

    def routed() -> int:
        return sum(
            queries.requisition_status(app.ctx, r.number)["approval_state"] == "pending_approval"
            for r in reqs
        )

    wait_until(lambda: routed() == 50, what="50 requisitions routed")
    time.sleep(0.5)
    tasks = queries.inbox(app.ctx, "k.hughes")
    assert len(tasks) == 50
    assert len({t["requisition_id"] for t in tasks}) == 50
