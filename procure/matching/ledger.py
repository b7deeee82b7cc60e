"""The match ledger's derived figures and its invariants.

Imports: the standard library and ``procure.matching.model``.

Received and billed quantities per PO line are never stored as counters: they are sums over the
receipt lines (returns negative) and the ledger rows (credit notes and reversals negative), so
they can always be recomputed. ``check_ledger_write`` is what the service calls before adding
rows; it returns the violations (empty when the rows may be written).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from procure.matching.model import LedgerEntry, Order, OrderLine, ReceiptLine

ZERO = Decimal(0)
LineKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class LinePosition:
    """Where one PO line stands: ordered, received (net of returns), billed (net of credits)."""

    ordered: Decimal
    received: Decimal
    billed: Decimal
    receipt_required: bool

    @property
    def limit(self) -> Decimal:
        """What may be billed at most: received for goods (3-way), ordered for services."""
        return self.received if self.receipt_required else self.ordered


@dataclass(frozen=True, slots=True)
class LedgerViolation:
    code: str
    """``over_received``, ``over_ordered``, ``billed_below_zero``, ``billed_twice``,
    ``unknown_order_line``, ``bad_reversal``."""
    po_number: str | None
    po_line_no: int | None
    entry_id: str | None
    message: str


def received_by_line(receipts: Iterable[ReceiptLine]) -> dict[LineKey, Decimal]:
    out: dict[LineKey, Decimal] = {}
    for r in receipts:
        key = (r.po_number, r.po_line_no)
        out[key] = out.get(key, ZERO) + r.quantity
    return out


def billed_by_line(ledger: Iterable[LedgerEntry]) -> dict[LineKey, Decimal]:
    out: dict[LineKey, Decimal] = {}
    for e in ledger:
        key = (e.po_number, e.po_line_no)
        out[key] = out.get(key, ZERO) + e.quantity
    return out


def positions(
    orders: Iterable[Order], receipts: Iterable[ReceiptLine], ledger: Iterable[LedgerEntry]
) -> dict[LineKey, LinePosition]:
    """Every order line's position, recomputed from the receipts and the ledger."""
    received = received_by_line(receipts)
    billed = billed_by_line(ledger)
    out: dict[LineKey, LinePosition] = {}
    for order in orders:
        for line in order.lines:
            key = (line.po_number, line.line_no)
            out[key] = LinePosition(
                line.quantity, received.get(key, ZERO), billed.get(key, ZERO), line.receipt_required
            )
    return out


def reversal_of(entry: LedgerEntry, *, id: str | None = None) -> LedgerEntry:
    """The row that cancels ``entry`` (same line, opposite quantity, amount and variance)."""
    return LedgerEntry(
        id=id or f"{entry.id}~reversal",
        invoice_id=entry.invoice_id,
        invoice_line_id=entry.invoice_line_id,
        po_number=entry.po_number,
        po_line_no=entry.po_line_no,
        quantity=-entry.quantity,
        amount=-entry.amount,
        reverses=entry.id,
        price_variance=-entry.price_variance,
    )


def check_ledger_write(
    existing: Sequence[LedgerEntry],
    new: Sequence[LedgerEntry],
    *,
    orders: Iterable[Order],
    receipts: Iterable[ReceiptLine],
) -> tuple[LedgerViolation, ...]:
    """The invariants that adding ``new`` to ``existing`` would break (empty: write them).

    - every row names an order line of ``orders`` (load the orders the rows touch);
    - no invoice line is billed twice: at most one live (unreversed) row per invoice line, and
      a reversal cancels exactly one live row of the same line with the opposite figures;
    - on each PO line the rows touch, billed stays within received (goods, 3-way) or ordered
      (services, 2-way), and never below zero. A write that only lowers billed (a credit note,
      a reversal) is always allowed, so that a return recorded before its credit note can be
      put right.
    """
    lines: dict[LineKey, OrderLine] = {
        (ln.po_number, ln.line_no): ln for o in orders for ln in o.lines
    }
    problems: list[LedgerViolation] = []
    by_id = {e.id: e for e in existing}
    live: dict[tuple[str, str], int] = {}
    reversed_ids = {e.reverses for e in existing if e.reverses is not None}
    for e in existing:
        if e.reverses is None and e.id not in reversed_ids:
            k = (e.invoice_id, e.invoice_line_id)
            live[k] = live.get(k, 0) + 1
    for e in new:
        if (e.po_number, e.po_line_no) not in lines:
            problems.append(
                _v("unknown_order_line", e, "the ledger row names no line of the orders given")
            )
        if e.id in by_id:
            problems.append(_v("billed_twice", e, f"a ledger row with id {e.id} already exists"))
            continue
        if e.reverses is not None:
            original = by_id.get(e.reverses)
            if original is None or e.reverses in reversed_ids:
                problems.append(
                    _v("bad_reversal", e, f"row {e.reverses} is unknown or already reversed")
                )
            elif (e.quantity, e.amount) != (-original.quantity, -original.amount) or (
                (e.invoice_id, e.invoice_line_id, e.po_number, e.po_line_no)
                != (
                    original.invoice_id,
                    original.invoice_line_id,
                    original.po_number,
                    original.po_line_no,
                )
            ):
                problems.append(_v("bad_reversal", e, f"does not exactly cancel row {e.reverses}"))
            else:
                k = (e.invoice_id, e.invoice_line_id)
                live[k] = live.get(k, 0) - 1
            reversed_ids.add(e.reverses)
        else:
            k = (e.invoice_id, e.invoice_line_id)
            live[k] = live.get(k, 0) + 1
            if live[k] > 1:
                problems.append(
                    _v("billed_twice", e, f"invoice line {e.invoice_line_id} is already matched")
                )
        by_id[e.id] = e
    touched = {(e.po_number, e.po_line_no) for e in new}
    delta = billed_by_line(new)
    billed = billed_by_line(e for e in existing if (e.po_number, e.po_line_no) in touched)
    received = received_by_line(r for r in receipts if (r.po_number, r.po_line_no) in touched)
    for key in sorted(touched):
        line = lines.get(key)
        if line is None:
            continue
        before = billed.get(key, ZERO)
        after = before + delta.get(key, ZERO)
        if after < 0:
            problems.append(
                LedgerViolation(
                    "billed_below_zero",
                    *key,
                    None,
                    f"PO {key[0]} line {key[1]}: billed would be {after}, below zero",
                )
            )
        if delta.get(key, ZERO) <= 0:
            continue
        if line.receipt_required:
            limit, code, word = received.get(key, ZERO), "over_received", "received"
        else:
            limit, code, word = line.quantity, "over_ordered", "ordered"
        if after > limit:
            problems.append(
                LedgerViolation(
                    code,
                    *key,
                    None,
                    f"PO {key[0]} line {key[1]}: billed would be {after}, {word} is {limit}",
                )
            )
    return tuple(problems)


def check_ledger(
    ledger: Sequence[LedgerEntry], *, orders: Iterable[Order], receipts: Iterable[ReceiptLine]
) -> tuple[LedgerViolation, ...]:
    """The invariants over a whole ledger, as if every row were written in order."""
    return check_ledger_write((), ledger, orders=orders, receipts=receipts)


def _v(code: str, e: LedgerEntry, message: str) -> LedgerViolation:
    return LedgerViolation(code, e.po_number, e.po_line_no, e.id, message)
