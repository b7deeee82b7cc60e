"""Approval services: route submitted requisitions, act on tasks, advance chains, escalate.

Each public function is one transaction and safe to run twice: it locks the requisition row,
re-reads its state and does nothing when the work is already done. Segregation of duties is
checked here, on the server, whatever the entry point (CLI, API, worker).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from procure.domain import events as ev
from procure.domain.approval import ApprovalTask, Decision, TaskState
from procure.domain.calendar import is_overdue, uk_date
from procure.domain.events import Event
from procure.domain.policy import RelatedSpend, Route, RoutingRequest, route
from procure.domain.reference import ReferenceData
from procure.domain.requisition import ApprovalState, Requisition
from procure.domain.segregation import check_can_decide, eligible_substitute
from procure.errors import ConfigurationError, InvalidTransition, NotAllowed
from procure.services import matching
from procure.services.context import ServiceContext, UnitOfWork
from procure.store import repository as repo


def route_to_json(r: Route, numbers: dict[str, str] | None = None) -> dict[str, Any]:
    """The route as stored on the requisition; requisition ids shown as their numbers."""
    numbers = numbers or {}

    def readable(text: str) -> str:
        for rid in r.aggregated_with:
            if rid in text and rid in numbers:
                text = text.replace(rid, numbers[rid])
        return text

    return {
        "band": r.band.name,
        "amount": str(r.amount),
        "band_amount": str(r.band_amount),
        "aggregated_with": [numbers.get(x, x) for x in r.aggregated_with],
        "quotes_required": r.band.quotes_required,
        "notes": [readable(n) for n in r.notes],
        "steps": [
            {
                "step_no": s.step_no,
                "approver": s.approver_id,
                "role": s.role,
                "reason": s.reason,
                "required_limit": None if s.required_limit is None else str(s.required_limit),
                "delegated_from": s.delegated_from,
            }
            for s in r.steps
        ],
    }


def route_requisitions(ctx: ServiceContext, ids: Sequence[str]) -> int:
    """Route every still-submitted requisition among ``ids``; returns how many were routed.

    One transaction per batch: the requisitions are locked, related spend for anti-splitting is
    read in one query, and tasks, requisition updates and events are written in bulk.
    """
    now = ctx.clock()
    with ctx.unit() as u:
        reqs = [
            r
            for r in repo.get_requisitions(u.session, list(ids), for_update=True)
            if r.approval_state is ApprovalState.SUBMITTED
        ]
        if not reqs:
            return 0
        ref = ctx.reference(u.session)
        window = timedelta(days=ctx.policy.anti_splitting_window_days)
        pairs: set[tuple[str, str | None]] = {
            (r.requester_id, r.supplier_id) for r in reqs if r.supplier_id
        }
        since = min(r.submitted_at for r in reqs) - window - timedelta(days=1)
        related, numbers = repo.related_spend(u.session, pairs, since)
        by_pair: dict[tuple[str, str | None], list[RelatedSpend]] = defaultdict(list)
        for spend in related:
            by_pair[(spend.requester_id, spend.supplier_id)].append(spend)
        tasks: list[ApprovalTask] = []
        updates: list[tuple[Requisition, dict[str, Any] | None]] = []
        for req in reqs:
            request = RoutingRequest(
                requisition_id=req.id,
                requester_id=req.requester_id,
                cost_centre=req.cost_centre,
                supplier_id=req.supplier_id,
                net_total=req.net_total,
                categories=req.categories,
                submitted_on=uk_date(req.submitted_at),
                quotes_attached=req.quotes_attached,
            )
            try:
                the_route = route(
                    request, ref, ctx.policy, by_pair.get((req.requester_id, req.supplier_id), [])
                )
            except (NotAllowed, ConfigurationError) as exc:
                req.return_for_information(now, None, f"could not be routed: {exc.message}")
                updates.append((req, None))
                u.record(req)
                continue
            first = the_route.steps[0]
            task = _new_task(
                ctx,
                req,
                first.step_no,
                first.approver_id,
                first.role,
                first.reason,
                first.required_limit,
                now,
                delegated_from=first.delegated_from,
            )
            req.mark_routed(
                now,
                {
                    "band": the_route.band.name,
                    "steps": len(the_route.steps),
                    "band_amount": str(the_route.band_amount),
                },
            )
            updates.append((req, route_to_json(the_route, numbers)))
            tasks.append(task)
            u.record(req, task)
        repo.update_routed_requisitions(u.session, updates, at=now)
        repo.insert_tasks(u.session, tasks)
    return len(tasks)


def _new_task(
    ctx: ServiceContext,
    req: Requisition,
    step_no: int,
    assignee: str,
    role: str,
    reason: str,
    required_limit: Decimal | None,
    at: datetime,
    *,
    delegated_from: str | None = None,
    escalated_from: str | None = None,
) -> ApprovalTask:
    task = ApprovalTask(
        id=ctx.new_id(),
        requisition_id=req.id,
        requisition_version=req.version,
        step_no=step_no,
        assignee_id=assignee,
        role=role,
        reason=reason,
        created_at=at,
        required_limit=required_limit,
        delegated_from=delegated_from,
        escalated_from=escalated_from,
    )
    task.created()
    return task


def _approvers_in_chain(tasks: Sequence[ApprovalTask], version: int) -> set[str]:
    return {
        t.decided_by
        for t in tasks
        if t.requisition_version == version and t.state is TaskState.APPROVED and t.decided_by
    }


@dataclass(frozen=True)
class DecisionResult:
    task_id: str
    requisition_id: str
    requisition_number: str
    decision: str
    new_task_id: str | None = None


def decide(
    ctx: ServiceContext,
    task_id: str,
    *,
    by: str,
    decision: Decision,
    comment: str | None = None,
    delegate_to: str | None = None,
) -> DecisionResult:
    """An approver acts on a task. Refused attempts are themselves recorded in the audit trail."""
    try:
        return _decide(ctx, task_id, by, decision, comment, delegate_to)
    except NotAllowed as refused:
        _record_refusal(ctx, task_id, by, decision, refused)
        raise


def _decide(
    ctx: ServiceContext,
    task_id: str,
    by: str,
    decision: Decision,
    comment: str | None,
    delegate_to: str | None,
) -> DecisionResult:
    now = ctx.clock()
    with ctx.unit() as u:
        task = repo.get_task(u.session, task_id, for_update=True)
        if task.role == matching.REAPPROVAL_ROLE:  # an invoice variance back to the PO's approver
            if by != task.assignee_id:
                raise NotAllowed(
                    f"task {task.id} is assigned to {task.assignee_id}, not {by}",
                    code="not_assignee",
                )
            req_id, number = matching.decide_reapproval(
                ctx, u, task, by=by, decision=decision, comment=comment
            )
            return DecisionResult(task.id, req_id, number, decision.value)
        [req] = repo.get_requisitions(u.session, [task.requisition_id], for_update=True)
        ref = ctx.reference(u.session)
        if by == req.requester_id:
            raise NotAllowed(
                f"{by} raised {req.number} and may not act on its approval", code="self_approval"
            )
        if not task.is_open:
            raise InvalidTransition(f"task {task.id} is already {task.state.value}")
        if task.requisition_version != req.version or req.approval_state is not (
            ApprovalState.PENDING_APPROVAL
        ):
            raise InvalidTransition(f"task {task.id} belongs to an earlier version of {req.number}")
        if by != task.assignee_id:
            # Before the limit checks: someone else's task is refused as such, whatever their limit.
            raise NotAllowed(
                f"task {task.id} is assigned to {task.assignee_id}, not {by}", code="not_assignee"
            )
        tasks = repo.tasks_of_requisition(u.session, req.id)
        chain = _approvers_in_chain(tasks, req.version)
        new_task_id: str | None = None
        if decision is Decision.APPROVE:
            check_can_decide(by, task.required_limit, req.requester_id, chain, ref)
            task.decide(Decision.APPROVE, by=by, at=now, comment=comment)
        elif decision is Decision.REJECT:
            task.decide(Decision.REJECT, by=by, at=now, comment=comment)
            req.reject(now, by, (comment or "").strip())
        elif decision is Decision.RETURN:
            task.decide(Decision.RETURN, by=by, at=now, comment=comment)
            req.return_for_information(now, by, (comment or "").strip())
        else:
            new_task_id = _delegate(ctx, u, req, task, ref, by, delegate_to, comment, chain, now)
        repo.update_task(u.session, task)
        repo.update_requisition(u.session, req, at=now)
        u.record(task, req)
        return DecisionResult(task.id, req.id, req.number, decision.value, new_task_id)


def _delegate(
    ctx: ServiceContext,
    u: UnitOfWork,
    req: Requisition,
    task: ApprovalTask,
    ref: ReferenceData,
    by: str,
    delegate_to: str | None,
    comment: str | None,
    chain: set[str],
    now: datetime,
) -> str:
    if not delegate_to:
        raise NotAllowed("say who the task is delegated to", code="delegate_missing")
    person = ref.people.get(delegate_to)
    if person is None or not person.active:
        raise NotAllowed(f"no active person '{delegate_to}'", code="unknown_delegate")
    if delegate_to == by:
        raise NotAllowed("a task cannot be delegated to its own assignee", code="self_delegate")
    check_can_decide(delegate_to, task.required_limit, req.requester_id, chain, ref)
    reason = (comment or "").strip() or "delegated by the approver"
    task.delegate_to(delegate_to, by=by, at=now, reason=reason)
    new = _new_task(
        ctx,
        req,
        task.step_no,
        delegate_to,
        task.role,
        f"{task.reason}; delegated by {by}: {reason}",
        task.required_limit,
        now,
        delegated_from=by,
    )
    repo.insert_tasks(u.session, [new])
    u.record(new)
    return new.id


def _record_refusal(
    ctx: ServiceContext, task_id: str, by: str, decision: Decision, refused: NotAllowed
) -> None:
    with ctx.unit() as u:
        u.record(
            Event(
                name=ev.DECISION_REFUSED,
                entity_type="approval_task",
                entity_id=task_id,
                occurred_at=ctx.clock(),
                actor_id=by,
                data={"decision": decision.value, "code": refused.code, "why": refused.message},
            )
        )


def advance_requisition(ctx: ServiceContext, requisition_id: str) -> str:
    """Move an approval chain on after a decision: next step's task, or final approval."""
    now = ctx.clock()
    with ctx.unit() as u:
        found = repo.get_requisitions(u.session, [requisition_id], for_update=True)
        if not found:
            return "nothing_to_do"
        [req] = found
        if req.approval_state is not ApprovalState.PENDING_APPROVAL:
            return "nothing_to_do"
        tasks = [
            t
            for t in repo.tasks_of_requisition(u.session, req.id)
            if t.requisition_version == req.version
        ]
        current = [t for t in tasks if t.step_no == req.current_step]
        if not current or any(t.is_open for t in current):
            return "waiting"
        if not any(t.state is TaskState.APPROVED for t in current):
            return "nothing_to_do"
        stored = repo.requisition_route(u.session, req.id) or {}
        steps = stored.get("steps", [])
        if req.current_step >= len(steps):
            final = next(t for t in current if t.state is TaskState.APPROVED)
            req.approve(now, final.decided_by or final.assignee_id)
            repo.update_requisition(u.session, req, at=now)
            u.record(req)
            return "approved"
        ref = ctx.reference(u.session)
        step = steps[req.current_step]
        assignee, reason, delegated_from = _assignee_on(
            ref, step, req.requester_id, _approvers_in_chain(tasks, req.version), uk_date(now)
        )
        limit = None if step["required_limit"] is None else Decimal(step["required_limit"])
        task = _new_task(
            ctx,
            req,
            step["step_no"],
            assignee,
            step["role"],
            reason,
            limit,
            now,
            delegated_from=delegated_from,
        )
        req.advance(now, step["step_no"])
        repo.insert_tasks(u.session, [task])
        repo.update_requisition(u.session, req, at=now)
        u.record(task)
        return "next_step"


