"""Finding the order an invoice is for, and the order line each invoice line is for.

Imports: the standard library, rapidfuzz and ``procure.matching``. Exact keys first, through dict
indexes built once per decision (O(lines)); the description similarity only runs for a line whose
BT-132 and seller item id both fail, and only over the one order found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from procure.matching import reasons as rc
from procure.matching.model import (
    OPEN_ORDER_STATUSES,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Order,
    OrderLine,
    PriorInvoice,
    Reason,
)
from procure.matching.numbers import normalise_number
from procure.matching.policy import MatchPolicy

PRICE_BONUS = 10
"""Points added to a description candidate whose unit price equals the invoiced price."""
QUANTITY_BONUS = 5
"""Points added when the invoiced quantity fits what is still open on the candidate line."""

OpenQuantity = Callable[[OrderLine], Decimal | None]


class OrderIndex:
    """The lines of one order by line number, and (built on first use) by seller item id and
    by description."""

    __slots__ = ("_by_item", "_descriptions", "by_no", "order")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.by_no = {line.line_no: line for line in order.lines}
        self._by_item: dict[str, tuple[OrderLine, ...]] | None = None
        self._descriptions: list[str] | None = None

    @property
    def descriptions(self) -> list[str]:
        """The lines' descriptions as rapidfuzz compares them (lower case, no punctuation)."""
        if self._descriptions is None:
            self._descriptions = [default_process(line.description) for line in self.order.lines]
        return self._descriptions

    @property
    def by_item(self) -> dict[str, tuple[OrderLine, ...]]:
        if self._by_item is None:
            by_item: dict[str, list[OrderLine]] = {}
            for line in self.order.lines:
                if line.seller_item_id:
                    by_item.setdefault(line.seller_item_id, []).append(line)
            self._by_item = {k: tuple(v) for k, v in by_item.items()}
        return self._by_item


class LineFound(NamedTuple):
    line: OrderLine | None
    found_by: str
    """``order_line_reference``, ``seller_item_id``, ``description`` or ``none``."""
    reason: Reason | None = None
    score: str | None = None


def unit_price_of(line: InvoiceLine) -> Decimal:
    """BT-146 per one unit (divided by BT-149 when the document gives a base quantity)."""
    base = line.price_base_quantity
    if base == 1 or base == 0:
        return line.unit_price
    return line.unit_price / base


def find_line(
    line: InvoiceLine, index: OrderIndex, policy: MatchPolicy, open_quantity: OpenQuantity
) -> LineFound:
    ref = line.order_line_reference
    if ref:
        ref = ref.strip()
        if ref.isdigit():
            hit = index.by_no.get(int(ref))
            if hit is not None:
                return LineFound(hit, "order_line_reference")
    item = line.seller_item_id
    if item:
        hits = index.by_item.get(item.strip())
        if hits:
            if len(hits) == 1:
                return LineFound(hits[0], "seller_item_id")
            price = unit_price_of(line)
            same_price = [h for h in hits if h.unit_price == price]
            if len(same_price) == 1:
                return LineFound(same_price[0], "seller_item_id")
            return LineFound(
                None,
                "none",
                _ambiguous(
                    line,
                    index.order,
                    [str(h.line_no) for h in hits],
                    f"seller item id {item} is on {len(hits)} lines of the order at "
                    + ("the same price" if same_price else "other prices"),
                ),
            )
    return _by_description(line, index, policy, open_quantity)


def _by_description(
    line: InvoiceLine, index: OrderIndex, policy: MatchPolicy, open_quantity: OpenQuantity
) -> LineFound:
    price = unit_price_of(line)
    scored: list[tuple[float, float, OrderLine]] = []
    lines = index.order.lines
    # one C-level pass over the order's (once-processed) descriptions, below-threshold dropped
    alike = process.extract(
        default_process(line.item_name),
        index.descriptions,
        scorer=fuzz.token_set_ratio,
        processor=None,
        score_cutoff=policy.description_min_score,
        limit=None,
    )
    for _, similarity, at in alike:
        candidate = lines[at]
        total = similarity
        if candidate.unit_price == price:
            total += PRICE_BONUS
        left = open_quantity(candidate)
        if left is not None and line.quantity <= left:
            total += QUANTITY_BONUS
        scored.append((total, similarity, candidate))
    scored.sort(key=lambda s: (-s[0], s[2].line_no))
    figures = {
        "order": index.order.number,
        "item_name": line.item_name,
        "order_line_reference": line.order_line_reference or "none",
        "seller_item_id": line.seller_item_id or "none",
    }
    if not scored:
        return LineFound(
            None,
            "none",
            Reason(
                code=rc.LINE_NOT_FOUND,
                invoice_line_id=line.id,
                message=(
                    f"Invoice line {line.id} ({line.item_name}) matches no line of order "
                    f"{index.order.number}: no order line number, no known item id, and no order "
                    f"line described closely enough (at least {policy.description_min_score} of 100)."
                ),
                figures=figures,
                action="hold",
            ),
        )
    best = scored[0]
    if len(scored) > 1 and best[0] - scored[1][0] < policy.description_margin:
        close = [s for s in scored if best[0] - s[0] < policy.description_margin]
        return LineFound(
            None,
            "none",
            _ambiguous(
                line,
                index.order,
                [f"{s[2].line_no} ({s[0]:.0f})" for s in close],
                f"{len(close)} order lines are described almost alike",
            ),
        )
    return LineFound(best[2], "description", score=f"{best[1]:.0f}")


