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
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

from sqlalchemy import or_, select, union
from sqlalchemy.orm import Session
from sqlmodel import col

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
    match_policy_from_mapping,
)
from procure.store import tables as t

ZERO = Decimal(0)
CURRENCY = "GBP"
"""Purchase orders are raised in pounds (the council's currency)."""

SERVICE_UNIT_CODES = frozenset({"HUR", "DAY", "WEE", "MON", "ANN", "MIN", "E48", "LS"})
"""A PO line ordered in one of these UN/ECE units (hours, days, weeks, months, years, minutes,
service units, lump sum) is a service: matched 2-way (billed <= ordered), no goods receipt.
Every other line is goods, matched 3-way (billed <= received)."""


def load_match_policy(path: str | Path | None = None) -> MatchPolicy:
    """The ``[matching]`` section of the policy file (the packaged one when ``path`` is None);
    the council defaults when the file has no such section."""
    source = str(path) if path is not None else "the packaged policy.toml"
    try:
        raw = (
            Path(path).read_bytes()
            if path is not None
            else resources.files("procure.reference").joinpath("policy.toml").read_bytes()
        )
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
        issue_date=doc.issue_date or row.received_at.date(),
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
    po, pol = t.PurchaseOrderRow, t.PurchaseOrderLineRow
    orders_rows = list(
        session.scalars(
            select(po).where(col(po.id).in_(order_ids)).order_by(col(po.id)).with_for_update()
        )
    )
    lines_by_po: dict[str, list[t.PurchaseOrderLineRow]] = {r.id: [] for r in orders_rows}
    for ln in session.scalars(
        select(pol).where(col(pol.purchase_order_id).in_(order_ids)).order_by(col(pol.line_no))
    ):
        lines_by_po[ln.purchase_order_id].append(ln)
    rates = {v.code: v.rate for v in ref.vat_codes.values()}
    orders = [
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
                    net_amount=(ln.quantity * ln.unit_price).quantize(Decimal("0.01")),
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
    """The earlier documents the duplicate layers compare with (the same supplier and normalised
    number, the same supplier and amount within the window, the same bytes) and, for a credit
    note, the invoices its BT-25 names (how the engine finds their order without a BT-13)."""
    doc = t.InvoiceDocumentRow
    # One indexed read per layer (sha256; supplier + normalised number; supplier + amount + date),
    # united: an OR of the three would scan every accepted invoice.
    layers = [select(col(doc.id)).where(col(doc.sha256) == row.sha256)]
    if row.supplier_key and row.normalised_number:
        layers.append(
            select(col(doc.id)).where(
                col(doc.supplier_key) == row.supplier_key,
                col(doc.normalised_number) == row.normalised_number,
            )
        )
    if row.supplier_key and row.payable is not None:
        window = timedelta(days=policy.duplicate_window_days)
        day = invoice.issue_date
        layers.append(
            select(col(doc.id)).where(
                col(doc.supplier_key) == row.supplier_key,
                col(doc.payable) == row.payable,
                col(doc.issue_date) >= day - window,
                col(doc.issue_date) <= day + window,
            )
        )
    if invoice.preceding_invoices and row.supplier_key:  # the invoices a credit note corrects
        layers.append(
            select(col(doc.id)).where(
                col(doc.supplier_key) == row.supplier_key,
                col(doc.number).in_(list(invoice.preceding_invoices)),
            )
        )
    # Earlier = received before this one, or already through matching (a batch shares a time).
    decided = select(col(t.InvoiceMatchRow.invoice_id)).where(
        col(t.InvoiceMatchRow.invoice_id).in_(union(*layers).scalar_subquery())
    )
    stmt = select(doc).where(
        col(doc.id).in_(union(*layers).scalar_subquery()),
        col(doc.id) != row.id,
        col(doc.status) == "accepted",
        or_(col(doc.received_at) < row.received_at, col(doc.id).in_(decided)),
    )
    out = []
    for r in session.scalars(stmt):
        out.append(
            PriorInvoice(
                id=r.id,
                supplier_id=r.supplier_id,
                number=r.number or "",
                issue_date=r.issue_date or date.min,
                payable=r.payable if r.payable is not None else ZERO,
                sha256=r.sha256,
                kind="credit_note" if r.kind == "credit_note" else "invoice",
            )
        )
    return out