def _assignee_on(
    ref: ReferenceData, step: dict[str, Any], requester: str, chain: set[str], on: date
) -> tuple[str, str, str | None]:
    """The step's approver, or their delegate if they are away on ``on`` and the delegate may act.

    Absence is judged on the day the step is reached, not the day the route was drawn: a step
    routed to a delegate goes back to its approver once they have returned.
    """
    limit = None if step["required_limit"] is None else Decimal(step["required_limit"])
    routed_to, reason = step["approver"], step["reason"]
    approver = step.get("delegated_from") or routed_to
    delegation = ref.delegate_for(approver, on)
    if approver != routed_to:
        if delegation is not None and delegation.delegate_id == routed_to:
            return routed_to, reason, approver  # still away: the route's delegation stands
        try:
            check_can_decide(approver, limit, requester, chain, ref)
        except NotAllowed:
            return routed_to, reason, approver
        head, found, _ = reason.rpartition(f"; delegated to {routed_to} while {approver} is away")
        reason = head if found else reason
    if delegation is None:
        return approver, reason, None
    try:
        check_can_decide(delegation.delegate_id, limit, requester, chain, ref)
    except NotAllowed:
        return approver, reason, None
    return (
        delegation.delegate_id,
        f"{reason}; delegated to {delegation.delegate_id} while {approver} is away "
        f"({delegation.starts.isoformat()} to {delegation.ends.isoformat()}: {delegation.reason})",
        approver,
    )


