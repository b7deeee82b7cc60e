"""Requisition services: submit (one or a batch), amend and re-route, withdraw.

A submission is validated against the reference data as a whole; nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Sequence

from procure.domain.reference import Role
from procure.domain.requisition import Requisition, RequisitionDraft
from procure.errors import NotAllowed
from procure.services.approvals import cancel_open_tasks
from procure.services.context import ServiceContext
from procure.store import repository as repo


def submit(ctx: ServiceContext, draft: RequisitionDraft) -> Requisition:
    [req] = submit_many(ctx, [draft])
    return req


def submit_many(ctx: ServiceContext, drafts: Sequence[RequisitionDraft]) -> list[Requisition]:
    """Validate and store a batch in one transaction; routing follows on the event."""
    now = ctx.clock()
    with ctx.unit() as u:
        ref = ctx.reference(u.session)
        numbers = repo.next_numbers(u.session, "REQ", now.year, len(drafts))
        reqs = [
            Requisition.submit(
                d, ref, id=ctx.new_id(), number=repo.format_number("REQ", now.year, n), at=now
            )
            for d, n in zip(drafts, numbers, strict=True)
        ]
        repo.insert_requisitions(u.session, reqs)
        u.record(*reqs)
    return reqs


def amend(ctx: ServiceContext, key: str, draft: RequisitionDraft, *, by: str) -> Requisition:
    """The requester changes a returned (or still pending) requisition; it is routed afresh."""
    now = ctx.clock()
    with ctx.unit() as u:
        req = repo.get_requisition(u.session, key, for_update=True)
        ref = ctx.reference(u.session)
        req.amend(draft, ref, at=now, actor_id=by)
        cancel_open_tasks(u, req, now, f"{req.number} was amended (version {req.version})")
        repo.update_requisition(u.session, req, at=now, route={}, replace_lines=True)
        u.record(req)
    return req


def withdraw(ctx: ServiceContext, key: str, *, by: str) -> Requisition:
    now = ctx.clock()
    with ctx.unit() as u:
        req = repo.get_requisition(u.session, key, for_update=True)
        req.withdraw(now, by)
        cancel_open_tasks(u, req, now, f"{req.number} was withdrawn by the requester")
        repo.update_requisition(u.session, req, at=now)
        u.record(req)
    return req


def choose_supplier(ctx: ServiceContext, key: str, supplier_id: str, *, by: str) -> Requisition:
    """Procurement chooses the supplier for a requisition that only suggested one; an approved
    requisition then gets its purchase order."""
    now = ctx.clock()
    with ctx.unit() as u:
        ref = ctx.reference(u.session)
        person = ref.people.get(by)
        if person is None or not (person.has_role(Role.PROCUREMENT) or person.has_role(Role.ADMIN)):
            raise NotAllowed(
                f"{by} may not choose suppliers: procurement only", code="not_procurement"
            )
        req = repo.get_requisition(u.session, key, for_update=True)
        req.choose_supplier(supplier_id, ref, at=now, by=by)
        repo.update_requisition(u.session, req, at=now)
        u.record(req)
    return req
