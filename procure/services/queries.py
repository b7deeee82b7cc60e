"""Read models: what requisitioners, approvers and buyers see (JSON-ready dicts).

A requisitioner follows progress without asking anyone: the status view says who has it now,
since when, when it escalates, why each approver is on the route, and every event so far.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from procure.domain import events as ev
from procure.domain.approval import TaskState
from procure.domain.calendar import uk_date
from procure.domain.money import ZERO, money, vat_on
from procure.domain.reference import ReferenceData, Role
from procure.errors import NotAllowed
from procure.services.context import ServiceContext
from procure.store import repository as repo
from procure.store import tables as t

SEE_EVERYTHING = {Role.FINANCE, Role.PROCUREMENT, Role.ADMIN}


def _name(ref: ReferenceData, person_id: str | None) -> str | None:
    if person_id is None:
        return None
    p = ref.people.get(person_id)
    return f"{p.name} ({person_id})" if p else person_id


def describe(e: t.AuditEventRow, ref: ReferenceData) -> str:
    d = e.data or {}
    who = _name(ref, e.actor_id)
    match e.event_name:
        case ev.REQUISITION_SUBMITTED:
            return f"submitted by {who}: {d.get('lines')} line(s), net £{d.get('net_total')}"
        case ev.REQUISITION_ROUTED:
            return f"routed: band '{d.get('band')}', {d.get('steps')} approval step(s)"
        case ev.TASK_CREATED:
            who_next = _name(ref, d.get("assignee"))
            return f"step {d.get('step_no')} waiting on {who_next}: {d.get('reason')}"
        case ev.TASK_DECIDED:
            c = f" — “{d['comment']}”" if d.get("comment") else ""
            return f"{who} decided: {d.get('decision')}{c}"
        case ev.TASK_DELEGATED:
            return f"{who} delegated the task to {_name(ref, d.get('delegate'))}: {d.get('reason')}"
        case ev.TASK_ESCALATED:
            return f"task overdue since {d.get('overdue_since')}: escalated to {_name(ref, d.get('to'))}"
        case ev.TASK_CANCELLED:
            return f"task cancelled: {d.get('why')}"
        case ev.DECISION_REFUSED:
            return f"refused {who}'s attempt to {d.get('decision')}: {d.get('why')}"
        case ev.REQUISITION_APPROVED:
            return f"approved (final approval by {who})"
        case ev.REQUISITION_REJECTED:
            return f"rejected by {who}: {d.get('reason')}"
        case ev.REQUISITION_RETURNED:
            return f"returned for information{(' by ' + who) if who else ''}: {d.get('question')}"
        case ev.REQUISITION_AMENDED:
            return f"amended by {who}: net £{d.get('old_net_total')} → £{d.get('new_net_total')}"
        case ev.SUPPLIER_CHOSEN:
            return f"supplier {d.get('supplier')} chosen by {who} (suggested: {d.get('suggested')})"
        case ev.PURCHASE_ORDER_ON_HOLD:
            return f"purchase order on hold: {d.get('why')}"
        case ev.REQUISITION_WITHDRAWN:
            return f"withdrawn by {who}"
        case ev.PURCHASE_ORDER_ISSUED:
            supplier = ref.suppliers.get(str(d.get("supplier_id")))
            to = f" to {supplier.name}" if supplier else ""
            return f"purchase order {d.get('number')} issued{to}, net £{d.get('net_total')}"
        case ev.REQUISITION_ORDERED:
            return f"requisition ordered on {d.get('purchase_order')}"
        case ev.GOODS_RECEIVED:
            return f"goods received ({d.get('receipt')}) recorded by {who}"
        case ev.GOODS_RETURNED:
            return f"goods returned ({d.get('receipt')}) recorded by {who}"
        case _:
            return e.event_name


def may_view(ref: ReferenceData, viewer: str, requester: str, task_assignees: set[str]) -> bool:
    person = ref.people.get(viewer)
    if person is None:
        return False
    if viewer == requester or viewer in task_assignees:
        return True
    return any(person.has_role(r) for r in SEE_EVERYTHING)


def requisition_status(
    ctx: ServiceContext, key: str, *, viewer: str | None = None
) -> dict[str, Any]:
    with ctx.db.reading() as s:
        row = repo.find_requisition_row(s, key)
        [req] = repo.get_requisitions(s, [row.id])
        ref = ctx.reference(s)
        tasks = repo.tasks_of_requisition(s, req.id)
        if viewer is not None and not may_view(
            ref, viewer, req.requester_id, {x.assignee_id for x in tasks}
        ):
            raise NotAllowed(f"{viewer} may not see {req.number}", code="not_your_requisition")
        po = None
        entity_ids = [req.id, *(x.id for x in tasks)]
        if req.purchase_order_number:
            order = repo.get_order(s, req.purchase_order_number)
            po = {
                "number": order.number,
                "receipt_state": order.receipt_state.value,
                "status": order.status.value,
            }
            entity_ids.append(order.id)
        events = repo.events_for(s, entity_ids)
    vat = sum(
        (
            vat_on(ln.net, ref.vat_codes[ln.vat_code].rate)
            for ln in req.lines
            if ln.vat_code in ref.vat_codes
        ),
        ZERO,
    )
    waiting = [x for x in tasks if x.is_open]
    waiting_on = None
    if waiting:
        w = waiting[-1]
        escalates_on = ctx.calendar.add_working_days(
            uk_date(w.created_at), ctx.policy.escalation_working_days
        )
        waiting_on = {
            "task_id": w.id,
            "step_no": w.step_no,
            "assignee": w.assignee_id,
            "assignee_name": _name(ref, w.assignee_id),
            "role": w.role,
            "since": w.created_at.isoformat(timespec="seconds"),
            "escalates_on": escalates_on.isoformat(),
            "reason": w.reason,
        }
    return {
        "id": req.id,
        "number": req.number,
        "version": req.version,
        "requester": req.requester_id,
        "requester_name": _name(ref, req.requester_id),
        "cost_centre": req.cost_centre,
        "supplier": req.supplier_id,
        "suggested_supplier": req.suggested_supplier,
        "need_by": req.need_by.isoformat(),
        "justification": req.justification,
        "approval_state": req.approval_state.value,
        "order_state": req.order_state.value,
        "net_total": str(req.net_total),
        "vat_total": str(money(vat)),
        "gross_total": str(money(req.net_total + vat)),
        "lines": [
            {
                "line_no": ln.line_no,
                "description": ln.description,
                "quantity": str(ln.quantity),
                "unit_code": ln.unit_code,
                "unit_price": str(ln.unit_price),
                "net": str(ln.net),
                "vat_code": ln.vat_code,
                "gl_code": ln.gl_code,
                "category": ln.category,
                "receipt_required": ln.needs_receipt,
            }
            for ln in req.lines
        ],
        "route": row.route or None,
        "waiting_on": waiting_on,
        "tasks": [
            {
                "task_id": x.id,
                "version": x.requisition_version,
                "step_no": x.step_no,
                "assignee": x.assignee_id,
                "role": x.role,
                "state": x.state.value,
                "decided_by": x.decided_by,
                "decided_at": x.decided_at.isoformat(timespec="seconds") if x.decided_at else None,
                "comment": x.comment,
                "delegated_from": x.delegated_from,
                "escalated_from": x.escalated_from,
            }
            for x in tasks
        ],
        "purchase_order": po,
        "timeline": [
            {
                "at": e.occurred_at.isoformat(timespec="seconds"),
                "event": e.event_name,
                "actor": e.actor_id,
                "summary": describe(e, ref),
            }
            for e in events
        ],
    }


def my_requisitions(ctx: ServiceContext, requester: str) -> list[dict[str, Any]]:
    with ctx.db.reading() as s:
        rows = repo.requisitions_of(s, requester)
        open_tasks = {
            x.requisition_id: x
            for x in repo.tasks_with_state(s, TaskState.OPEN, requisition_ids=[r.id for r in rows])
        }
    return [
        {
            "number": r.number,
            "id": r.id,
            "submitted_at": r.submitted_at.isoformat(timespec="seconds"),
            "net_total": str(r.net_total),
            "approval_state": r.approval_state,
            "order_state": r.order_state,
            "purchase_order": r.purchase_order_number,
            "waiting_on": open_tasks[r.id].assignee_id if r.id in open_tasks else None,
        }
        for r in rows
    ]


def inbox(ctx: ServiceContext, person: str, *, today: date | None = None) -> list[dict[str, Any]]:
    today = today or uk_date(ctx.clock())
    with ctx.db.reading() as s:
        tasks = repo.tasks_with_state(s, TaskState.OPEN, assignee_id=person)
        reqs = {r.id: r for r in repo.get_requisitions(s, [x.requisition_id for x in tasks])}
        ref = ctx.reference(s)
    out = []
    for x in tasks:
        r = reqs[x.requisition_id]
        escalates_on = ctx.calendar.add_working_days(
            uk_date(x.created_at), ctx.policy.escalation_working_days
        )
        out.append(
            {
                "task_id": x.id,
                "requisition": r.number,
                "requisition_id": r.id,
                "requester": r.requester_id,
                "requester_name": _name(ref, r.requester_id),
                "cost_centre": r.cost_centre,
                "supplier": r.supplier_id,
                "net_total": str(r.net_total),
                "step_no": x.step_no,
                "role": x.role,
                "reason": x.reason,
                "since": x.created_at.isoformat(timespec="seconds"),
                "escalates_on": escalates_on.isoformat(),
                "overdue": escalates_on <= today,
                "delegated_from": x.delegated_from,
                "escalated_from": x.escalated_from,
            }
        )
    return out


def order_view(ctx: ServiceContext, key: str, *, viewer: str | None = None) -> dict[str, Any]:
    with ctx.db.reading() as s:
        po = repo.get_order(s, key)
        ref = ctx.reference(s)
        receipts = repo.receipts_of(s, po.id)
    if viewer is not None:
        p = ref.people.get(viewer)
        if p is None or not (
            viewer == po.requester_id
            or p.has_role(Role.RECEIVER)
            or any(p.has_role(r) for r in SEE_EVERYTHING)
        ):
            raise NotAllowed(f"{viewer} may not see {po.number}", code="not_your_order")
    supplier = ref.suppliers.get(po.supplier_id)
    return {
        "number": po.number,
        "id": po.id,
        "requisition": po.requisition_number,
        "supplier": po.supplier_id,
        "supplier_name": supplier.name if supplier else None,
        "requester": po.requester_id,
        "cost_centre": po.cost_centre,
        "need_by": po.need_by.isoformat(),
        "issued_at": po.issued_at.isoformat(timespec="seconds"),
        "status": po.status.value,
        "receipt_state": po.receipt_state.value,
        "net_total": str(po.net_total),
        "lines": [
            {
                "line_no": ln.line_no,
                "description": ln.description,
                "quantity": str(ln.quantity),
                "unit_code": ln.unit_code,
                "unit_price": str(ln.unit_price),
                "net": str(ln.net),
                "vat_code": ln.vat_code,
                "gl_code": ln.gl_code,
                "category": ln.category,
                "receipt_required": ln.receipt_required,
                "matching": "3-way" if ln.receipt_required else "2-way",
                "received_quantity": str(ln.received_quantity),
                "outstanding": str(ln.outstanding),
            }
            for ln in po.lines
        ],
        "receipts": [
            {
                "number": r.number,
                "received_on": r.received_on.isoformat(),
                "recorded_by": r.recorded_by,
                "is_return": r.is_return,
                "note": r.note,
                "lines": [{"po_line": x.po_line_no, "quantity": str(x.quantity)} for x in lines],
            }
            for r, lines in receipts
        ],
    }
