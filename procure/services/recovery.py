"""Pending work, read from the database (the source of truth) so nothing is lost on a crash.

If a process stops between a commit and the message that should follow it, the work is still
visible in the documents' states; ``pending_work`` lists it and the runtime sends it again.
Every actor is idempotent, so sending twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
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

    @property
    def total(self) -> int:
        return len(self.to_route) + len(self.to_advance) + len(self.to_order) + len(self.to_match)


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
    return PendingWork(to_route, to_advance, to_order, to_match)
