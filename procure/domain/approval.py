"""Approval tasks: the queued work items approvers act on, one per route step.

Imports: the standard library and ``procure.domain`` / ``procure.errors`` only.

A task is open until its assignee approves, rejects (reason required), returns it for
information (question required) or delegates it; an overdue task is escalated to the assignee's
line manager; amending or withdrawing the requisition cancels its open tasks. Each of these is a
transition in ``TASK_TRANSITIONS`` and an event in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from procure.domain import events as ev
from procure.domain.events import Event
from procure.domain.workflow import next_state
from procure.errors import FieldProblem, NotAllowed, ValidationFailed


class TaskState(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"
    DELEGATED = "delegated"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"
    DELEGATE = "delegate"


T = TaskState
TASK_TRANSITIONS: dict[tuple[TaskState, str], TaskState] = {
    (T.OPEN, "approve"): T.APPROVED,
    (T.OPEN, "reject"): T.REJECTED,
    (T.OPEN, "return"): T.RETURNED,
    (T.OPEN, "delegate"): T.DELEGATED,
    (T.OPEN, "escalate"): T.ESCALATED,
    (T.OPEN, "cancel"): T.CANCELLED,
}


@dataclass
class ApprovalTask:
    id: str
    requisition_id: str
    requisition_version: int
    step_no: int
    assignee_id: str
    role: str
    reason: str
    created_at: datetime
    required_limit: Decimal | None = None
    state: TaskState = TaskState.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    delegated_from: str | None = None
    escalated_from: str | None = None
    pending_events: list[Event] = field(default_factory=list, repr=False)

    @property
    def is_open(self) -> bool:
        return self.state is TaskState.OPEN

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state.value, "assignee": self.assignee_id}

    def created(self) -> None:
        self._record(
            ev.TASK_CREATED,
            self.created_at,
            None,
            None,
            {
                "requisition_id": self.requisition_id,
                "step_no": self.step_no,
                "role": self.role,
                "assignee": self.assignee_id,
                "reason": self.reason,
                "delegated_from": self.delegated_from,
                "escalated_from": self.escalated_from,
            },
        )

    def decide(
        self, decision: Decision, *, by: str, at: datetime, comment: str | None = None
    ) -> None:
        """Approve, reject or return. Only the assignee decides; reasons are required."""
        if by != self.assignee_id:
            raise NotAllowed(
                f"task {self.id} is assigned to {self.assignee_id}, not {by}", code="not_assignee"
            )
        text = (comment or "").strip()
        if decision is Decision.REJECT and not text:
            raise ValidationFailed(
                [FieldProblem("reason", "missing", "a rejection needs a reason")], what="decision"
            )
        if decision is Decision.RETURN and not text:
            raise ValidationFailed(
                [FieldProblem("reason", "missing", "say what information is needed")],
                what="decision",
            )
        if decision is Decision.DELEGATE:
            raise ValueError("use delegate_to() for delegation")
        self._move(decision.value, by, at, {"decision": decision.value, "comment": text or None})
        self.comment = text or None

    def delegate_to(self, delegate_id: str, *, by: str, at: datetime, reason: str) -> None:
        if by != self.assignee_id:
            raise NotAllowed(
                f"task {self.id} is assigned to {self.assignee_id}, not {by}", code="not_assignee"
            )
        self._move(
            "delegate", by, at, {"delegate": delegate_id, "reason": reason}, ev.TASK_DELEGATED
        )

    def escalate(self, to: str, *, at: datetime, overdue_since: date, reasons: list[str]) -> None:
        self._move(
            "escalate",
            None,
            at,
            {"to": to, "overdue_since": overdue_since.isoformat(), "reasons": reasons},
            ev.TASK_ESCALATED,
        )

    def cancel(self, *, at: datetime, why: str) -> None:
        self._move("cancel", None, at, {"why": why}, ev.TASK_CANCELLED)

    def _move(
        self,
        action: str,
        by: str | None,
        at: datetime,
        data: dict[str, Any],
        event_name: str = ev.TASK_DECIDED,
    ) -> None:
        before = self.snapshot()
        self.state = next_state(TASK_TRANSITIONS, self.state, action, f"task {self.id}")
        self.decided_by = by
        self.decided_at = at
        self._record(event_name, at, by, before, {"requisition_id": self.requisition_id, **data})

    def _record(
        self,
        name: str,
        at: datetime,
        actor_id: str | None,
        before: dict[str, Any] | None,
        data: dict[str, Any],
    ) -> None:
        self.pending_events.append(
            Event(
                name=name,
                entity_type="approval_task",
                entity_id=self.id,
                occurred_at=at,
                actor_id=actor_id,
                before=before,
                after=self.snapshot(),
                data=data,
            )
        )
