"""Posting matched invoices to finance: the in-transaction handler and the acknowledgements.

``posting_handler(ctx)`` is subscribed to ``InvoiceMatched`` by the composition root. It runs in
the transaction that matched (or released) the invoice and writes the posting row and its outbox
row there: both commit, or neither does, with the match decision (the transactional outbox).
Nothing here talks to a broker; the relay (``procure.services.outbox``) publishes later.

``record_acknowledgements`` takes finance's answers: ``posted`` with the finance document number
or ``rejected`` with a reason (recorded as ``InvoicePostingRejected``, which matching turns into
an exception task). A repeated or late answer for a settled posting changes nothing; an answer
for a posting procure does not know is not recorded and is reported back to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from procure.domain import events as ev
from procure.domain import posting as rules
from procure.domain.distribution import DistributionLine
from procure.domain.events import Event
from procure.domain.reference import ReferenceData
from procure.einvoice.model import Invoice
from procure.messages import (
    Acknowledgement,
    ControlTotals,
    GLLine,
    PostingBody,
    PostingMessage,
    SupplierRef,
    amount,
    encode,
)
from procure.services.context import InTransactionHandler, ServiceContext, UnitOfWork
from procure.store import repository as repo
from procure.store import tables as t

log = logging.getLogger("procure.posting")

ROUTING_KEY = "ap.invoice.posting"
DEFAULT_PAYMENT_DAYS = 30
"""When an invoice states no due date (BT-9), the council's standard terms: 30 days."""


class CannotPost(Exception):
    """The invoice cannot be turned into a posting message (said in the rejection)."""


def idempotency_key(invoice_id: str, version: int) -> str:
    return f"ap.post:{invoice_id}:{version}"


@dataclass
class _Prefetched:
    """What the handler needs for every InvoiceMatched of one unit, read in two queries."""

    session: Session
    rows: dict[str, t.InvoiceDocumentRow]
    queued: set[str]
    reference: ReferenceData
    live: set[str]
    """Invoices with a posting that is not rejected: a later match version does not post again."""
    postings: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def write(self, session: Session) -> None:
        """Insert the unit's posting and outbox rows in two bulk statements (COPY on
        PostgreSQL), just before the unit commits: same transaction, no row-by-row ORM."""
        repo.bulk_insert(session, t.PostingRow, self.postings)
        repo.bulk_insert(session, t.OutboxRow, self.outbox)
        self.postings, self.outbox = [], []


_PREFETCH = "procure.posting.prefetch"


def posting_handler(ctx: ServiceContext) -> InTransactionHandler:
    """The ``InvoiceMatched`` handler: posting + outbox rows in the match's own transaction.

    On the first event of a unit it reads the invoices and existing postings of all the unit's
    matched invoices at once (a batch of matches costs two queries, not two per invoice). The
    prefetch is kept on the unit's session (one per transaction), never shared between the
    worker threads that use one context."""

    def handle(uow: UnitOfWork, event: Event) -> None:
        known: _Prefetched | None = uow.session.info.get(_PREFETCH)
        if known is None or event.entity_id not in known.rows:
            known = uow.session.info[_PREFETCH] = _prefetch(ctx, uow)
        queue_posting(ctx, uow, event, known)

    return handle


def _prefetch(ctx: ServiceContext, uow: UnitOfWork) -> _Prefetched:
    s = uow.session
    matched = [e for e in uow.events if e.name == ev.INVOICE_MATCHED]
    ids = sorted({e.entity_id for e in matched})
    keys = sorted({idempotency_key(e.entity_id, int(e.data.get("version", 1))) for e in matched})
    doc = t.InvoiceDocumentRow
    rows: dict[str, t.InvoiceDocumentRow] = {}
    for i in ids:  # rows the caller has loaded already are not read (nor JSON-decoded) again
        cached = s.identity_map.get(identity_key(doc, i))
        if isinstance(cached, doc):
            rows[i] = cached
    missing = [i for i in ids if i not in rows]
    if missing:
        rows.update((r.id, r) for r in s.scalars(select(doc).where(col(doc.id).in_(missing))))
    queued = set(
        s.scalars(
            select(col(t.PostingRow.idempotency_key)).where(
                col(t.PostingRow.idempotency_key).in_(keys)
            )
        )
    )
    live = set(
        s.scalars(
            select(col(t.PostingRow.invoice_id)).where(
                col(t.PostingRow.invoice_id).in_(ids), col(t.PostingRow.state) != rules.REJECTED
            )
        )
    )
    known = _Prefetched(s, rows, queued, ctx.reference(s), live)
    sa_event.listen(s, "before_commit", known.write, once=True)
    return known


