"""What the matching engine reads and what it returns: frozen dataclasses, ``Decimal`` money.

Imports: the standard library and ``procure.domain`` only. The caller (the matching service)
maps its rows onto these types; the engine never sees a database row, a parsed document or a
clock. Quantities are in the order line's unit; amounts in the document currency with 2 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from procure.domain.distribution import DistributionLine

Action = Literal["accept", "hold", "reject"]
Outcome = Literal["matched", "matched_within_tolerance", "exception"]
InvoiceKind = Literal["invoice", "credit_note"]

OPEN_ORDER_STATUSES = frozenset({"open", "issued"})
"""Order statuses an invoice may be matched against; any other (``closed``, ``cancelled``,
``on_hold``, ...) gives ``order_closed``."""

ACTION_RANK: Mapping[str, int] = {"accept": 0, "hold": 1, "reject": 2}


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderLine:
    po_number: str
    line_no: int
    description: str
    seller_item_id: str | None
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    """Net price per one ``unit_code`` (the order has no price base quantity)."""
    net_amount: Decimal
    vat_code: str
    """The council's VAT code (e.g. ``S20``), carried into the distribution."""
    vat_rate: Decimal
    """Percent, e.g. ``Decimal("20")``."""
    cost_centre: str
    gl_code: str
    category: str | None
    receipt_required: bool
    """True: goods, matched 3-way (billed <= received). False: services, matched 2-way
    (billed <= ordered)."""


