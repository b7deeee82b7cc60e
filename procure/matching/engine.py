"""The matching engine: one pure, deterministic function from an invoice and what it is matched
against to a ``Decision`` (see the package docstring for the rules).

Imports: the standard library, ``procure.domain`` and ``procure.matching``. No clock, database or
logger: everything the decision depends on is an argument, so the same inputs always give the
same decision, whatever order the invoice's lines come in (lines are decided independently, and
lines on the same PO line are checked together). Work is O(invoice lines + order lines +
receipts + ledger rows + prior invoices) with dict indexes; the description similarity runs
only for a line whose BT-132 and seller item id both fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

from procure.domain.distribution import DistributionLine
from procure.domain.money import money
from procure.matching import reasons as rc
from procure.matching.checks import Context, Position, check_group, check_invoice, check_line
from procure.matching.duplicates import bank_reasons, duplicate_reasons
from procure.matching.lookup import LineFound, OrderIndex, find_line, find_order, unit_price_of
from procure.matching.model import (
    ACTION_RANK,
    OPEN_ORDER_STATUSES,
    Decision,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LineDecision,
    Order,
    OrderLine,
    Outcome,
    PriorInvoice,
    Reason,
    ReceiptLine,
    SupplierRecord,
)
from procure.matching.policy import MatchPolicy

ZERO = Decimal(0)


def decide(
    invoice: Invoice,
    *,
    orders: Sequence[Order],
    receipts: Sequence[ReceiptLine],
    ledger: Sequence[LedgerEntry],
    prior_invoices: Sequence[PriorInvoice],
    supplier: SupplierRecord | None,
    policy: MatchPolicy,
) -> Decision:
    """Match ``invoice`` (or credit note) and say why, line by line. See the package docstring."""
    head = duplicate_reasons(invoice, prior_invoices, policy.duplicate_window_days)
    head += bank_reasons(invoice, supplier)
    lines = sorted(invoice.lines, key=_line_key)
    found_order = find_order(invoice, orders, ledger, prior_invoices, policy)
    order = found_order.order
    repeated = _repeated_ids(lines)
    if order is None or repeated:
        if found_order.reason is not None:
            head.append(found_order.reason)
        if repeated:
            head.append(
                Reason(
                    rc.LINE_IDS_NOT_UNIQUE,
                    None,
                    f"Line numbers {', '.join(repeated)} appear more than once on the invoice, "
                    "so its lines cannot be told apart; ask the supplier for a corrected one.",
                    {"repeated_line_ids": ", ".join(repeated)},
                    "hold",
                )
            )
        undecided = tuple(
            LineDecision(ln.id, None, None, "exception", (), {"found_by": "none"}) for ln in lines
        )
        return Decision(invoice.id, _outcome(head), (), tuple(head), undecided, ())
    head += _order_reasons(invoice, order)
    positions = _positions(order, receipts, ledger, invoice.id)
    credit = invoice.kind == "credit_note"
    ctx = Context(invoice, order, policy, credit)

    def open_quantity(ol: OrderLine) -> Decimal:
        p = positions.get(ol.line_no)
        billed = p.billed if p else ZERO
        if credit:
            return billed
        return (p.received if p else ZERO) - billed if ol.receipt_required else ol.quantity - billed

    index = OrderIndex(order)
    found: dict[str, LineFound] = {}
    groups: dict[int, list[InvoiceLine]] = {}
    line_reasons: dict[str, list[Reason]] = {}
    matched_lines: list[tuple[InvoiceLine, OrderLine]] = []
    for ln in lines:
        hit = find_line(ln, index, policy, open_quantity)
        found[ln.id] = hit
        reasons = line_reasons[ln.id] = []
        if hit.line is None:
            if hit.reason is not None:
                reasons.append(hit.reason)
            continue
        if check_line(ctx, ln, hit.line, reasons):
            groups.setdefault(hit.line.line_no, []).append(ln)
            matched_lines.append((ln, hit.line))
    caps: dict[str, Decimal] = {}
    for line_no, group in groups.items():
        ol = index.by_no[line_no]
        caps.update(check_group(ctx, ol, group, positions.get(line_no, _NOTHING), line_reasons))
    expected_net: Decimal | None = None
    if len(matched_lines) == len(lines):
        tail, expected_net = check_invoice(ctx, matched_lines)
        head += tail
    return _assemble(
        invoice, order, lines, found, line_reasons, positions, caps, head, expected_net
    )


_NOTHING = Position()  # never changed: only lines without receipts or rows read it


def _repeated_ids(lines: list[InvoiceLine]) -> list[str]:
    """Line ids (BT-126) that appear more than once."""
    if len({ln.id for ln in lines}) == len(lines):
        return []
    return sorted(i for i, n in Counter(ln.id for ln in lines).items() if n > 1)


def _line_key(line: InvoiceLine) -> tuple[int, str]:
    """Shorter ids first, then alphabetical: 1, 2, 10 come in that order."""
    return (len(line.id), line.id)


def _positions(
    order: Order, receipts: Sequence[ReceiptLine], ledger: Sequence[LedgerEntry], invoice_id: str
) -> dict[int, Position]:
    """Received (with receipt dates) and billed per line of ``order``, from receipts and the
    ledger; this invoice's own rows are left out so that deciding again gives the same answer."""
    number = order.number
    out: dict[int, Position] = {}
    for r in receipts:
        if r.po_number == number:
            p = out.get(r.po_line_no)
            if p is None:
                p = out[r.po_line_no] = Position()
            p.received += r.quantity
            p.receipts.append((r.received_on, r.quantity))
            if p.latest is None or r.received_on > p.latest:
                p.latest = r.received_on
    for e in ledger:
        if e.po_number == number and e.invoice_id != invoice_id:
            p = out.get(e.po_line_no)
            if p is None:
                p = out[e.po_line_no] = Position()
            p.billed += e.quantity
    return out


