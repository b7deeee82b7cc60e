"""Purchase order services: issue the order on final approval; record goods receipts and returns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from procure.domain import events as ev
from procure.domain.calendar import uk_date
from procure.domain.events import Event
from procure.domain.order import GoodsReceipt, PurchaseOrder, ReceiptLine
from procure.domain.reference import Role
from procure.domain.requisition import ApprovalState, OrderState
from procure.errors import NotAllowed
from procure.services.context import ServiceContext
from procure.store import repository as repo


def issue_purchase_order(ctx: ServiceContext, requisition_id: str) -> PurchaseOrder | None:
    """Issue the PO for an approved requisition; does nothing if it exists or is not due."""
    now = ctx.clock()
    with ctx.unit() as u:
        reqs = repo.get_requisitions(u.session, [requisition_id], for_update=True)
        if not reqs:
            return None
        req = reqs[0]
        if req.approval_state is not ApprovalState.APPROVED:
            return None
        if req.order_state is OrderState.ORDERED or repo.order_exists_for(u.session, req.id):
            return None
        if req.supplier_id is None:
            u.record(
                Event(
                    name=ev.PURCHASE_ORDER_ON_HOLD,
                    entity_type="requisition",
                    entity_id=req.id,
                    occurred_at=now,
                    data={"why": "no supplier chosen", "suggested": req.suggested_supplier},
                )
            )
            return None
        [n] = repo.next_numbers(u.session, "PO", now.year)
        po = PurchaseOrder.issue_for(
            req, id=ctx.new_id(), number=repo.format_number("PO", now.year, n), at=now
        )
        req.mark_ordered(now, po.number)
        repo.insert_order(u.session, po)
        repo.update_requisition(u.session, req, at=now)
        u.record(po, req)
    return po


def record_receipt(
    ctx: ServiceContext,
    po_key: str,
    lines: Sequence[tuple[int, object]],
    *,
    by: str,
    received_on: date | None = None,
    note: str = "",
    is_return: bool = False,
) -> GoodsReceipt:
    """Record a delivery (or a return, with negative quantities) against a purchase order."""
    now = ctx.clock()
    with ctx.unit() as u:
        po = repo.get_order(u.session, po_key, for_update=True)
        ref = ctx.reference(u.session)
        person = ref.people.get(by)
        if person is None or not (
            by == po.requester_id or person.has_role(Role.RECEIVER) or person.has_role(Role.ADMIN)
        ):
            raise NotAllowed(
                f"{by} may not record receipts for {po.number}: only its requester or a "
                "receiver can",
                code="not_receiver",
            )
        prefix = "GRT" if is_return else "GRN"
        [n] = repo.next_numbers(u.session, prefix, now.year)
        receipt = GoodsReceipt(
            id=ctx.new_id(),
            number=repo.format_number(prefix, now.year, n),
            purchase_order_id=po.id,
            received_on=received_on or uk_date(now),
            recorded_at=now,
            recorded_by=by,
            lines=tuple(ReceiptLine(po_line_no=ln, quantity=Decimal(str(q))) for ln, q in lines),
            note=note,
            is_return=is_return,
        )
        po.receive(receipt, allowance_percent=ctx.policy.over_receipt_allowance_percent)
        repo.save_receipt(u.session, po, receipt)
        u.record(po)
    return receipt
