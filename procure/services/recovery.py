"""Pending work, read from the database (the source of truth) so nothing is lost on a crash.

If a process stops between a commit and the message that should follow it, the work is still
visible in the documents' states; ``pending_work`` lists it and the runtime sends it again.
Every actor is idempotent, so sending twice is harmless, but not free: a message sent again for
work still queued behind a backlog is a duplicate the workers must read. So:

- A worker's start-up sends everything pending (``quiet_for_seconds=0``, no ``limit``).
- The periodic sweep (``reconcile``) lists only work that has been quiet for
  ``quiet_for_seconds``: a requisition by its ``updated_at``; an accepted, undecided invoice by
  when it was stored (``received_at``, the only change it sees before matching decides it); a
  purchase order to re-match by its waiting invoices' ``updated_at`` *and* its latest goods
  receipt (a receipt just recorded has its own message on the way).
- It lists at most ``limit`` items of each kind, the oldest first (ties by id), and says so in
  ``capped``; the runtime sends invoice ids in batches, as ``match_invoices`` takes them.

Guarantee: nothing is lost. Work is listed from the documents' states until it moves on, so
whatever a capped sweep leaves out is listed by a later one, once the older items ahead of it
have moved on. A sweep re-sends at most ``limit`` items of each kind, however large the backlog.
(An item that never moves on, because its actor fails every time, keeps its place at the front.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select
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
    capped: bool = False
    """Some kind had more than the limit: a later sweep lists the rest."""

    @property
    def total(self) -> int:
        return (
            len(self.to_route)
            + len(self.to_advance)
            + len(self.to_order)
            + len(self.to_match)
            + len(self.to_rematch)
        )


def pending_work(
    ctx: ServiceContext, *, quiet_for_seconds: int = 0, limit: int | None = None
) -> PendingWork:
    """Work not progressed for ``quiet_for_seconds`` (0: all of it, as at a worker's start), the
    oldest first, at most ``limit`` items of each kind (``None``: no limit)."""
    before = ctx.clock() - timedelta(seconds=quiet_for_seconds)
    R, T, D = t.RequisitionRow, t.ApprovalTaskRow, t.InvoiceDocumentRow  # noqa: N806 - aliases
    work = PendingWork()
    quiet_requisitions = select(col(R.id)).where(col(R.updated_at) <= before)
    open_task = exists().where(col(T.requisition_id) == col(R.id), col(T.state) == "open")
    decided = exists().where(col(t.InvoiceMatchRow.invoice_id) == col(D.id))
    with ctx.db.reading() as s:
        work.to_route = _oldest(
            s,
            work,
            quiet_requisitions.where(col(R.approval_state) == ApprovalState.SUBMITTED.value),
            (col(R.updated_at), col(R.id)),
            limit,
        )
        work.to_advance = _oldest(
            s,
            work,
            quiet_requisitions.where(
                col(R.approval_state) == ApprovalState.PENDING_APPROVAL.value, ~open_task
            ),
            (col(R.updated_at), col(R.id)),
            limit,
        )
        work.to_order = _oldest(
            s,
            work,
            quiet_requisitions.where(
                col(R.approval_state) == ApprovalState.APPROVED.value,
                col(R.order_state) == OrderState.NOT_ORDERED.value,
                col(R.supplier_id).is_not(None),
            ),
            (col(R.updated_at), col(R.id)),
            limit,
        )
        work.to_match = _oldest(
            s,
            work,
            select(col(D.id)).where(
                col(D.status) == "accepted", col(D.received_at) <= before, ~decided
            ),
            (col(D.received_at), col(D.id)),
            limit,
        )
        work.to_rematch = _capped(work, _orders_with_news_for_waiting_invoices(s, before), limit)
    return work


def _oldest(
    s: Session, work: PendingWork, query: Select[Any], order: Sequence[Any], limit: int | None
) -> list[str]:
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit + 1)  # one more, to know whether the kind was capped
    return _capped(work, [str(x) for x in s.scalars(query)], limit)


def _capped(work: PendingWork, ids: list[str], limit: int | None) -> list[str]:
    if limit is None or len(ids) <= limit:
        return ids
    work.capped = True
    return ids[:limit]


def _orders_with_news_for_waiting_invoices(s: Session, before: datetime) -> list[str]:
    """Orders whose latest goods receipt (itself quiet since ``before``) came after one of their
    invoices started waiting (quiet too), the oldest receipt first."""
    W, PO, GR = t.InvoiceMatchRow, t.PurchaseOrderRow, t.GoodsReceiptRow  # noqa: N806
    waiting = s.execute(
        select(col(W.po_numbers), col(W.updated_at)).where(
            col(W.state) == "waiting", col(W.updated_at) <= before
        )
    )
    since: dict[str, datetime] = {}
    for po_numbers, updated_at in waiting:
        at = _aware(updated_at)
        for number in po_numbers or []:
            since[number] = min(since.get(number, at), at)
    if not since:
        return []
    rows = s.execute(
        select(col(PO.id), col(PO.number), func.max(col(GR.recorded_at)))
        .join(GR, col(GR.purchase_order_id) == col(PO.id))
        .where(col(PO.number).in_(sorted(since)))
        .group_by(col(PO.id), col(PO.number))
    )
    news = [
        (_aware(last), str(po_id))
        for po_id, number, last in rows
        if last is not None and since[number] < _aware(last) <= before
    ]
    return [po_id for _, po_id in sorted(news)]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
