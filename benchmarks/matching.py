"""``procure bench matching``: invoice lines matched per second by the engine, in memory.

A synthetic book is built deterministically (``random.Random(seed)``): ``orders`` purchase
orders of 10 lines (7 goods, 3 services) from 5,000 suppliers, their goods receipts, and one
invoice of 10 lines per order (so 100,000 orders give 1,000,000 invoice lines). The mix, by
invoice number modulo 100: 80 clean (BT-132 on every line), 5 lines found by seller item id
only, 1 with a line found by description only (the rapidfuzz fallback), 4 with a price rise
within tolerance, 3 beyond it, 3 billing a partial delivery in full, 1 found by buyer
reference, 1 duplicate (same number written differently), 1 with a changed bank account, 1
credit note against an earlier invoice in the ledger.

The timed loop is what the matching service does per invoice minus the database: look up the
candidate order, its receipts and ledger rows and the supplier's earlier invoices in dicts, and
call ``decide``. Objects built for the book are frozen out of the garbage collector's scans
(``gc.freeze``) so that collections triggered by the decisions do not walk millions of
long-lived objects; the decisions themselves are collected as usual.

Figures (medians of ``runs`` after a warm-up; the two books are timed alternately, so that
both see the same load): ``matching_engine_lines_per_second`` on the full book, anchored on the
same figure for a tenth of it (built the same way), and ``matching_engine_seconds`` of the full
book anchored on the tenth's, whose ratio is the linearity figure (10x the data; target <= 11).
Each comes twice: wall-clock, and ``_cpu`` (this process's CPU time), which other programs on a
shared machine disturb much less (the engine is single-threaded and does no I/O).
"""

from __future__ import annotations

import gc
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from benchmarks.report import emit, figure
from procure.domain.money import money
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
    decide,
    default_match_policy,
)

LINES_PER_ORDER = 10
SERVICES_FROM = 8  # lines 8-10 of each order are services (2-way)
SUPPLIERS = 5_000
NOUNS = ["paper", "toner", "chairs", "desks", "cable", "gloves", "salt", "signs", "paint", "bins"]
ADJECTIVES = ["blue", "large", "recycled", "heavy duty", "standard", "premium", "compact"]
ZERO = Decimal(0)
RATE = Decimal(20)
EPOCH = date(2026, 1, 5)


@dataclass
class Book:
    invoices: list[Invoice] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    receipts: dict[str, list[ReceiptLine]] = field(default_factory=dict)
    ledger: dict[str, list[LedgerEntry]] = field(default_factory=dict)
    priors: dict[str, list[PriorInvoice]] = field(default_factory=dict)
    suppliers: dict[str, SupplierRecord] = field(default_factory=dict)
    lines: int = 0


def build_book(orders: int, *, seed: int = 2026) -> Book:
    rng = random.Random(seed)
    book = Book()
    prices = [Decimal(k).scaleb(-2) for k in range(100, 50_001, 7)]
    quantities = [Decimal(q) for q in range(1, 51)]
    for s in range(SUPPLIERS):
        sid = f"SUP-{s:05d}"
        book.suppliers[sid] = SupplierRecord(sid, (f"GB{s:02d}BANK{s:014d}",))
    for i in range(orders):
        kind = i % 100
        po = f"PO-{i:07d}"
        sid = f"SUP-{i % SUPPLIERS:05d}"
        lines = []
        for no in range(1, LINES_PER_ORDER + 1):
            qty = rng.choice(quantities)
            price = rng.choice(prices)
            lines.append(
                OrderLine(
                    po, no, f"{rng.choice(ADJECTIVES)} {NOUNS[no - 1]} type {no}",
                    f"IT-{no}-{i % 997}", qty, "EA", price, money(qty * price), "S20", RATE,
                    "CC-FAC", "5100", "stationery", no < SERVICES_FROM,
                )
            )  # fmt: skip
        order = Order(po, sid, "GBP", "open", None, tuple(lines))
        book.orders[po] = order
        on = EPOCH + timedelta(days=i % 300)
        book.receipts[po] = [
            ReceiptLine(po, ol.line_no, ol.quantity * 6 / 10 if kind in (93, 94, 95) else ol.quantity, on)
            for ol in lines
            if ol.receipt_required
        ]  # fmt: skip
        book.invoices.append(_invoice(i, kind, order, on, book))
        book.lines += LINES_PER_ORDER
    return book


