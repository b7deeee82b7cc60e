"""The checks of one matched invoice line, of the lines on one PO line, and of the whole invoice,
each against the tolerance table (``policy.py`` says what each variance is).

Imports: the standard library, ``procure.domain.money`` and ``procure.matching``. Each check
appends ``Reason``s; a zero variance appends nothing, so an exact match has no reasons at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from procure.domain.money import PENNY, money
from procure.matching import reasons as rc
from procure.matching.lookup import unit_price_of
from procure.matching.model import Action, Invoice, InvoiceLine, Order, OrderLine, Reason
from procure.matching.policy import HUNDRED, MatchPolicy, ToleranceRule, strongest

ZERO = Decimal(0)
EXACT = "none: an exact match is required"


@dataclass(frozen=True, slots=True)
class Context:
    invoice: Invoice
    order: Order
    policy: MatchPolicy
    credit: bool

    def rules(self, check: str, line: OrderLine | None = None) -> tuple[ToleranceRule, ...]:
        if line is None:
            return self.policy.rules_for(check, supplier=self.order.supplier_id)
        return self.policy.rules_for(
            check, item=line.seller_item_id, category=line.category, supplier=self.order.supplier_id
        )


class Position:
    """Where one PO line stands before this invoice (built by the engine, then only read)."""

    __slots__ = ("billed", "latest", "receipts", "received")

    def __init__(self) -> None:
        self.received = ZERO
        self.billed = ZERO
        """Billed before this invoice (credit notes and reversals subtracted)."""
        self.receipts: list[tuple[date, Decimal]] = []
        """(received_on, quantity) as given; returns negative (sorted only for a date check)."""
        self.latest: date | None = None
        """The last date anything was received (None: nothing)."""


def judge(rows: Sequence[ToleranceRule], variance: Decimal, base: Decimal) -> tuple[Action, str]:
    """The action for a non-zero ``variance`` and the tolerance used, in words."""
    if not rows:
        return "hold", EXACT
    exceeded = [r for r in rows if r.exceeded_by(variance, base)]
    rule = strongest(exceeded)
    if rule is None:
        return "accept", "within " + "; ".join(r.describe() for r in rows)
    return rule.action, rule.describe()


def _percent(variance: Decimal, base: Decimal) -> str:
    if base == 0:
        return "n/a"
    return f"{(variance * HUNDRED / abs(base)).quantize(Decimal('0.01'))}%"


def _signed(value: Decimal) -> str:
    return f"+{value}" if value > 0 else str(value)


def check_line(ctx: Context, ln: InvoiceLine, ol: OrderLine, out: list[Reason]) -> bool:
    """Unit, VAT rate, unit price and line amount of one line. False: the unit differs, so its
    quantities cannot be compared (nor enter the ledger)."""
    if ln.unit_code != ol.unit_code:
        where = _where(ol)
        out.append(
            Reason(
                rc.UNIT_MISMATCH,
                ln.id,
                f"Line {ln.id} is invoiced in unit {ln.unit_code} but {where} was ordered in "
                f"{ol.unit_code}; quantities cannot be compared.",
                {"order_line": where, "ordered_unit": ol.unit_code, "invoiced_unit": ln.unit_code},
                "hold",
            )
        )
        return False
    if ln.vat_rate != ol.vat_rate:
        where = _where(ol)
        out.append(
            Reason(
                rc.VAT_MISMATCH,
                ln.id,
                f"Line {ln.id} charges VAT at {ln.vat_rate}% but {where} was ordered at "
                f"{ol.vat_rate}% ({ol.vat_code}).",
                {
                    "order_line": where,
                    "ordered_rate": f"{ol.vat_rate}%",
                    "invoiced_rate": f"{ln.vat_rate}%",
                    "vat_code": ol.vat_code,
                    "tolerance": "none: a VAT rate must be the one ordered",
                },
                "hold",
            )
        )
    price = unit_price_of(ln)
    variance = price - ol.unit_price
    if variance:
        where = _where(ol)
        action, rule = judge(ctx.rules("unit_price", ol), variance, ol.unit_price)
        accepted = action == "accept"
        out.append(
            Reason(
                rc.PRICE_VARIANCE if accepted else rc.PRICE_OVER_TOLERANCE,
                ln.id,
                f"Line {ln.id} is priced at {price} a unit against {ol.unit_price} on {where} "
                f"({_signed(variance)} a unit, {_percent(variance, ol.unit_price)}), "
                + ("within tolerance." if accepted else "beyond tolerance."),
                {
                    "order_line": where,
                    "ordered_unit_price": str(ol.unit_price),
                    "invoiced_unit_price": str(price),
                    "variance": _signed(variance),
                    "variance_percent": _percent(variance, ol.unit_price),
                    "tolerance": rule,
                },
                action,
            )
        )
    quantity = ln.quantity
    expected = (quantity * ol.unit_price).quantize(PENNY, ROUND_HALF_UP)
    variance = ln.net_amount - expected
    if variance:
        where = _where(ol)
        action, rule = judge(ctx.rules("line_amount", ol), variance, expected)
        accepted = action == "accept"
        out.append(
            Reason(
                rc.LINE_AMOUNT_VARIANCE if accepted else rc.LINE_AMOUNT_OVER_TOLERANCE,
                ln.id,
                f"Line {ln.id} comes to {ln.net_amount}; {quantity} at the ordered price of "
                f"{ol.unit_price} comes to {expected} ({_signed(variance)}), "
                + ("within tolerance." if accepted else "beyond tolerance."),
                {
                    "order_line": where,
                    "invoiced_amount": str(ln.net_amount),
                    "expected_amount": str(expected),
                    "variance": _signed(variance),
                    "variance_percent": _percent(variance, expected),
                    "tolerance": rule,
                },
                action,
            )
        )
    return True


def check_group(
    ctx: Context,
    ol: OrderLine,
    group: list[InvoiceLine],
    p: Position,
    out: dict[str, list[Reason]],
) -> dict[str, Decimal]:
    """Quantity (and receipt date) of the invoice lines on one PO line, checked together. Returns
    capped ledger quantities for lines whose over-quantity a tolerance row accepts (the ledger
    never holds more than was received / ordered)."""
    invoiced = billed_quantity(ctx, group[0])
    for ln in group[1:]:
        invoiced += billed_quantity(ctx, ln)
    billed = p.billed
    if invoiced <= 0:  # a credit note, or negative lines of an invoice
        if -invoiced > billed:
            _add(out, group, Reason(
                rc.CREDIT_OVER_BILLED, None,
                f"{-invoiced} is credited on {_where(ol)} (lines {_ids(group)}), but only "
                f"{billed} has been billed there.",
                {**_figures(ol, p, invoiced), "variance": _signed(-invoiced - billed),
                 "tolerance": EXACT},
                "hold",
            ))  # fmt: skip
        return {}
    after = billed + invoiced
    if ol.receipt_required:
        if after > p.received or after > ol.quantity:
            accepted = _quantity(ctx, ol, group, p, invoiced, out)
            if accepted:
                limit = p.received if p.received < ol.quantity else ol.quantity
                return _caps(ctx, group, limit - billed)
            return {}
        if p.latest is not None and p.latest > ctx.invoice.issue_date:
            _check_date(ctx, ol, group, p, after, out)
    elif after > ol.quantity and _quantity(ctx, ol, group, p, invoiced, out):
        return _caps(ctx, group, ol.quantity - billed)
    return {}


def _quantity(
    ctx: Context,
    ol: OrderLine,
    group: list[InvoiceLine],
    p: Position,
    invoiced: Decimal,
    out: dict[str, list[Reason]],
) -> bool:
    """The reason for billing more than received / ordered; True when a tolerance accepts it."""
    billed = p.billed
    open_received = p.received - billed
    if ol.receipt_required and invoiced > open_received:
        code = rc.NOT_YET_RECEIVED if open_received <= 0 else rc.QUANTITY_OVER_RECEIVED
        variance, base = invoiced - open_received, open_received
        said = (
            f"nothing more has been received ({p.received} received, {billed} billed before)"
            if open_received <= 0
            else f"only {open_received} received and not yet billed"
        )
    else:
        code = rc.QUANTITY_OVER_ORDERED
        variance, base = billed + invoiced - ol.quantity, ol.quantity - billed
        said = f"only {ol.quantity - billed} of the {ol.quantity} ordered is left to bill"
    action: Action
    if code == rc.NOT_YET_RECEIVED:
        action, rule = "hold", "none: goods must be received before they are paid for"
    else:
        action, rule = judge(ctx.rules("quantity", ol), variance, base)
    accepted = action == "accept"
    _add(out, group, Reason(
        rc.QUANTITY_VARIANCE if accepted else code, None,
        f"{invoiced} is invoiced on {_where(ol)} (lines {_ids(group)}) but {said}"
        + ("; within tolerance, so only what is open enters the ledger." if accepted else "."),
        {**_figures(ol, p, invoiced), "variance": _signed(variance), "tolerance": rule},
        action,
    ))  # fmt: skip
    return accepted


def _where(ol: OrderLine) -> str:
    return f"PO {ol.po_number} line {ol.line_no}"


def _figures(ol: OrderLine, p: Position, invoiced: Decimal) -> dict[str, str]:
    return {
        "order_line": _where(ol),
        "ordered": str(ol.quantity),
        "received": str(p.received) if ol.receipt_required else "not needed (service)",
        "billed_before": str(p.billed),
        "invoiced": str(invoiced),
    }


def _ids(group: list[InvoiceLine]) -> str:
    return ", ".join(ln.id for ln in group)


def billed_quantity(ctx: Context, ln: InvoiceLine) -> Decimal:
    """What the line adds to the quantity billed: its quantity on an invoice, minus it on a
    credit note (so a negative invoice line and a credit note line both reduce billed)."""
    return -ln.quantity if ctx.credit else ln.quantity


def _caps(ctx: Context, group: list[InvoiceLine], room: Decimal) -> dict[str, Decimal]:
    """Ledger quantities that bill at most ``room`` in all: the lines that bill are cut back
    in line-id order; the lines that credit stay as they are and make room."""
    quantities = [billed_quantity(ctx, ln) for ln in group]
    left = (room if room > 0 else ZERO) - sum((q for q in quantities if q < 0), ZERO)
    caps: dict[str, Decimal] = {}
    for ln, q in zip(group, quantities, strict=True):  # already in line-id order
        if q > 0:
            caps[ln.id] = q if q <= left else left
            left -= caps[ln.id]
    return caps


def _check_date(
    ctx: Context,
    ol: OrderLine,
    group: list[InvoiceLine],
    p: Position,
    needed: Decimal,
    out: dict[str, list[Reason]],
) -> None:
    """Days the invoice is dated before the receipt that brought the quantity it bills."""
    total = ZERO
    arrived: date | None = None
    for on, quantity in sorted(p.receipts):
        total += quantity
        arrived = on
        if total >= needed:
            break
    issued = ctx.invoice.issue_date
    if arrived is None or arrived <= issued:
        return
    days = Decimal((arrived - issued).days)
    action, rule = judge(ctx.rules("date", ol), days, ZERO)
    accepted = action == "accept"
    where = f"PO {ol.po_number} line {ol.line_no}"
    _add(out, group, Reason(
        rc.DATE_VARIANCE if accepted else rc.INVOICE_BEFORE_RECEIPT, None,
        f"The invoice is dated {issued.isoformat()}, {days} days before the goods it bills on "
        f"{where} arrived ({arrived.isoformat()})"
        + (", within tolerance." if accepted else "."),
        {**_figures(ol, p, needed - p.billed), "issue_date": issued.isoformat(), "received_on": arrived.isoformat(),
         "variance": f"{days} days", "tolerance": rule},
        action,
    ))  # fmt: skip


def _add(out: dict[str, list[Reason]], group: list[InvoiceLine], reason: Reason) -> None:
    for ln in group:
        out[ln.id].append(Reason(reason.code, ln.id, reason.message, reason.figures, reason.action))


def check_invoice(
    ctx: Context, matched: list[tuple[InvoiceLine, OrderLine]]
) -> tuple[list[Reason], Decimal]:
    """Invoice total (BT-109 against the sum of the lines: document-level charges and
    allowances) and VAT (BT-110 against VAT at the ordered rates on the line amounts); and the
    net the invoice should come to at the ordered prices."""
    out: list[Reason] = []
    inv = ctx.invoice
    lines_total = ZERO
    expected_net = ZERO
    by_rate: dict[Decimal, Decimal] = {}
    for ln, ol in matched:
        net = ln.net_amount
        expected_net += (ln.quantity * ol.unit_price).quantize(PENNY, ROUND_HALF_UP)
        lines_total += net
        by_rate[ol.vat_rate] = by_rate.get(ol.vat_rate, ZERO) + net
    variance = inv.tax_exclusive - lines_total
    if variance:
        action, rule = judge(ctx.rules("invoice_total"), variance, lines_total)
        accepted = action == "accept"
        out.append(
            Reason(
                rc.TOTAL_VARIANCE if accepted else rc.TOTAL_MISMATCH,
                None,
                f"The invoice total before VAT is {inv.tax_exclusive} but its lines add up "
                f"to {lines_total} ({_signed(variance)}: charges or allowances not on the order), "
                + ("within tolerance." if accepted else "beyond tolerance."),
                {
                    "invoice_total": str(inv.tax_exclusive),
                    "lines_total": str(lines_total),
                    "variance": _signed(variance),
                    "variance_percent": _percent(variance, lines_total),
                    "tolerance": rule,
                },
                action,
            )
        )
    expected = sum((money(net * rate / HUNDRED) for rate, net in by_rate.items()), ZERO)
    variance = inv.vat_total - expected
    if variance:
        action, rule = judge(ctx.rules("vat"), variance, expected)
        accepted = action == "accept"
        out.append(
            Reason(
                rc.VAT_VARIANCE if accepted else rc.VAT_MISMATCH,
                None,
                f"The invoice charges {inv.vat_total} VAT; at the ordered rates its lines "
                f"carry {expected} ({_signed(variance)}), "
                + ("within tolerance." if accepted else "beyond tolerance."),
                {
                    "invoiced_vat": str(inv.vat_total),
                    "expected_vat": str(expected),
                    "variance": _signed(variance),
                    "variance_percent": _percent(variance, expected),
                    "tolerance": rule,
                },
                action,
            )
        )
    return out, expected_net
