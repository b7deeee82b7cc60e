"""What the matching engine is given for a batch of invoices, read in a few set-based statements.

``match_invoices`` decides a batch in one transaction. This module reads, for all of the batch's
invoices at once, what ``load_inputs`` reads for one: the candidate purchase orders (locked
``FOR UPDATE`` in id order, after the invoice rows, as one-by-one matching locks them), their
lines, receipts and match ledger, and the earlier invoices the duplicate layers compare with.
Then it hands out each invoice's ``MatchInputs`` in turn and takes back what was decided (the new
ledger rows, the invoice now through matching), so that a later invoice of the batch sees exactly
what it would have seen had the earlier ones been matched and committed one by one before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from procure.domain.reference import ReferenceData
from procure.einvoice.model import Invoice as Document
from procure.matching import Invoice, LedgerEntry, MatchPolicy, Order, ReceiptLine
from procure.services.matching_inputs import (
    MatchInputs,
    PriorPool,
    _receipts,
    entry_from_row,
    invoice_from_row,
    lock_orders,
    orders_from_rows,
    prior_invoices_in,
    prior_pool,
    supplier_record,
)
from procure.store import tables as t


@dataclass
class BatchInputs:
    """The inputs of a batch's invoices, kept current as the batch is decided."""

    ref: ReferenceData
    policy: MatchPolicy
    invoices: dict[str, tuple[Invoice, Document]]
    candidates: dict[str, set[str]]
    """Invoice id → the ids of the purchase orders it may bill (as ``_candidate_order_ids``)."""
    rows: dict[str, t.PurchaseOrderRow]
    orders: dict[str, Order]
    receipts: dict[str, list[tuple[int, ReceiptLine]]]
    """PO number → its receipt lines, each with its place in the one-by-one read order."""
    receipt_numbers: dict[tuple[str, int], list[tuple[str, Decimal]]]
    ledger: dict[str, list[tuple[int, LedgerEntry]]]
    """PO number → its ledger rows with their place in ``seq`` order (new rows go last)."""
    pool: PriorPool
    by_number: dict[tuple[str | None, str | None], set[str]] = field(default_factory=dict)
    """(supplier id, invoice number) → the PO numbers its ledger rows name (for credit notes)."""
    decided: set[str] = field(default_factory=set)
    seq: int = 0
    dialect: str = "postgresql"

    def inputs(self, row: t.InvoiceDocumentRow) -> MatchInputs:
        invoice, document = self.invoices[row.id]
        ids = set(self.candidates[row.id])
        if invoice.preceding_invoices and invoice.supplier_id:
            # The orders its BT-25 invoices were matched to, this batch's matches included.
            numbers = set().union(
                *(self.by_number.get((invoice.supplier_id, n), set())
                  for n in invoice.preceding_invoices)
            )  # fmt: skip
            ids |= {i for i, r in self.rows.items() if r.number in numbers}
        ids = {i for i in ids if i in self.rows}
        numbers_of = sorted(ids)
        po_numbers = {self.rows[i].number for i in numbers_of}
        receipts = sorted(
            (x for n in po_numbers for x in self.receipts.get(n, [])), key=lambda x: x[0]
        )
        ledger = sorted((x for n in po_numbers for x in self.ledger.get(n, [])), key=lambda x: x[0])
        return MatchInputs(
            invoice=invoice,
            document=document,
            orders=[self.orders[i] for i in numbers_of],
            receipts=[r for _, r in receipts],
            ledger=[e for _, e in ledger],
            prior_invoices=prior_invoices_in(
                self.pool, row, invoice, self.policy, decided=self.decided
            ),
            supplier=supplier_record(self.ref, invoice.supplier_id),
            receipt_numbers=self.receipt_numbers,
            approvers={self.rows[i].number: self.rows[i].requisition_id for i in numbers_of},
        )

    def decided_one(self, invoice_id: str, written: Sequence[LedgerEntry]) -> None:
        """``invoice_id`` is through matching, having added ``written`` to the ledger."""
        self.decided.add(invoice_id)
        invoice, _ = self.invoices[invoice_id]
        for e in written:
            self.seq += 1
            self.ledger.setdefault(e.po_number, []).append((self.seq, as_stored(e, self.dialect)))
            key = (invoice.supplier_id, invoice.number)
            self.by_number.setdefault(key, set()).add(e.po_number)


def as_stored(e: LedgerEntry, dialect: str) -> LedgerEntry:
    """A new ledger entry as it reads back once written: PostgreSQL's NUMERIC gives quantities and
    amounts at the column's scale (6 comes back as 6.0000), and the figures of a later decision
    in the batch must print as they would after a commit. SQLite keeps the text as written."""
    if dialect == "sqlite":
        return e
    cols = t.MatchLedgerRow.__table__.c  # type: ignore[attr-defined]

    def at_scale(name: str, value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-cols[name].type.scale), rounding=ROUND_HALF_UP)

    return replace(
        e,
        quantity=at_scale("quantity", e.quantity),
        amount=at_scale("amount", e.amount),
        price_variance=at_scale("price_variance", e.price_variance),
    )