def _order_reasons(invoice: Invoice, order: Order) -> list[Reason]:
    out: list[Reason] = []
    if order.status not in OPEN_ORDER_STATUSES:
        out.append(
            Reason(
                rc.ORDER_CLOSED,
                None,
                f"Order {order.number} is {order.status.replace('_', ' ')}: nothing more can be "
                "invoiced against it unless it is reopened.",
                {"order": order.number, "status": order.status},
                "hold",
            )
        )
    if invoice.supplier_id != order.supplier_id:
        seller = invoice.supplier_id or "a seller we do not recognise"
        out.append(
            Reason(
                rc.SUPPLIER_MISMATCH,
                None,
                f"Order {order.number} was placed with supplier {order.supplier_id}, but this "
                f"invoice is from {seller}.",
                {
                    "order": order.number,
                    "order_supplier": order.supplier_id,
                    "invoice_supplier": invoice.supplier_id or "unknown",
                },
                "hold",
            )
        )
    if invoice.currency != order.currency:
        out.append(
            Reason(
                rc.CURRENCY_MISMATCH,
                None,
                f"The invoice is in {invoice.currency} but order {order.number} is in "
                f"{order.currency}.",
                {"order_currency": order.currency, "invoice_currency": invoice.currency},
                "hold",
            )
        )
    return out


def _outcome(reasons: Sequence[Reason]) -> Outcome:
    if not reasons:
        return "matched"
    worst = max(ACTION_RANK[r.action] for r in reasons)
    return "matched_within_tolerance" if worst == 0 else "exception"


def _assemble(
    invoice: Invoice,
    order: Order,
    lines: list[InvoiceLine],
    found: dict[str, LineFound],
    line_reasons: dict[str, list[Reason]],
    positions: dict[int, Position],
    caps: dict[str, Decimal],
    invoice_reasons: list[Reason],
    expected_net: Decimal | None,
) -> Decision:
    credit = invoice.kind == "credit_note"
    decisions: list[LineDecision] = []
    entries: list[LedgerEntry] = []
    distribution: list[DistributionLine] = []
    all_reasons = list(invoice_reasons)
    for ln in lines:
        hit = found[ln.id]
        reasons = line_reasons[ln.id]
        all_reasons += reasons
        ol = hit.line
        if ol is None:
            decisions.append(
                LineDecision(ln.id, None, None, "exception", tuple(reasons), {"found_by": "none"})
            )
            continue
        p = positions.get(ol.line_no, _NOTHING)
        price = unit_price_of(ln)
        figures = {
            "found_by": hit.found_by,
            "ordered": str(ol.quantity),
            "received": str(p.received) if ol.receipt_required else "not needed (service)",
            "billed_before": str(p.billed),
            "invoiced": str(ln.quantity),
            "unit": ol.unit_code,
            "ordered_unit_price": str(ol.unit_price),
            "invoiced_unit_price": str(price),
        }
        if hit.score is not None:
            figures["description_score"] = hit.score
        decisions.append(
            LineDecision(
                ln.id,
                order.number,
                ol.line_no,
                _outcome(reasons) if reasons else "matched",
                tuple(reasons),
                figures,
            )
        )
        if ln.unit_code != ol.unit_code:
            continue  # quantities in another unit cannot enter the ledger
        quantity = abs(caps.get(ln.id, ln.quantity))
        amount = abs(ln.net_amount)
        variance = (
            ZERO if price == ol.unit_price else money((price - ol.unit_price) * abs(ln.quantity))
        )
        if credit:
            quantity, amount, variance = -quantity, -amount, -variance
        # positional: id, invoice, invoice line, PO, PO line, quantity, amount, reverses, variance
        entries.append(
            LedgerEntry(
                f"{invoice.id}:{ln.id}", invoice.id, ln.id, order.number, ol.line_no,
                quantity, amount, None, variance,
            )
        )  # fmt: skip
        distribution.append(
            DistributionLine(
                invoice_line_id=ln.id,
                po_number=order.number,
                po_line_no=ol.line_no,
                cost_centre=ol.cost_centre,
                gl_code=ol.gl_code,
                vat_code=ol.vat_code,
                vat_category=ln.vat_category,
                vat_rate=ln.vat_rate,
                net_amount=ln.net_amount,
                description=ln.item_name,
            )
        )
    return Decision(
        invoice_id=invoice.id,
        outcome=_outcome(all_reasons),
        po_numbers=(order.number,),
        reasons=tuple(all_reasons),
        lines=tuple(decisions),
        ledger_entries=tuple(entries),
        distribution=tuple(distribution),
        expected_net=expected_net,
        net_variance=None if expected_net is None else invoice.tax_exclusive - expected_net,
    )
