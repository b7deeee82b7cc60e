"""What the matching engine is given, read from the database and mapped onto its types.

Imports: sqlalchemy/sqlmodel, ``procure.store``, ``procure.einvoice.model`` and
``procure.matching``. The engine never sees a row: this module turns the stored canonical
invoice, the candidate purchase orders (locked ``FOR UPDATE``, so two workers never bill the same
received quantity twice), their receipts, the match ledger, the supplier's earlier invoices and
its bank accounts into ``procure.matching`` inputs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import or_, select, union
from sqlalchemy.orm import Session
from sqlmodel import col

from procure.domain.calendar import uk_date
from procure.domain.money import line_net
from procure.domain.reference import ReferenceData
from procure.einvoice.model import Invoice as Document
from procure.errors import ConfigurationError
from procure.matching import (
    Invoice,
    InvoiceLine,
    LedgerEntry,
    MatchPolicy,
    Order,
    OrderLine,
    PriorInvoice,
    ReceiptLine,
    SupplierRecord,
    default_match_policy,
    match_policy_from_mapping,
)
from procure.store import tables as t

ZERO = Decimal(0)
CURRENCY = "GBP"
"""Purchase orders are raised in pounds (the council's currency)."""


def load_match_policy(path: str | Path | None = None) -> MatchPolicy:
    """The ``[matching]`` section of the policy file (the packaged one when ``path`` is None);
    the council defaults when the file has no such section."""
    if path is None:
        return default_match_policy()  # the packaged file, read once and cached
    source = str(path)
    try:
        raw = Path(path).read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{source}: cannot read the matching policy ({exc})") from exc
    return match_policy_from_mapping(data, source=source)


@dataclass
class MatchInputs:
    invoice: Invoice
    document: Document
    orders: list[Order]
    receipts: list[ReceiptLine]
    ledger: list[LedgerEntry]
    prior_invoices: list[PriorInvoice]
    supplier: SupplierRecord | None
    receipt_numbers: dict[tuple[str, int], list[tuple[str, Decimal]]] = field(default_factory=dict)
    """Per PO line, its positive receipts in order (number, quantity): what ledger rows draw on."""
    approvers: dict[str, str] = field(default_factory=dict)
    """PO number → requisition id, for sending a variance back to the PO's approver."""


def invoice_from_row(row: t.InvoiceDocumentRow) -> tuple[Invoice, Document]:
    doc = Document.model_validate(row.canonical or {})
    lines = []
    for i, ln in enumerate(doc.lines, start=1):
        qty = ln.quantity if ln.quantity is not None else ZERO
        net = ln.net_amount if ln.net_amount is not None else ZERO
        base = ln.price_base_quantity or Decimal(1)
        price = ln.unit_price if ln.unit_price is not None else (net / qty if qty else ZERO)
        lines.append(
            InvoiceLine(
                id=ln.id or str(i),
                quantity=qty,
                unit_code=ln.unit_code or "",
                unit_price=price,
                price_base_quantity=base,
                net_amount=net,
                order_line_reference=ln.order_line_reference,
                seller_item_id=ln.seller_item_id,
                item_name=ln.item_name or ln.item_description or "",
                vat_category=ln.vat_category or "",
                vat_rate=ln.vat_rate if ln.vat_rate is not None else ZERO,
            )
        )
    totals = doc.totals
    invoice = Invoice(
        id=row.id,
        kind=doc.kind,
        supplier_id=row.supplier_id,
        number=doc.number or "",
        issue_date=doc.issue_date or uk_date(row.received_at),
        currency=doc.currency or "",
        order_reference=doc.order_reference,
        buyer_reference=doc.buyer_reference,
        preceding_invoices=tuple(d.id for d in doc.preceding_invoices),
        payee_account=doc.payee_account,
        lines=tuple(lines),
        tax_exclusive=totals.tax_exclusive if totals.tax_exclusive is not None else ZERO,
        vat_total=totals.tax if totals.tax is not None else ZERO,
        payable=totals.payable if totals.payable is not None else ZERO,
        sha256=row.sha256,
    )
    return invoice, doc


def supplier_record(ref: ReferenceData, supplier_id: str | None) -> SupplierRecord | None:
    supplier = ref.suppliers.get(supplier_id or "")
    if supplier is None:
        return None
    accounts: list[str] = []
    if supplier.iban:
        accounts.append(supplier.iban)
    if supplier.sort_code and supplier.account_number:
        accounts.append(f"{supplier.sort_code.replace('-', '')}{supplier.account_number}")
    return SupplierRecord(id=supplier.id, bank_accounts=tuple(accounts))


def _candidate_order_ids(session: Session, invoice: Invoice) -> list[str]:
    """BT-13 names the order; else BT-10 names an order or its requisition; else the supplier's
    open orders. A credit note also brings the orders its BT-25 invoices were matched to."""
    po = t.PurchaseOrderRow
    refs = [r.strip().upper() for r in (invoice.order_reference, invoice.buyer_reference) if r]
    ids: list[str] = []
    if refs:
        ids = list(
            session.scalars(
                select(col(po.id)).where(
                    or_(col(po.number).in_(refs), col(po.requisition_number).in_(refs))
                )
            )
        )
    if not ids and invoice.supplier_id:
        ids = list(
            session.scalars(
                select(col(po.id)).where(
                    col(po.supplier_id) == invoice.supplier_id, col(po.status) == "issued"
                )
            )
        )
    if invoice.preceding_invoices and invoice.supplier_id:
        doc, led = t.InvoiceDocumentRow, t.MatchLedgerRow
        numbers = set(
            session.scalars(
                select(col(led.po_number))
                .join(doc, col(doc.id) == col(led.invoice_id))
                .where(
                    col(doc.supplier_id) == invoice.supplier_id,
                    col(doc.number).in_(list(invoice.preceding_invoices)),
                )
            )
        )
        if numbers:
            ids += list(session.scalars(select(col(po.id)).where(col(po.number).in_(numbers))))
    return sorted(set(ids))


def load_inputs(
    session: Session, row: t.InvoiceDocumentRow, ref: ReferenceData, policy: MatchPolicy
) -> MatchInputs:
    """Everything ``decide`` needs for the invoice in ``row``. The candidate purchase orders are
    locked (in id order, so that concurrent matches never deadlock)."""
    invoice, document = invoice_from_row(row)
    order_ids = _candidate_order_ids(session, invoice)
    orders_rows, lines_by_po = lock_orders(session, order_ids)
    orders = orders_from_rows(orders_rows, lines_by_po, ref)
    numbers = {r.id: r.number for r in orders_rows}
    receipts, receipt_numbers = _receipts(session, numbers)
    return MatchInputs(
        invoice=invoice,
        document=document,
        orders=orders,
        receipts=receipts,
        ledger=ledger_for(session, list(numbers.values())),
        prior_invoices=_prior_invoices(session, row, invoice, policy),
        supplier=supplier_record(ref, invoice.supplier_id),
        receipt_numbers=receipt_numbers,
        approvers={r.number: r.requisition_id for r in orders_rows},
    )


def lock_orders(
    session: Session, order_ids: Sequence[str]
) -> tuple[list[t.PurchaseOrderRow], dict[str, list[t.PurchaseOrderLineRow]]]:
    """The purchase orders (locked ``FOR UPDATE`` in id order, so concurrent matches never
    deadlock) and their lines by order id, in line order: two statements however many orders."""
    po, pol = t.PurchaseOrderRow, t.PurchaseOrderLineRow
    ids = sorted(set(order_ids))
    orders_rows = list(
        session.scalars(
            select(po).where(col(po.id).in_(ids)).order_by(col(po.id)).with_for_update()
        )
    )
    lines_by_po: dict[str, list[t.PurchaseOrderLineRow]] = {r.id: [] for r in orders_rows}
    for ln in session.scalars(
        select(pol).where(col(pol.purchase_order_id).in_(ids)).order_by(col(pol.line_no))
    ):
        lines_by_po[ln.purchase_order_id].append(ln)
    return orders_rows, lines_by_po


def orders_from_rows(
    orders_rows: Sequence[t.PurchaseOrderRow],
    lines_by_po: dict[str, list[t.PurchaseOrderLineRow]],
    ref: ReferenceData,
) -> list[Order]:
    """The engine's orders for these rows (in the order given). The one place a PO line becomes
    an ``OrderLine``: the one-by-one and the batch matches both build their orders here."""
    rates = {v.code: v.rate for v in ref.vat_codes.values()}
    return [
        Order(
            number=r.number,
            supplier_id=r.supplier_id,
            currency=CURRENCY,
            status=r.status,
            buyer_reference=r.requisition_number,
            lines=tuple(
                OrderLine(
                    po_number=r.number,
                    line_no=ln.line_no,
                    description=ln.description,
                    seller_item_id=None,
                    quantity=ln.quantity,
                    unit_code=ln.unit_code,
                    unit_price=ln.unit_price,
                    net_amount=line_net(ln.quantity, ln.unit_price),
                    vat_code=ln.vat_code,
                    vat_rate=rates.get(ln.vat_code, ZERO),
                    cost_centre=r.cost_centre,
                    gl_code=ln.gl_code,
                    category=ln.category,
                    receipt_required=ln.receipt_required,
                )
                for ln in lines_by_po[r.id]
            ),
        )
        for r in orders_rows
    ]


def _receipts(
    session: Session, numbers: dict[str, str]
) -> tuple[list[ReceiptLine], dict[tuple[str, int], list[tuple[str, Decimal]]]]:
    gr, grl = t.GoodsReceiptRow, t.GoodsReceiptLineRow
    stmt = (
        select(
            col(gr.purchase_order_id),
            col(gr.number),
            col(gr.received_on),
            col(grl.po_line_no),
            col(grl.quantity),
        )
        .join(grl, col(grl.goods_receipt_id) == col(gr.id))
        .where(col(gr.purchase_order_id).in_(list(numbers)))
        .order_by(col(gr.recorded_at), col(gr.number))
    )
    out: list[ReceiptLine] = []
    by_line: dict[tuple[str, int], list[tuple[str, Decimal]]] = {}
    for po_id, number, received_on, line_no, qty in session.execute(stmt):
        po_number = numbers[po_id]
        out.append(ReceiptLine(po_number, line_no, qty, received_on))
        if qty > 0:
            by_line.setdefault((po_number, line_no), []).append((number, qty))
    return out, by_line


def ledger_for(session: Session, po_numbers: Sequence[str]) -> list[LedgerEntry]:
    led = t.MatchLedgerRow
    rows = session.scalars(
        select(led).where(col(led.po_number).in_(list(po_numbers))).order_by(col(led.seq))
    )
    return [entry_from_row(r) for r in rows]


def ledger_of_invoice(session: Session, invoice_id: str) -> list[t.MatchLedgerRow]:
    led = t.MatchLedgerRow
    return list(
        session.scalars(select(led).where(col(led.invoice_id) == invoice_id).order_by(col(led.seq)))
    )


def entry_from_row(r: t.MatchLedgerRow) -> LedgerEntry:
    return LedgerEntry(
        id=r.id,
        invoice_id=r.invoice_id,
        invoice_line_id=r.invoice_line_id,
        po_number=r.po_number,
        po_line_no=r.po_line_no,
        quantity=r.quantity,
        amount=r.amount,
        reverses=r.reverses,
        price_variance=r.price_variance,
    )


def live_entries(rows: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """Rows not reversed and not themselves reversals."""
    items = list(rows)
    reversed_ids = {e.reverses for e in items if e.reverses}
    return [e for e in items if e.reverses is None and e.id not in reversed_ids]


def _prior_invoices(
    session: Session, row: t.InvoiceDocumentRow, invoice: Invoice, policy: MatchPolicy
) -> list[PriorInvoice]:
    pool = prior_pool(session, [(row, invoice)], policy)
    return prior_invoices_in(pool, row, invoice, policy, decided=set())


@dataclass(frozen=True)
class PriorCandidate:
    """An accepted invoice some duplicate layer may compare with (a row of ``prior_pool``)."""

    id: str
    supplier_id: str | None
    supplier_key: str | None
    number: str | None
    normalised_number: str | None
    issue_date: date | None
    payable: Decimal | None
    sha256: str
    kind: str | None
    received_at: datetime
    decided: bool
    """It has been through matching (it has an ``invoice_match`` row)."""


class PriorPool:
    """The rows of ``prior_pool`` indexed by what each duplicate layer compares, so that picking
    an invoice's candidates costs a few dictionary look-ups however large the batch."""

    def __init__(self, rows: Iterable[PriorCandidate]) -> None:
        self.index: dict[tuple[object, ...], list[PriorCandidate]] = {}
        for c in rows:
            self._add(("sha", c.sha256), c)
            if c.supplier_key:
                self._add(("norm", c.supplier_key, c.normalised_number), c)
                self._add(("amount", c.supplier_key, c.payable), c)
                self._add(("number", c.supplier_key, c.number), c)

    def _add(self, key: tuple[object, ...], c: PriorCandidate) -> None:
        self.index.setdefault(key, []).append(c)

    def near(self, row: t.InvoiceDocumentRow, invoice: Invoice) -> list[PriorCandidate]:
        """A superset of the rows any layer could pair with ``row`` (each row once)."""
        key = row.supplier_key
        keys: list[tuple[object, ...]] = [("sha", row.sha256)]
        if key:
            keys += [("norm", key, row.normalised_number), ("amount", key, row.payable)]
            keys += [("number", key, n) for n in invoice.preceding_invoices]
        found: dict[str, PriorCandidate] = {}
        for k in keys:
            for c in self.index.get(k, ()):
                found[c.id] = c
        return list(found.values())


def prior_pool(
    session: Session,
    invoices: Sequence[tuple[t.InvoiceDocumentRow, Invoice]],
    policy: MatchPolicy,
) -> PriorPool:
    """Every accepted document that one of the duplicate layers could pair with one of these
    invoices (the same bytes; the same supplier and normalised number; the same supplier and
    amount within the window; for a credit note, the invoices its BT-25 names), in one statement
    for any number of invoices. It may hold more than the layers match: ``prior_invoices_in``
    picks, per invoice, exactly what the layers say."""
    doc = t.InvoiceDocumentRow
    shas = sorted({r.sha256 for r, _ in invoices})
    keys = sorted({r.supplier_key for r, _ in invoices if r.supplier_key})
    # One indexed read per layer (sha256; supplier + normalised number; supplier + amount + date;
    # supplier + number), united: an OR of them would scan every accepted invoice.
    layers = [select(col(doc.id)).where(col(doc.sha256).in_(shas))]
    numbers = sorted({r.normalised_number for r, _ in invoices if r.normalised_number})
    if keys and numbers:
        layers.append(
            select(col(doc.id)).where(
                col(doc.supplier_key).in_(keys), col(doc.normalised_number).in_(numbers)
            )
        )
    window = timedelta(days=policy.duplicate_window_days)
    amounts = [
        (r.payable, i.issue_date) for r, i in invoices if r.supplier_key and r.payable is not None
    ]
    if keys and amounts:
        layers.append(
            select(col(doc.id)).where(
                col(doc.supplier_key).in_(keys),
                col(doc.payable).in_(sorted({a for a, _ in amounts})),
                col(doc.issue_date) >= min(d for _, d in amounts) - window,
                col(doc.issue_date) <= max(d for _, d in amounts) + window,
            )
        )
    preceding = sorted({n for r, i in invoices if r.supplier_key for n in i.preceding_invoices})
    if keys and preceding:
        layers.append(
            select(col(doc.id)).where(
                col(doc.supplier_key).in_(keys), col(doc.number).in_(preceding)
            )
        )
    m = t.InvoiceMatchRow
    stmt = (
        select(
            col(doc.id), col(doc.supplier_id), col(doc.supplier_key), col(doc.number),
            col(doc.normalised_number), col(doc.issue_date), col(doc.payable), col(doc.sha256),
            col(doc.kind), col(doc.received_at), col(m.invoice_id),
        )
        .outerjoin(m, col(m.invoice_id) == col(doc.id))
        .where(col(doc.id).in_(union(*layers).scalar_subquery()), col(doc.status) == "accepted")
    )  # fmt: skip
    return PriorPool(
        PriorCandidate(*r[:10], decided=r[10] is not None) for r in session.execute(stmt)
    )


def prior_invoices_in(
    pool: PriorPool,
    row: t.InvoiceDocumentRow,
    invoice: Invoice,
    policy: MatchPolicy,
    *,
    decided: set[str],
) -> list[PriorInvoice]:
    """The earlier documents the duplicate layers compare ``invoice`` with, and, for a credit
    note, the invoices its BT-25 names (how the engine finds their order without a BT-13).
    Earlier = received before this one, or already through matching (a pool row marked decided,
    or an id in ``decided``: a batch shares a time, and its invoices decided so far count)."""
    window = timedelta(days=policy.duplicate_window_days)
    day = invoice.issue_date
    key, sha, number, payable = row.supplier_key, row.sha256, row.normalised_number, row.payable
    received_at = row.received_at
    out = []
    for c in pool.near(row, invoice):
        if c.id == row.id:
            continue
        same_supplier = bool(key) and c.supplier_key == key
        hit = (
            c.sha256 == sha
            or (same_supplier and bool(number) and c.normalised_number == number)
            or (same_supplier and payable is not None and c.payable == payable
                and c.issue_date is not None and day - window <= c.issue_date <= day + window)
            or (same_supplier and c.number in invoice.preceding_invoices)
        )  # fmt: skip
        if not hit or not (c.received_at < received_at or c.decided or c.id in decided):
            continue
        out.append(
            PriorInvoice(
                id=c.id,
                supplier_id=c.supplier_id,
                number=c.number or "",
                issue_date=c.issue_date or date.min,
                payable=c.payable if c.payable is not None else ZERO,
                sha256=c.sha256,
                kind="credit_note" if c.kind == "credit_note" else "invoice",
            )
        )
    return out