def load_batch(
    session: Session, docs: Sequence[t.InvoiceDocumentRow], ref: ReferenceData, policy: MatchPolicy
) -> BatchInputs:
    """Read (and lock) what matching ``docs`` needs: about eight statements for the batch."""
    invoices = {d.id: invoice_from_row(d) for d in docs}
    candidates = _candidates(session, [i for i, _ in invoices.values()])
    preceding = _preceding_orders(session, [i for i, _ in invoices.values()])
    by_number = {k: set(v) for k, v in preceding.items()}
    extra = sorted({n for v in preceding.values() for n in v})
    po = t.PurchaseOrderRow
    extra_ids = (
        list(session.scalars(select(col(po.id)).where(col(po.number).in_(extra)))) if extra else []
    )
    all_ids = set(extra_ids).union(*candidates.values())
    orders_rows, lines_by_po = lock_orders(session, sorted(all_ids))
    rows = {r.id: r for r in orders_rows}
    orders = {
        r.id: o
        for r, o in zip(orders_rows, orders_from_rows(orders_rows, lines_by_po, ref), strict=True)
    }
    receipt_lines, receipt_numbers = _receipts(session, {r.id: r.number for r in orders_rows})
    receipts: dict[str, list[tuple[int, ReceiptLine]]] = {}
    for place, r in enumerate(receipt_lines):
        receipts.setdefault(r.po_number, []).append((place, r))
    led = t.MatchLedgerRow
    ledger: dict[str, list[tuple[int, LedgerEntry]]] = {}
    seq = 0
    numbers = sorted(r.number for r in orders_rows)
    if numbers:
        for lr in session.scalars(
            select(led).where(col(led.po_number).in_(numbers)).order_by(col(led.seq))
        ):
            seq += 1
            ledger.setdefault(lr.po_number, []).append((seq, entry_from_row(lr)))
    pool = prior_pool(session, [(d, invoices[d.id][0]) for d in docs], policy)
    return BatchInputs(
        ref=ref,
        policy=policy,
        invoices=invoices,
        candidates=candidates,
        rows=rows,
        orders=orders,
        receipts=receipts,
        receipt_numbers=receipt_numbers,
        ledger=ledger,
        pool=pool,
        by_number=by_number,
        seq=seq,
        dialect=session.get_bind().dialect.name,
    )


def _candidates(session: Session, invoices: Sequence[Invoice]) -> dict[str, set[str]]:
    """Per invoice, as ``_candidate_order_ids`` without the credit-note part: BT-13 or BT-10
    names an order or its requisition; else the supplier's open orders. Two statements."""
    po = t.PurchaseOrderRow
    refs_of = {
        i.id: {r.strip().upper() for r in (i.order_reference, i.buyer_reference) if r}
        for i in invoices
    }
    all_refs = sorted(set().union(*refs_of.values())) if refs_of else []
    named: list[tuple[str, str, str | None]] = []
    if all_refs:
        named = [
            (a, b, c)
            for a, b, c in session.execute(
                select(col(po.id), col(po.number), col(po.requisition_number)).where(
                    or_(col(po.number).in_(all_refs), col(po.requisition_number).in_(all_refs))
                )
            )
        ]
    out: dict[str, set[str]] = {}
    for i in invoices:
        refs = refs_of[i.id]
        out[i.id] = {pid for pid, n, rn in named if n in refs or rn in refs} if refs else set()
    open_for = sorted({i.supplier_id for i in invoices if not out[i.id] and i.supplier_id})
    if open_for:
        by_supplier: dict[str, set[str]] = {}
        for pid, sid in session.execute(
            select(col(po.id), col(po.supplier_id)).where(
                col(po.supplier_id).in_(open_for), col(po.status) == "issued"
            )
        ):
            by_supplier.setdefault(sid, set()).add(pid)
        for i in invoices:
            if not out[i.id] and i.supplier_id:
                out[i.id] = set(by_supplier.get(i.supplier_id, set()))
    return out


def _preceding_orders(
    session: Session, invoices: Sequence[Invoice]
) -> dict[tuple[str | None, str | None], set[str]]:
    """(supplier id, invoice number) → PO numbers in the ledger, for the invoices that the batch's
    credit notes name (BT-25). One statement."""
    wanted = {(i.supplier_id, n) for i in invoices if i.supplier_id for n in i.preceding_invoices}
    if not wanted:
        return {}
    doc, led = t.InvoiceDocumentRow, t.MatchLedgerRow
    out: dict[tuple[str | None, str | None], set[str]] = {}
    for sid, number, po_number in session.execute(
        select(col(doc.supplier_id), col(doc.number), col(led.po_number))
        .join(doc, col(doc.id) == col(led.invoice_id))
        .where(
            col(doc.supplier_id).in_(sorted({s for s, _ in wanted if s})),
            col(doc.number).in_(sorted({n for _, n in wanted})),
        )
    ):
        if (sid, number) in wanted:
            out.setdefault((sid, number), set()).add(po_number)
    return out