def _invoice(i: int, kind: int, order: Order, on: date, book: Book) -> Invoice:
    po = order.number
    credit = kind == 99
    inv_lines = []
    for ol in order.lines:
        qty = Decimal(2) if credit else ol.quantity
        price = ol.unit_price
        if kind in (86, 87, 88, 89) and ol.line_no == 1:
            price = money(price * Decimal("1.01"))
        elif kind in (90, 91, 92) and ol.line_no == 1:
            price = money(price * Decimal("1.10"))
        ref: str | None = str(ol.line_no)
        item: str | None = ol.seller_item_id
        name = ol.description
        if 80 <= kind <= 84:
            ref = None
        elif kind == 85 and ol.line_no == 3:
            ref, item = None, None
            words = name.split(" ")
            name = " ".join(reversed(words)) + " (each)"
        inv_lines.append(
            InvoiceLine(str(ol.line_no), qty, "EA", price, Decimal(1), money(qty * price), ref,
                        item, name, "S", RATE)
        )  # fmt: skip
    net = sum((ln.net_amount for ln in inv_lines), ZERO)
    vat = money(net * RATE / 100)
    supplier = book.suppliers[order.supplier_id]
    number = f"INV-{i:07d}"
    if credit:
        billed = [
            LedgerEntry(f"old-{i}:{ol.line_no}", f"old-{i}", str(ol.line_no), po, ol.line_no,
                        Decimal(5), money(5 * ol.unit_price))
            for ol in order.lines
        ]  # fmt: skip
        book.ledger[po] = billed
    if kind == 97:
        book.priors.setdefault(order.supplier_id, []).append(
            PriorInvoice(f"prior-{i}", order.supplier_id, f"inv {i}", on, Decimal("1.00"), "0" * 64)
        )
    return Invoice(
        id=f"inv-{i}",
        kind="credit_note" if credit else "invoice",
        supplier_id=order.supplier_id,
        number=number,
        issue_date=on + timedelta(days=2),
        currency="GBP",
        order_reference=None if kind == 96 else po,
        buyer_reference=po if kind == 96 else None,
        preceding_invoices=(f"old-{i}",) if credit else (),
        payee_account="GB00BANK99999999999999" if kind == 98 else supplier.bank_accounts[0],
        lines=tuple(inv_lines),
        tax_exclusive=net,
        vat_total=vat,
        payable=net + vat,
        sha256=f"{i:064d}",
    )


def match_book(book: Book, policy: MatchPolicy) -> Counter[str]:
    """What the service does per invoice, minus the database: load the candidates, decide."""
    outcomes: Counter[str] = Counter()
    orders, receipts, ledger, priors = book.orders, book.receipts, book.ledger, book.priors
    suppliers = book.suppliers
    empty: Sequence[Any] = ()
    for inv in book.invoices:
        ref = inv.order_reference or inv.buyer_reference or ""
        order = orders.get(ref)
        sid = inv.supplier_id or ""
        decision = decide(
            inv,
            orders=(order,) if order is not None else empty,
            receipts=receipts.get(ref, empty),
            ledger=ledger.get(ref, empty),
            prior_invoices=priors.get(sid, empty),
            supplier=suppliers.get(sid),
            policy=policy,
        )
        outcomes[decision.outcome] += 1
    return outcomes


Samples = tuple[list[float], list[float]]
"""(wall-clock seconds, CPU seconds of this process) per run."""


def timed_pair(
    first: Callable[[], Any], second: Callable[[], Any], runs: int
) -> tuple[Samples, Samples]:
    """Seconds of ``first`` and ``second``, measured alternately (after one warm-up of each) so
    that both see the same load on a shared machine; wall-clock and this process's CPU time."""
    first()
    second()
    a: Samples = ([], [])
    b: Samples = ([], [])
    for _ in range(runs):
        for fn, (wall, cpu) in ((first, a), (second, b)):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu.append(time.process_time() - start_cpu)
            wall.append(time.perf_counter() - start)
    return a, b


def main(*, orders: int = 100_000, runs: int = 3) -> None:
    policy = default_match_policy()
    tenth = build_book(orders // 10, seed=1)
    full = build_book(orders, seed=2)
    gc.collect()
    gc.freeze()
    try:
        (tenth_wall, tenth_cpu), (full_wall, full_cpu) = timed_pair(
            lambda: match_book(tenth, policy), lambda: match_book(full, policy), runs
        )
    finally:
        gc.unfreeze()
    for suffix, unit, t_s, f_s in (
        ("", "lines/s", tenth_wall, full_wall),
        ("_cpu", "lines per CPU second", tenth_cpu, full_cpu),
    ):
        name = f"matching_engine_lines_per_second{suffix}"
        emit(figure(f"{name}_tenth", [tenth.lines / s for s in t_s], unit))
        emit(
            figure(
                name,
                [full.lines / s for s in f_s],
                unit,
                anchor=f"{name}_tenth",
                anchor_samples=[tenth.lines / s for s in t_s],
            )
        )
    for suffix, t_s, f_s in (("", tenth_wall, full_wall), ("_cpu", tenth_cpu, full_cpu)):
        emit(
            figure(
                f"matching_engine_seconds{suffix}",
                f_s,
                "s",
                anchor=f"matching_engine_seconds{suffix}_tenth",
                anchor_samples=t_s,
            )
        )
