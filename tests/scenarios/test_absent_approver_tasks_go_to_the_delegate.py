"""Samira Ahmed, head of Leisure and Culture, is on annual leave from 21 December 2026 to
4 January 2027, and Brian Cole (head of Housing, with a higher limit) approves in her place.
Adam Price at the Leisure Centre needs £2,000 of gym equipment: the budget holder Kate Hughes
approves first, then the head of service. While Samira is away that step goes to Brian, the task
records whom it was delegated from, and its reason names the leave; before and after her leave it
goes to Samira. An approver may also hand a single task to a colleague on the spot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from procure.domain.approval import Decision
from procure.errors import NotAllowed
from procure.services import approvals, queries, requisitions
from tests.conftest import draft, line


def gym_equipment() -> Any:
    return line(
        "Resistance bands and kettlebells",
        "1",
        "2000.00",
        unit_code="C62",
        gl_code="4100",
        category="FACILITIES",
    )


def at(clock: Any, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC))


def submit_for_leisure(app: Any, clock: Any, day: date) -> str:
    at(clock, day)
    req = requisitions.submit(app.ctx, draft("a.price", "CC-LEI", "SUP-0002", gym_equipment()))
    app.drain(fail_fast=True)
    return req.number


def approve(app: Any, person: str) -> None:
    [task] = queries.inbox(app.ctx, person)
    approvals.decide(app.ctx, task["task_id"], by=person, decision=Decision.APPROVE)
    app.drain(fail_fast=True)


def test_during_the_leave_the_head_of_service_step_is_routed_to_the_delegate(app, clock):
    number = submit_for_leisure(app, clock, date(2026, 12, 22))

    steps = queries.requisition_status(app.ctx, number)["route"]["steps"]
    assert [s["approver"] for s in steps] == ["k.hughes", "b.cole"]
    assert steps[1]["delegated_from"] == "s.ahmed"
    assert "delegated to b.cole while s.ahmed is away" in steps[1]["reason"]
    assert "annual leave" in steps[1]["reason"]

    approve(app, "k.hughes")
    assert queries.inbox(app.ctx, "s.ahmed") == []
    [task] = queries.inbox(app.ctx, "b.cole")
    assert task["requisition"] == number
    assert task["delegated_from"] == "s.ahmed"
    assert "annual leave" in task["reason"]

    approve(app, "b.cole")
    status = queries.requisition_status(app.ctx, number)
    assert status["approval_state"] == "approved"
    assert status["order_state"] == "ordered"
    assert [(t["assignee"], t["delegated_from"]) for t in status["tasks"]] == [
        ("k.hughes", None),
        ("b.cole", "s.ahmed"),
    ]


def test_a_step_reached_during_the_leave_goes_to_the_delegate_though_routed_before_it(app, clock):
    number = submit_for_leisure(app, clock, date(2026, 12, 18))
    steps = queries.requisition_status(app.ctx, number)["route"]["steps"]
    assert [s["approver"] for s in steps] == ["k.hughes", "s.ahmed"]

    at(clock, date(2026, 12, 21))  # first day of the leave
    approve(app, "k.hughes")

    assert queries.inbox(app.ctx, "s.ahmed") == []
    [task] = queries.inbox(app.ctx, "b.cole")
    assert task["requisition"] == number
    assert task["delegated_from"] == "s.ahmed"
    assert "s.ahmed is away" in task["reason"]
    assert "2026-12-21 to 2027-01-04: annual leave" in task["reason"]


@pytest.mark.parametrize(
    "day", [date(2026, 12, 18), date(2027, 1, 5)], ids=["before the leave", "after the leave"]
)
def test_outside_the_leave_the_step_goes_to_the_head_of_service_herself(app, clock, day):
    number = submit_for_leisure(app, clock, day)
    steps = queries.requisition_status(app.ctx, number)["route"]["steps"]
    assert [(s["approver"], s["delegated_from"]) for s in steps] == [
        ("k.hughes", None),
        ("s.ahmed", None),
    ]

    approve(app, "k.hughes")
    [task] = queries.inbox(app.ctx, "s.ahmed")
    assert task["requisition"] == number
    assert task["delegated_from"] is None
    assert queries.inbox(app.ctx, "b.cole") == []


def test_an_approver_can_delegate_a_single_task_to_a_colleague(app, clock):
    number = submit_for_leisure(app, clock, date(2026, 12, 1))
    approve(app, "k.hughes")
    [task] = queries.inbox(app.ctx, "s.ahmed")

    result = approvals.decide(
        app.ctx,
        task["task_id"],
        by="s.ahmed",
        decision=Decision.DELEGATE,
        delegate_to="b.cole",
        comment="At the leisure trust board all week",
    )
    assert result.new_task_id is not None

    assert queries.inbox(app.ctx, "s.ahmed") == []
    [delegated] = queries.inbox(app.ctx, "b.cole")
    assert delegated["task_id"] == result.new_task_id
    assert delegated["delegated_from"] == "s.ahmed"
    assert "delegated by s.ahmed: At the leisure trust board all week" in delegated["reason"]

    status = queries.requisition_status(app.ctx, number)
    states = {t["task_id"]: t["state"] for t in status["tasks"]}
    assert states[task["task_id"]] == "delegated"
    assert any(
        e["event"] == "ApprovalTaskDelegated" and "Brian Cole (b.cole)" in e["summary"]
        for e in status["timeline"]
    )

    approve(app, "b.cole")
    assert queries.requisition_status(app.ctx, number)["approval_state"] == "approved"


def test_delegating_without_naming_the_delegate_is_refused(app, clock):
    submit_for_leisure(app, clock, date(2026, 12, 1))
    [task] = queries.inbox(app.ctx, "k.hughes")

    with pytest.raises(NotAllowed) as refused:
        approvals.decide(app.ctx, task["task_id"], by="k.hughes", decision=Decision.DELEGATE)
    assert refused.value.code == "delegate_missing"
    assert [t["task_id"] for t in queries.inbox(app.ctx, "k.hughes")] == [task["task_id"]]


def test_a_step_reached_after_the_leave_goes_back_to_the_head_of_service(app, clock):
    number = submit_for_leisure(app, clock, date(2026, 12, 22))
    steps = queries.requisition_status(app.ctx, number)["route"]["steps"]
    assert steps[1]["approver"] == "b.cole"  # as routed during the leave

    at(clock, date(2027, 1, 5))  # Samira is back
    approve(app, "k.hughes")

    assert queries.inbox(app.ctx, "b.cole") == []
    [task] = queries.inbox(app.ctx, "s.ahmed")
    assert task["requisition"] == number
    assert task["delegated_from"] is None
    assert "away" not in task["reason"]
