"""Pending work, read from the database (the source of truth) so nothing is lost on a crash.

If a process stops between a commit and the message that should follow it, the work is still
visible in the documents' states; ``pending_work`` lists it and the runtime sends it again.
Every actor is idempotent, so sending twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from procure.domain.requisition import ApprovalState, OrderState
from procure.services.context import ServiceContext
from procure.store import tables as t


@dataclass
class PendingWork:
    to_route: list[str] = field(default_factory=list)
    to_advance: list[str] = field(default_factory=list)
    to_order: list[str] = field(default_factory=list)
    to_match: list[str] = field(default_factory=list)
    """Accepted invoices that matching has not decided yet."""
    to_rematch: list[str] = field(default_factory=list)
    """Purchase orders with goods received after an invoice started waiting for them."""

    @property
    def total(self) -> int:
        return (
            len(self.to_route)
            + len(self.to_advance)
            + len(self.to_order)
            + len(self.to_match)
            + len(self.to_rematch)
        )


def pending_work(ctx: ServiceContext, *, quiet_for_seconds: int = 0) -> PendingWork:
    """Work not progressed for ``quiet_for_seconds`` (0: all of it, as at a worker's start)."""
    before = ctx.clock() - timedelta(seconds=quiet_for_seconds)
    R, T = t.RequisitionRow, t.ApprovalTaskRow  # noqa: N806 - table aliases
    with ctx.db.reading() as s:
        to_route = list(
            s.scalars(
                select(col(R.id)).where(
                    col(R.approval_state) == ApprovalState.SUBMITTED.value,
                    col(R.updated_at) <= before,
                )
            )
        )
        open_reqs = select(col(T.requisition_id)).where(col(T.state) == "open")
        to_advance = list(
            s.scalars(
                select(col(R.id)).where(
                    col(R.approval_state) == ApprovalState.PENDING_APPROVAL.value,
                    col(R.updated_at) <= before,
                    col(R.id).not_in(open_reqs),
                )
            )
        )
        to_order = list(
            s.scalars(
                select(col(R.id)).where(
                    col(R.approval_state) == ApprovalState.APPROVED.value,
                    col(R.order_state) == OrderState.NOT_ORDERED.value,
                    col(R.supplier_id).is_not(None),
                    col(R.updated_at) <= before,
                )
            )
        )
        D = t.InvoiceDocumentRow  # noqa: N806 - table alias
        decided = select(col(t.InvoiceMatchRow.invoice_id))
        to_match = list(
            s.scalars(
                select(col(D.id))
                .where(
                    col(D.status) == "accepted",
                    col(D.received_at) <= before,
                    col(D.id).not_in(decided),
                )
                .order_by(col(D.received_at))
            )
        )
        to_rematch = _orders_with_news_for_waiting_invoices(s, before)
    return PendingWork(to_route, to_advance, to_order, to_match, to_rematch)


def _orders_with_news_for_waiting_invoices(s: Session, before: datetime) -> list[str]:
    W, PO, GR = t.InvoiceMatchRow, t.PurchaseOrderRow, t.GoodsReceiptRow  # noqa: N806
    waiting = list(
        s.scalars(select(W).where(col(W.state) == "waiting", col(W.updated_at) <= before))
    )
    since: dict[str, datetime] = {}
    for w in waiting:
        for number in w.po_numbers or []:
            since[number] = min(since.get(number, w.updated_at), w.updated_at)
    if not since:
        return []
    rows = s.execute(
        select(col(PO.id), col(PO.number), func.max(col(GR.recorded_at)))
        .join(GR, col(GR.purchase_order_id) == col(PO.id))
        .where(col(PO.number).in_(sorted(since)))
        .group_by(col(PO.id), col(PO.number))
    )
    return sorted(
        po_id for po_id, number, last in rows if last is not None and _aware(last) > since[number]
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
