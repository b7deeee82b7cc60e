"""Sarah's requisition waits on Emma Walsh, who does not act on it. The council's rule is that an
approval task left for three UK working days goes to the approver's line manager, so that orders
are not stuck behind one person's inbox. Weekends and bank holidays do not count: a task created
on Friday 18 December 2026 escalates on Wednesday 23 December, and one created on Wednesday
23 December skips Christmas Day and Boxing Day (observed on Monday 28) to escalate on
Wednesday 30 December. The escalation is recorded, happens once, and the manager can approve."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from procure.domain.approval import Decision
from procure.errors import InvalidTransition
from procure.services import approvals, queries, requisitions
from tests.conftest import draft


def submit_on(app: Any, clock: Any, day: date, *args: Any) -> str:
    clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC))
    req = requisitions.submit(app.ctx, draft(*(args or ("s.jones", "CC-FAC", "SUP-0002"))))
    app.drain(fail_fast=True)
    return req.number


def sweep(app: Any, clock: Any, day: date) -> list[str]:
    clock.set(datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC))
    return approvals.escalate_overdue(app.ctx, day)


def test_a_task_created_on_a_friday_is_not_escalated_over_the_weekend_or_before_three_working_days(
    app, clock
):
    submit_on(app, clock, date(2026, 12, 18))
    [task] = queries.inbox(app.ctx, "e.walsh")
    assert task["escalates_on"] == "2026-12-23"

    for day in (19, 20, 21, 22):  # Sat, Sun, Mon (1 working day), Tue (2)
        assert sweep(app, clock, date(2026, 12, day)) == [], f"escalated on {day} December"
    assert [t["task_id"] for t in queries.inbox(app.ctx, "e.walsh")] == [task["task_id"]]

    assert sweep(app, clock, date(2026, 12, 23)) == [task["task_id"]]


def test_christmas_day_and_boxing_day_observed_are_not_working_days(app, clock):
    submit_on(app, clock, date(2026, 12, 23))
    [task] = queries.inbox(app.ctx, "e.walsh")
    assert task["escalates_on"] == "2026-12-30"

    # Thu 24 is one working day; Fri 25, Sat 26, Sun 27 and Mon 28 do not count; Tue 29 is two.
    for day in (24, 25, 26, 27, 28, 29):
        assert sweep(app, clock, date(2026, 12, day)) == [], f"escalated on {day} December"

    assert sweep(app, clock, date(2026, 12, 30)) == [task["task_id"]]


def test_the_overdue_task_goes_to_the_line_manager_who_can_approve_it(app, clock):
    number = submit_on(app, clock, date(2026, 12, 18))
    [old] = queries.inbox(app.ctx, "e.walsh")

    assert sweep(app, clock, date(2026, 12, 23)) == [old["task_id"]]

    assert queries.inbox(app.ctx, "e.walsh") == []
    [new] = queries.inbox(app.ctx, "t.morgan")  # Emma Walsh's line manager
    assert new["requisition"] == number
    assert new["escalated_from"] == old["task_id"]
    assert new["step_no"] == old["step_no"]
    assert "escalated from e.walsh" in new["reason"]
    assert new["escalates_on"] == "2026-12-30"  # 24, 29, 30 Dec: 25 and 28 are holidays

    status = queries.requisition_status(app.ctx, number, viewer="s.jones")
    states = {t["task_id"]: (t["assignee"], t["state"]) for t in status["tasks"]}
    assert states[old["task_id"]] == ("e.walsh", "escalated")
    assert states[new["task_id"]] == ("t.morgan", "open")
    assert status["waiting_on"]["assignee"] == "t.morgan"
    [escalated] = [e for e in status["timeline"] if e["event"] == "ApprovalTaskEscalated"]
    assert "overdue since 2026-12-23" in escalated["summary"]
    assert "Tom Morgan (t.morgan)" in escalated["summary"]

    with pytest.raises(InvalidTransition):
        approvals.decide(app.ctx, old["task_id"], by="e.walsh", decision=Decision.APPROVE)

    approvals.decide(app.ctx, new["task_id"], by="t.morgan", decision=Decision.APPROVE)
    app.drain(fail_fast=True)
    status = queries.requisition_status(app.ctx, number)
    assert status["approval_state"] == "approved"
    assert status["order_state"] == "ordered"


def test_running_the_sweep_twice_escalates_once(app, clock):
    number = submit_on(app, clock, date(2026, 12, 18))

    first = sweep(app, clock, date(2026, 12, 23))
    assert len(first) == 1
    assert sweep(app, clock, date(2026, 12, 23)) == []
    assert sweep(app, clock, date(2026, 12, 24)) == []  # the new task is one working day old

    tasks = queries.requisition_status(app.ctx, number)["tasks"]
    assert [(t["assignee"], t["state"]) for t in tasks] == [
        ("e.walsh", "escalated"),
        ("t.morgan", "open"),
    ]


def test_an_escalation_to_a_manager_on_leave_goes_to_their_delegate(app, clock):
    # Kate Hughes (Leisure Centre budget holder) reports to Samira Ahmed, away 21 Dec to 4 Jan;
    # Brian Cole approves in her place.
    number = submit_on(app, clock, date(2026, 12, 18), "a.price", "CC-LEI", "SUP-0002")
    [old] = queries.inbox(app.ctx, "k.hughes")

    assert sweep(app, clock, date(2026, 12, 23)) == [old["task_id"]]

    assert queries.inbox(app.ctx, "s.ahmed") == []
    [new] = queries.inbox(app.ctx, "b.cole")
    assert new["requisition"] == number
    assert new["escalated_from"] == old["task_id"]
    approvals.decide(app.ctx, new["task_id"], by="b.cole", decision=Decision.APPROVE)
    app.drain(fail_fast=True)
    assert queries.requisition_status(app.ctx, number)["approval_state"] == "approved"


def test_a_task_created_just_after_midnight_in_summer_counts_from_its_uk_day(app, clock):
    # 00:30 on Wednesday 1 July 2026 in London (BST) is 23:30 on Tuesday 30 June in UTC: the
    # task was created on the Wednesday, so Thursday 2, Friday 3 and Monday 6 are its three days.
    clock.set(datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", "SUP-0002"))
    app.drain(fail_fast=True)
    [task] = queries.inbox(app.ctx, "e.walsh")
    assert task["escalates_on"] == "2026-07-06"

    clock.set(datetime(2026, 7, 3, 9, 0, tzinfo=UTC))
    assert approvals.escalate_overdue(app.ctx) == []  # Friday: two working days, not three
    clock.set(datetime(2026, 7, 6, 9, 0, tzinfo=UTC))
    assert approvals.escalate_overdue(app.ctx) == [task["task_id"]]