def queue_posting(
    ctx: ServiceContext, uow: UnitOfWork, event: Event, known: _Prefetched | None = None
) -> None:
    invoice_id = event.entity_id
    version = int(event.data.get("version", 1))
    key = idempotency_key(invoice_id, version)
    known = known or _prefetch(ctx, uow)
    if key in known.queued:
        return  # this match version is already queued: once only
    if invoice_id in known.live:
        # Matched again (a later version) while an earlier posting is pending or posted: finance
        # must not receive the invoice twice. Only a rejected posting is followed by a new one.
        log.warning(
            "invoice %s already has a live posting; version %s not posted", invoice_id, version
        )
        return
    known.queued.add(key)
    known.live.add(invoice_id)
    now = ctx.clock()
    row = known.rows.get(invoice_id)
    posting: dict[str, Any] = {
        "id": ctx.new_id(),
        "invoice_id": invoice_id,
        "version": version,
        "idempotency_key": key,
        "state": rules.PENDING,
        "kind": (row.kind if row else None) or "invoice",
        "supplier_id": row.supplier_id if row else None,
        "invoice_number": row.number if row else None,
        "currency": (row.currency if row else None) or "GBP",
        "net_total": Decimal("0.00"),
        "vat_total": Decimal("0.00"),
        "gross_total": Decimal("0.00"),
        "created_at": now,
        "updated_at": now,
        "finance_document_number": None,
        "reason": None,
    }
    try:
        if row is None or row.canonical is None:
            raise CannotPost(f"invoice document {invoice_id} has no readable invoice")
        message = build_message(ctx, known.reference, row, event, key, version)
    except (CannotPost, ValueError, KeyError, ArithmeticError) as exc:
        # ValueError covers pydantic's ValidationError (e.g. a value the message schema refuses):
        # the posting is rejected with the reason, which opens an exception, never a failed match.
        posting["state"], posting["reason"] = rules.REJECTED, f"cannot post: {exc}"[:500]
        known.postings.append(posting)
        uow.record(
            _event(ev.INVOICE_POSTING_REJECTED, invoice_id, now, key, reason=posting["reason"])
        )
        return
    totals = message.body.control_totals
    posting["net_total"] = Decimal(totals.net_total)
    posting["vat_total"] = Decimal(totals.vat_total)
    posting["gross_total"] = Decimal(totals.gross_total)
    known.postings.append(posting)
    known.outbox.append(
        {
            "message_id": message.message_id,
            "idempotency_key": key,
            "message_type": message.message_type,
            "routing_key": ROUTING_KEY,
            "payload": encode(message).decode(),
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
            "published_at": None,
            "acknowledged_at": None,
            "last_error": None,
        }
    )
    uow.record(
        _event(
            ev.INVOICE_POSTING_QUEUED,
            invoice_id,
            now,
            key,
            version=version,
            net_total=totals.net_total,
            vat_total=totals.vat_total,
            gross_total=totals.gross_total,
        )
    )


def _event(name: str, invoice_id: str, now: Any, key: str, **data: Any) -> Event:
    return Event(
        name=name,
        entity_type="invoice",
        entity_id=invoice_id,
        occurred_at=now,
        data={"idempotency_key": key, **data},
    )


def build_message(
    ctx: ServiceContext,
    ref: ReferenceData,
    row: t.InvoiceDocumentRow,
    event: Event,
    key: str,
    version: int,
) -> PostingMessage:
    doc = Invoice.model_validate(row.canonical)
    lines = [DistributionLine.from_data(d) for d in event.data.get("distribution", [])]
    if not lines:
        raise CannotPost("the match carries no distribution lines")
    if not doc.number or not doc.issue_date or not doc.currency:
        raise CannotPost("invoice number, issue date or currency missing")
    supplier = ref.suppliers.get(row.supplier_id or "")
    if supplier is None:
        raise CannotPost(f"supplier {row.supplier_id or doc.seller.name} is not on our records")
    totals = doc.totals
    net_total = totals.tax_exclusive if totals.tax_exclusive is not None else totals.line_net
    vat_total = totals.tax if totals.tax is not None else Decimal("0.00")
    if net_total is None:
        raise CannotPost("the invoice has no net total (BT-109)")
    groups = [
        rules.VatGroup(b.category or "", b.rate or Decimal(0), b.tax_amount or Decimal(0))
        for b in doc.vat_breakdown
    ]
    posted = rules.allocate_posting(lines, groups, net_total=net_total, vat_total=vat_total)
    gross = net_total + vat_total
    due = totals.payable if totals.payable is not None else gross
    purchase_orders = sorted({ln.po_number for ln in lines if ln.po_number})
    return PostingMessage(
        message_id=ctx.new_id(),
        idempotency_key=key,
        correlation_id=row.id,
        occurred_at=event.occurred_at,
        body=PostingBody(
            invoice_id=row.id,
            version=version,
            document_type=doc.kind,
            supplier=SupplierRef(
                id=supplier.id,
                name=supplier.name,
                vat_number=supplier.vat_number,
                finance_reference=supplier.finance_ref,
            ),
            invoice_number=doc.number,
            issue_date=doc.issue_date,
            tax_point_date=doc.tax_point_date,
            due_date=doc.due_date or _default_due(doc.issue_date),
            currency=doc.currency,
            purchase_orders=purchase_orders
            or ([doc.order_reference] if doc.order_reference else []),
            preceding_invoice=doc.preceding_invoices[0].id if doc.preceding_invoices else None,
            lines=[
                GLLine(
                    line_no=i,
                    cost_centre=p.line.cost_centre,
                    gl_code=p.line.gl_code,
                    vat_code=p.line.vat_code,
                    net_amount=amount(p.net_amount),
                    vat_amount=amount(p.vat_amount),
                    description=p.line.description[:500],
                    purchase_order=p.line.po_number,
                )
                for i, p in enumerate(posted, start=1)
            ],
            control_totals=ControlTotals(
                line_count=len(posted),
                net_total=amount(net_total),
                vat_total=amount(vat_total),
                gross_total=amount(gross),
                amount_due=amount(due),
            ),
        ),
    )