@dataclass(frozen=True, slots=True)
class Order:
    number: str
    supplier_id: str
    currency: str
    status: str
    """``open``/``issued`` may be invoiced; anything else gives ``order_closed``."""
    buyer_reference: str | None
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    po_number: str
    po_line_no: int
    quantity: Decimal
    """Negative for a return to the supplier."""
    received_on: date


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One row of the match ledger (after iDempiere's M_MatchInv): an invoice line matched to a
    PO line. Rows are never changed or deleted; a correction is a new row with ``reverses`` set
    to the id of the row it cancels and the opposite quantity and amount."""

    id: str
    invoice_id: str
    invoice_line_id: str
    po_number: str
    po_line_no: int
    quantity: Decimal
    """Signed: positive for an invoice, negative for a credit note or a reversal of an invoice."""
    amount: Decimal
    """Signed net amount (BT-131, with the same sign as ``quantity``)."""
    reverses: str | None = None
    price_variance: Decimal = Decimal(0)
    """(invoiced unit price - ordered unit price) x quantity, signed like ``amount``."""


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    id: str
    """BT-126."""
    quantity: Decimal
    """BT-129, as the document states it (positive on a credit note in the usual case)."""
    unit_code: str
    """BT-130."""
    unit_price: Decimal
    """BT-146 net price, per ``price_base_quantity`` units."""
    price_base_quantity: Decimal
    """BT-149 (1 when the document gives none)."""
    net_amount: Decimal
    """BT-131."""
    order_line_reference: str | None
    """BT-132, the PO line number as text."""
    seller_item_id: str | None
    """BT-155."""
    item_name: str
    """BT-153."""
    vat_category: str
    """BT-151."""
    vat_rate: Decimal
    """BT-152, percent."""


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    kind: InvoiceKind
    supplier_id: str | None
    """The council's supplier id intake identified, or None when the seller is unknown."""
    number: str
    """BT-1."""
    issue_date: date
    """BT-2."""
    currency: str
    """BT-5."""
    order_reference: str | None
    """BT-13."""
    buyer_reference: str | None
    """BT-10."""
    preceding_invoices: tuple[str, ...]
    """BT-25 numbers (a credit note names the invoices it corrects)."""
    payee_account: str | None
    """BT-84 of the first credit transfer."""
    lines: tuple[InvoiceLine, ...]
    tax_exclusive: Decimal
    """BT-109."""
    vat_total: Decimal
    """BT-110."""
    payable: Decimal
    """BT-115."""
    sha256: str
    """Hash of the original document bytes."""


@dataclass(frozen=True, slots=True)
class PriorInvoice:
    """An invoice already received from the supplier (for the duplicate checks)."""

    id: str
    supplier_id: str | None
    number: str
    issue_date: date
    payable: Decimal
    sha256: str
    kind: InvoiceKind = "invoice"


@dataclass(frozen=True, slots=True)
class SupplierRecord:
    id: str
    bank_accounts: tuple[str, ...]
    """Accounts on the council's supplier record (IBAN or sort code + account number)."""


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a line or invoice is not a plain match. ``code`` is stable (see ``reasons.py``);
    ``message`` is plain words; ``figures`` is ordered (ordered, received, billed_before,
    invoiced, variance, tolerance, ...) with every value as text."""

    code: str
    invoice_line_id: str | None
    message: str
    figures: Mapping[str, str]
    action: Action

    def as_data(self) -> dict[str, object]:
        return {
            "code": self.code,
            "invoice_line_id": self.invoice_line_id,
            "message": self.message,
            "figures": dict(self.figures),
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class LineDecision:
    invoice_line_id: str
    po_number: str | None
    po_line_no: int | None
    outcome: Outcome
    reasons: tuple[Reason, ...]
    figures: Mapping[str, str]
    """How the line was found (``found_by``: order_line_reference | seller_item_id |
    description) and ordered / received / billed_before / invoiced / unit prices."""

    def as_data(self) -> dict[str, object]:
        return {
            "invoice_line_id": self.invoice_line_id,
            "po_number": self.po_number,
            "po_line_no": self.po_line_no,
            "outcome": self.outcome,
            "reasons": [r.as_data() for r in self.reasons],
            "figures": dict(self.figures),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    invoice_id: str
    outcome: Outcome
    po_numbers: tuple[str, ...]
    reasons: tuple[Reason, ...]
    """Every reason of the invoice: invoice-level ones first, then each line's, by line id."""
    lines: tuple[LineDecision, ...]
    """One per invoice line, sorted by invoice line id (so the input's line order never
    changes the decision)."""
    ledger_entries: tuple[LedgerEntry, ...]
    """The rows to add to the match ledger, one per invoice line that found its PO line. Write
    them when ``outcome`` is not ``exception`` (or when a person releases the exception), after
    ``check_ledger_write`` accepts them."""
    distribution: tuple[DistributionLine, ...] = field(default=())
    """One per ledger entry: the order line's cost centre, GL code and VAT code."""
    expected_net: Decimal | None = None
    """What the invoice should come to before VAT at the ordered prices (the sum over its lines
    of quantity x ordered unit price, each rounded to the penny); None unless every line found
    its PO line."""
    net_variance: Decimal | None = None
    """BT-109 minus ``expected_net``: the money a person releases when they release a price or
    total variance (``MatchPolicy.needs_reapproval(net_variance, expected_net)`` says whether
    it must go back to the PO's approver)."""

    @property
    def action(self) -> Action:
        """The strongest action of all reasons: ``reject`` > ``hold`` > ``accept``."""
        best: Action = "accept"
        for r in self.reasons:
            if ACTION_RANK[r.action] > ACTION_RANK[best]:
                best = r.action
        return best

    @property
    def codes(self) -> tuple[str, ...]:
        """The distinct reason codes, in order of first appearance."""
        return tuple(dict.fromkeys(r.code for r in self.reasons))

    def as_data(self) -> dict[str, object]:
        return {
            "invoice_id": self.invoice_id,
            "outcome": self.outcome,
            "action": self.action,
            "po_numbers": list(self.po_numbers),
            "reasons": [r.as_data() for r in self.reasons],
            "lines": [ln.as_data() for ln in self.lines],
            "ledger_entries": [
                {
                    "id": e.id,
                    "invoice_id": e.invoice_id,
                    "invoice_line_id": e.invoice_line_id,
                    "po_number": e.po_number,
                    "po_line_no": e.po_line_no,
                    "quantity": str(e.quantity),
                    "amount": str(e.amount),
                    "reverses": e.reverses,
                    "price_variance": str(e.price_variance),
                }
                for e in self.ledger_entries
            ],
            "distribution": [d.as_data() for d in self.distribution],
            "expected_net": None if self.expected_net is None else str(self.expected_net),
            "net_variance": None if self.net_variance is None else str(self.net_variance),
        }