def _ambiguous(line: InvoiceLine, order: Order, candidates: list[str], why: str) -> Reason:
    return Reason(
        code=rc.AMBIGUOUS_LINE,
        invoice_line_id=line.id,
        message=(
            f"Invoice line {line.id} ({line.item_name}) could be more than one line of order "
            f"{order.number} ({why}); a person must say which."
        ),
        figures={
            "order": order.number,
            "candidate_lines": ", ".join(candidates),
            "item_name": line.item_name,
            "seller_item_id": line.seller_item_id or "none",
        },
        action="hold",
    )


@dataclass(frozen=True, slots=True)
class OrderFound:
    order: Order | None
    found_by: str
    """``order_reference``, ``preceding_invoice``, ``buyer_reference``, ``open_orders``."""
    reason: Reason | None = None


def find_order(
    invoice: Invoice,
    orders: Sequence[Order],
    ledger: Sequence[LedgerEntry],
    prior_invoices: Sequence[PriorInvoice],
    policy: MatchPolicy,
) -> OrderFound:
    ref = invoice.order_reference.strip() if invoice.order_reference else None
    if ref:
        for order in orders:
            if order.number == ref or order.number.upper() == ref.upper():
                return OrderFound(order, "order_reference")
        return OrderFound(
            None,
            "none",
            _no_order(
                invoice,
                f"The invoice quotes order {ref}, which is not one of our orders.",
                {"order_reference": ref},
            ),
        )
    if invoice.kind == "credit_note" and invoice.preceding_invoices:
        wanted = {normalise_number(n) for n in invoice.preceding_invoices} - {None}
        ids = {
            p.id
            for p in prior_invoices
            if p.supplier_id == invoice.supplier_id and normalise_number(p.number) in wanted
        }
        numbers = sorted({e.po_number for e in ledger if e.invoice_id in ids})
        hits = [o for o in orders if o.number in numbers]
        if len(hits) == 1:
            return OrderFound(hits[0], "preceding_invoice")
    br = invoice.buyer_reference.strip() if invoice.buyer_reference else None
    if br:
        key = br.upper()
        hits = [o for o in orders if o.number.upper() == key] or [
            o
            for o in orders
            if o.buyer_reference is not None
            and o.buyer_reference.strip().upper() == key
            and o.supplier_id == invoice.supplier_id
        ]
        if len(hits) == 1:
            return OrderFound(hits[0], "buyer_reference")
    candidates = sorted(
        (
            o
            for o in orders
            if o.supplier_id == invoice.supplier_id and o.status in OPEN_ORDER_STATUSES
        ),
        key=lambda o: o.number,
    )
    if len(candidates) == 1:
        return OrderFound(candidates[0], "open_orders")
    if not candidates:
        return OrderFound(
            None,
            "none",
            _no_order(
                invoice,
                "The invoice quotes no order number we know, and the supplier has no open order.",
                {"buyer_reference": br or "none", "open_orders": "0"},
            ),
        )
    fitting = [o for o in candidates if _every_line_found(invoice, o, policy)]
    if len(fitting) == 1:
        return OrderFound(fitting[0], "open_orders")
    shown = fitting or candidates
    return OrderFound(
        None,
        "none",
        Reason(
            code=rc.AMBIGUOUS_ORDER,
            invoice_line_id=None,
            message=(
                f"The invoice quotes no order number, and {len(shown)} of the supplier's open "
                "orders could be the one; a person must say which."
            ),
            figures={
                "candidate_orders": ", ".join(o.number for o in shown),
                "buyer_reference": br or "none",
            },
            action="hold",
        ),
    )


def _every_line_found(invoice: Invoice, order: Order, policy: MatchPolicy) -> bool:
    """Whether each line is found on ``order`` by its item id or description (a BT-132 line
    number says nothing when the invoice names no order: every order has a line 1)."""
    index = OrderIndex(order)
    return all(
        find_line(replace(line, order_line_reference=None), index, policy, _unknown_open).line
        is not None
        for line in invoice.lines
    )


def _unknown_open(_line: OrderLine) -> Decimal | None:
    return None


def _no_order(invoice: Invoice, message: str, figures: dict[str, str]) -> Reason:
    return Reason(rc.NO_ORDER, None, message, figures, "hold")