def _default_due(issued: date) -> date:
    return issued + timedelta(days=DEFAULT_PAYMENT_DAYS)


@dataclass(frozen=True)
class AcksRecorded:
    """What ``record_acknowledgements`` did with a batch of answers."""

    changed: int = 0
    """Answers that moved a posting (a repeat for a settled posting changes nothing)."""
    unknown: frozenset[str] = frozenset()
    """Idempotency keys of answers for a posting procure has no record of: nothing was recorded
    for them; the caller keeps them for an operator (the ack consumer dead-letters them)."""


def record_acknowledgements(ctx: ServiceContext, acks: Sequence[Acknowledgement]) -> AcksRecorded:
    """Record finance's answers in one transaction."""
    if not acks:
        return AcksRecorded()
    changed = 0
    unknown: set[str] = set()
    with ctx.unit() as u:
        s = u.session
        keys = sorted({a.idempotency_key for a in acks})
        rows = {
            r.idempotency_key: r
            for r in s.scalars(
                select(t.PostingRow)
                .where(col(t.PostingRow.idempotency_key).in_(keys))
                .order_by(col(t.PostingRow.idempotency_key))
                .with_for_update()
            )
        }
        now = ctx.clock()
        for a in acks:
            row = rows.get(a.idempotency_key)
            if row is None:
                unknown.add(a.idempotency_key)
                continue
            to = rules.POSTED if a.body.status == "posted" else rules.REJECTED
            if not rules.can_move(row.state, to):
                continue  # a repeat (or a late answer) for a settled posting: done already
            row.state, row.updated_at = to, now
            if to == rules.POSTED:
                row.finance_document_number = a.body.finance_document_number
                u.record(
                    _event(
                        ev.INVOICE_POSTED,
                        row.invoice_id,
                        now,
                        row.idempotency_key,
                        finance_document_number=a.body.finance_document_number,
                    )
                )
            else:
                row.reason = a.body.reason or "rejected by finance (no reason given)"
                u.record(
                    _event(
                        ev.INVOICE_POSTING_REJECTED,
                        row.invoice_id,
                        now,
                        row.idempotency_key,
                        reason=row.reason,
                    )
                )
            changed += 1
        outbox = t.OutboxRow
        s.execute(
            outbox.__table__.update()  # type: ignore[attr-defined]
            .where(col(outbox.idempotency_key).in_(keys), col(outbox.acknowledged_at).is_(None))
            .values(acknowledged_at=now)
        )
    return AcksRecorded(changed, frozenset(unknown))


def posting_of(ctx: ServiceContext, invoice_id: str) -> dict[str, Any] | None:
    """The latest posting of an invoice, for views and tests."""
    with ctx.db.reading() as s:
        row = s.scalars(
            select(t.PostingRow)
            .where(col(t.PostingRow.invoice_id) == invoice_id)
            .order_by(col(t.PostingRow.version).desc())
        ).first()
    if row is None:
        return None
    return {
        "invoice_id": row.invoice_id,
        "version": row.version,
        "idempotency_key": row.idempotency_key,
        "state": row.state,
        "kind": row.kind,
        "invoice_number": row.invoice_number,
        "gross_total": str(row.gross_total),
        "finance_document_number": row.finance_document_number,
        "reason": row.reason,
    }


def posting_counts(ctx: ServiceContext) -> dict[str, int]:
    from sqlalchemy import func

    with ctx.db.reading() as s:
        rows = s.execute(
            select(col(t.PostingRow.state), func.count()).group_by(col(t.PostingRow.state))
        ).all()
    return {state: int(n) for state, n in rows}
