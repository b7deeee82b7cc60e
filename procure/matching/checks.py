"""The checks of one matched invoice line, of the lines on one PO line, and of the whole invoice,
each against the tolerance table (``policy.py`` says what each variance is).

Imports: the standard library, ``procure.domain.money`` and ``procure.matching``. Each check
appends ``Reason``s; a zero variance appends nothing, so an exact match has no reasons at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from procure.domain.money import money
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


@dataclass(frozen=True, slots=True)
class Position:
    received: Decimal
    billed: Decimal
    """Billed before this invoice (credit notes and reversals subtracted)."""
    receipts: tuple[tuple[date, Decimal], ...]
    """(received_on, quantity) in date order; returns negative."""


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
    where = f"PO {ol.po_number} line {ol.line_no}"
    if ln.unit_code != ol.unit_code:
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
    quantity = abs(ln.quantity)
    expected = money(quantity * ol.unit_price)
    variance = abs(ln.net_amount) - expected
    if variance:
        action, rule = judge(ctx.rules("line_amount", ol), variance, expected)
        accepted = action == "accept"
        out.append(
            Reason(
                rc.LINE_AMOUNT_VARIANCE if accepted else rc.LINE_AMOUNT_OVER_TOLERANCE,
                ln.id,
                f"Line {ln.id} comes to {abs(ln.net_amount)}; {quantity} at the ordered price of "
                f"{ol.unit_price} comes to {expected} ({_signed(variance)}), "
                + ("within tolerance." if accepted else "beyond tolerance."),
                {
                    "order_line": where,
                    "invoiced_amount": str(abs(ln.net_amount)),
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
    invoiced = sum((abs(ln.quantity) for ln in group), ZERO)
    where = f"PO {ol.po_number} line {ol.line_no}"
    figures = {
        "order_line": where,
        "ordered": str(ol.quantity),
        "received": str(p.received) if ol.receipt_required else "not needed (service)",
        "billed_before": str(p.billed),
        "invoiced": str(invoiced),
    }
    ids = ", ".join(ln.id for ln in group)
    if ctx.credit:
        if invoiced > p.billed:
            _add(out, group, Reason(
                rc.CREDIT_OVER_BILLED, None,
                f"The credit note credits {invoiced} on {where} (lines {ids}), but only "
                f"{p.billed} has been billed there.",
                {**figures, "variance": _signed(invoiced - p.billed), "tolerance": EXACT},
                "hold",
            ))  # fmt: skip
        return {}
    code: str | None = None
    variance = base = ZERO
    said = ""
    if ol.receipt_required:
        limit = p.received if p.received < ol.quantity else ol.quantity
        open_received = p.received - p.billed
        if invoiced > open_received:
            code = rc.NOT_YET_RECEIVED if open_received <= 0 else rc.QUANTITY_OVER_RECEIVED
            variance, base = invoiced - open_received, open_received
            said = (
                f"nothing more has been received ({p.received} received, {p.billed} billed before)"
                if open_received <= 0
                else f"only {open_received} received and not yet billed"
            )
        elif p.billed + invoiced > ol.quantity:
            code = rc.QUANTITY_OVER_ORDERED
            variance, base = p.billed + invoiced - ol.quantity, ol.quantity - p.billed
            said = f"only {ol.quantity - p.billed} of the {ol.quantity} ordered is left to bill"
        caps = _caps(group, limit - p.billed)
    else:
        limit = ol.quantity
        if p.billed + invoiced > ol.quantity:
            code = rc.QUANTITY_OVER_ORDERED
            variance, base = p.billed + invoiced - ol.quantity, ol.quantity - p.billed
            said = f"only {ol.quantity - p.billed} of the {ol.quantity} ordered is left to bill"
        caps = _caps(group, limit - p.billed)
    if code is not None:
        if code == rc.NOT_YET_RECEIVED:
            action: Action
            action, rule = "hold", "none: goods must be received before they are paid for"
        else:
            action, rule = judge(ctx.rules("quantity", ol), variance, base)
        accepted = action == "accept"
        _add(out, group, Reason(
            rc.QUANTITY_VARIANCE if accepted else code, None,
            f"{invoiced} is invoiced on {where} (lines {ids}) but {said}"
            + ("; within tolerance, so only what is open enters the ledger." if accepted else "."),
            {**figures, "variance": _signed(variance), "tolerance": rule},
            action,
        ))  # fmt: skip
        if accepted:
            return caps
    if ol.receipt_required and p.receipts:
        _check_date(ctx, ol, group, p, p.billed + invoiced, out, figures)
    return {}


def _caps(group: list[InvoiceLine], room: Decimal) -> dict[str, Decimal]:
    left = room if room > 0 else ZERO
    caps: dict[str, Decimal] = {}
    for ln in group:  # already in line-id order
        q = abs(ln.quantity)
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
    figures: dict[str, str],
) -> None:
    """Days the invoice is dated before the receipt that brought the quantity it bills."""
    total = ZERO
    arrived: date | None = None
    for on, quantity in p.receipts:
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
        {**figures, "issue_date": issued.isoformat(), "received_on": arrived.isoformat(),
         "variance": f"{days} days", "tolerance": rule},
        action,
    ))  # fmt: skip


def _add(out: dict[str, list[Reason]], group: list[InvoiceLine], reason: Reason) -> None:
    for ln in group:
        out[ln.id].append(Reason(reason.code, ln.id, reason.message, reason.figures, reason.action))


def check_invoice(ctx: Context, matched: list[tuple[InvoiceLine, OrderLine]]) -> list[Reason]:
    """Invoice total (BT-109 against the sum of the lines: document-level charges and
    allowances) and VAT (BT-110 against VAT at the ordered rates on the line amounts)."""
    out: list[Reason] = []
    inv = ctx.invoice
    lines_total = sum((abs(ln.net_amount) for ln, _ in matched), ZERO)
    variance = abs(inv.tax_exclusive) - lines_total
    if variance:
        action, rule = judge(ctx.rules("invoice_total"), variance, lines_total)
        accepted = action == "accept"
        out.append(
            Reason(
                rc.TOTAL_VARIANCE if accepted else rc.TOTAL_MISMATCH,
                None,
                f"The invoice total before VAT is {abs(inv.tax_exclusive)} but its lines add up "
                f"to {lines_total} ({_signed(variance)}: charges or allowances not on the order), "
                + ("within tolerance." if accepted else "beyond tolerance."),
                {
                    "invoice_total": str(abs(inv.tax_exclusive)),
                    "lines_total": str(lines_total),
                    "variance": _signed(variance),
                    "variance_percent": _percent(variance, lines_total),
                    "tolerance": rule,
                },
                action,
            )
        )
    by_rate: dict[Decimal, Decimal] = {}
    for ln, ol in matched:
        by_rate[ol.vat_rate] = by_rate.get(ol.vat_rate, ZERO) + abs(ln.net_amount)
    expected = sum((money(net * rate / HUNDRED) for rate, net in by_rate.items()), ZERO)
    variance = abs(inv.vat_total) - expected
    if variance:
        action, rule = judge(ctx.rules("vat"), variance, expected)
        accepted = action == "accept"
        out.append(
            Reason(
                rc.VAT_VARIANCE if accepted else rc.VAT_MISMATCH,
                None,
                f"The invoice charges {abs(inv.vat_total)} VAT; at the ordered rates its lines "
                f"carry {expected} ({_signed(variance)}), "
                + ("within tolerance." if accepted else "beyond tolerance."),
                {
                    "invoiced_vat": str(abs(inv.vat_total)),
                    "expected_vat": str(expected),
                    "variance": _signed(variance),
                    "variance_percent": _percent(variance, expected),
                    "tolerance": rule,
                },
                action,
            )
        )
    return out