def escalate_overdue(ctx: ServiceContext, today: date | None = None) -> list[str]:
    """Reassign every task open for N UK working days to the assignee's line manager."""
    now = ctx.clock()
    today = today or uk_date(now)
    escalated: list[str] = []
    days = ctx.policy.escalation_working_days
    with ctx.unit() as u:
        candidates = [
            t
            for t in repo.tasks_with_state(u.session, TaskState.OPEN)
            if is_overdue(uk_date(t.created_at), today, days, ctx.calendar)
        ]
        if not candidates:
            return []
        ref = ctx.reference(u.session)
        for task in candidates:
            task = repo.get_task(u.session, task.id, for_update=True)
            if not task.is_open:
                continue
            [req] = repo.get_requisitions(u.session, [task.requisition_id], for_update=True)
            tasks = repo.tasks_of_requisition(u.session, req.id)
            exclude = _approvers_in_chain(tasks, req.version) | {task.assignee_id}
            try:
                manager, reasons = eligible_substitute(
                    task.assignee_id,
                    ref,
                    requester_id=req.requester_id,
                    exclude=exclude,
                    required_limit=task.required_limit,
                    on=today,
                )
            except NotAllowed:
                continue  # nobody above: it stays where it is, still visible as overdue
            # Overdue from the N-th working day after creation, not from the day it was created.
            overdue_since = ctx.calendar.add_working_days(uk_date(task.created_at), days)
            task.escalate(manager, at=now, overdue_since=overdue_since, reasons=reasons)
            new = _new_task(
                ctx,
                req,
                task.step_no,
                manager,
                task.role,
                f"{task.reason}; escalated from {task.assignee_id}: open more than "
                f"{days} working days",
                task.required_limit,
                now,
                escalated_from=task.id,
            )
            repo.update_task(u.session, task)
            repo.insert_tasks(u.session, [new])
            u.record(task, new)
            escalated.append(task.id)
    return escalated


def cancel_open_tasks(u: UnitOfWork, req: Requisition, at: datetime, why: str) -> None:
    for task in repo.tasks_of_requisition(u.session, req.id):
        if task.is_open:
            task.cancel(at=at, why=why)
            repo.update_task(u.session, task)
            u.record(task)
