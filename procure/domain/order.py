"""Purchase orders and goods receipts (partial deliveries, several receipts a line, returns).

Imports: the standard library and ``procure.domain`` / ``procure.errors`` only.

State dimensions of a purchase order: ``state`` (issued → closed | cancelled) and
``receipt_state`` (not_received → partially_received → fully_received, and back on returns).
Received quantities are the sum of receipt lines; a receipt that would take a line above the
ordered quantity plus the policy's over-receipt allowance is refused whole (OverReceipt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from procure.domain import events as ev
from procure.domain.events import Event
from procure.domain.money import ZERO, line_net, places
from procure.domain.requisition import Requisition
from procure.errors import FieldProblem, NotAllowed, OverReceipt, ValidationFailed


class OrderStatus(StrEnum):
    ISSUED = "issued"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ReceiptState(StrEnum):
    NOT_RECEIVED = "not_received"
    PARTIALLY_RECEIVED = "partially_received"
    FULLY_RECEIVED = "fully_received"


@dataclass
class PurchaseOrderLine:
    line_no: int
    description: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    vat_code: str
    gl_code: str
    category: str
    receipt_required: bool
    """Goods (True): billed up to what goods receipts brought (3-way). Services (False): billed
    up to what was ordered (2-way), no receipt needed. Set from the requisition line."""
    received_quantity: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return line_net(self.quantity, self.unit_price)

    @property
    def outstanding(self) -> Decimal:
        return max(self.quantity - self.received_quantity, ZERO)


@dataclass(frozen=True)
class ReceiptLine:
    po_line_no: int
    quantity: Decimal  # negative for a return to the supplier


@dataclass(frozen=True)
class GoodsReceipt:
    id: str
    number: str
    purchase_order_id: str
    received_on: date
    recorded_at: datetime
    recorded_by: str
    lines: tuple[ReceiptLine, ...]
    note: str = ""
    is_return: bool = False


@dataclass
class PurchaseOrder:
    id: str
    number: str
    requisition_id: str
    requisition_number: str
    supplier_id: str
    requester_id: str
    cost_centre: str
    need_by: date
    issued_at: datetime
    lines: list[PurchaseOrderLine]
    status: OrderStatus = OrderStatus.ISSUED
    receipt_state: ReceiptState = ReceiptState.NOT_RECEIVED
    pending_events: list[Event] = field(default_factory=list, repr=False)

    @property
    def net_total(self) -> Decimal:
        return sum((ln.net for ln in self.lines), ZERO)

    def line(self, line_no: int) -> PurchaseOrderLine | None:
        return next((ln for ln in self.lines if ln.line_no == line_no), None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "receipt_state": self.receipt_state.value,
            "received": {str(ln.line_no): str(ln.received_quantity) for ln in self.lines},
        }

    @classmethod
    def issue_for(
        cls, requisition: Requisition, *, id: str, number: str, at: datetime
    ) -> PurchaseOrder:
        if requisition.supplier_id is None:
            raise NotAllowed(
                f"requisition {requisition.number} has no supplier chosen yet "
                f"(suggested: {requisition.suggested_supplier!r}); procurement must choose one",
                code="supplier_needed",
            )
        po = cls(
            id=id,
            number=number,
            requisition_id=requisition.id,
            requisition_number=requisition.number,
            supplier_id=requisition.supplier_id,
            requester_id=requisition.requester_id,
            cost_centre=requisition.cost_centre,
            need_by=requisition.need_by,
            issued_at=at,
            lines=[
                PurchaseOrderLine(
                    line_no=ln.line_no,
                    description=ln.description,
                    quantity=ln.quantity,
                    unit_code=ln.unit_code,
                    unit_price=ln.unit_price,
                    vat_code=ln.vat_code,
                    gl_code=ln.gl_code,
                    category=ln.category,
                    receipt_required=ln.needs_receipt,
                )
                for ln in requisition.lines
            ],
        )
        po.pending_events.append(
            Event(
                name=ev.PURCHASE_ORDER_ISSUED,
                entity_type="purchase_order",
                entity_id=id,
                occurred_at=at,
                before=None,
                after=po.snapshot(),
                data={
                    "number": number,
                    "requisition_id": requisition.id,
                    "supplier_id": requisition.supplier_id,
                    "net_total": str(po.net_total),
                },
            )
        )
        return po

    def receive(self, receipt: GoodsReceipt, *, allowance_percent: Decimal) -> None:
        """Apply a goods receipt (or a return, with negative quantities) to the order lines."""
        if self.status is not OrderStatus.ISSUED:
            raise NotAllowed(
                f"purchase order {self.number} is {self.status.value}", code="order_not_open"
            )
        problems: list[FieldProblem] = []
        seen: set[int] = set()
        new_received: dict[int, Decimal] = {}
        for i, rl in enumerate(receipt.lines, start=1):
            where = f"lines[{i}]"
            line = self.line(rl.po_line_no)
            if line is None:
                problems.append(
                    FieldProblem(
                        f"{where}.po_line", "unknown", f"{self.number} has no line {rl.po_line_no}"
                    )
                )
                continue
            if rl.po_line_no in seen:
                problems.append(
                    FieldProblem(
                        f"{where}.po_line", "duplicate", f"line {rl.po_line_no} given twice"
                    )
                )
            seen.add(rl.po_line_no)
            if rl.quantity == 0 or places(rl.quantity) > 4:
                problems.append(
                    FieldProblem(
                        f"{where}.quantity", "invalid", "must be non-zero, at most 4 decimals"
                    )
                )
                continue
            if receipt.is_return != (rl.quantity < 0):
                problems.append(
                    FieldProblem(
                        f"{where}.quantity",
                        "wrong_sign",
                        "returns are negative quantities; deliveries positive",
                    )
                )
                continue
            new_received[rl.po_line_no] = line.received_quantity + rl.quantity
        if problems:
            raise ValidationFailed(problems, what=f"goods receipt for {self.number}")
        for line_no, total in new_received.items():
            line = self.line(line_no)
            assert line is not None
            ceiling = line.quantity * (Decimal(100) + allowance_percent) / Decimal(100)
            if total > ceiling:
                raise OverReceipt(
                    f"{self.number} line {line_no} ({line.description}): ordered {line.quantity} "
                    f"{line.unit_code}, already received {line.received_quantity}, this receipt "
                    f"{total - line.received_quantity} would make {total}, above the "
                    f"{allowance_percent}% over-receipt allowance ({ceiling.normalize()})"
                )
            if total < 0:
                raise ValidationFailed(
                    [
                        FieldProblem(
                            "quantity",
                            "return_exceeds_received",
                            f"line {line_no}: cannot return more than the "
                            f"{line.received_quantity} received",
                        )
                    ],
                    what=f"return against {self.number}",
                )
        before = self.snapshot()
        for line_no, total in new_received.items():
            line = self.line(line_no)
            assert line is not None
            line.received_quantity = total
        self.receipt_state = self._receipt_state()
        self.pending_events.append(
            Event(
                name=ev.GOODS_RETURNED if receipt.is_return else ev.GOODS_RECEIVED,
                entity_type="purchase_order",
                entity_id=self.id,
                occurred_at=receipt.recorded_at,
                actor_id=receipt.recorded_by,
                before=before,
                after=self.snapshot(),
                data={
                    "receipt": receipt.number,
                    "lines": [
                        {"po_line": rl.po_line_no, "quantity": str(rl.quantity)}
                        for rl in receipt.lines
                    ],
                    "note": receipt.note,
                },
            )
        )

    def _receipt_state(self) -> ReceiptState:
        if all(ln.received_quantity == 0 for ln in self.lines):
            return ReceiptState.NOT_RECEIVED
        if all(ln.received_quantity >= ln.quantity for ln in self.lines):
            return ReceiptState.FULLY_RECEIVED
        return ReceiptState.PARTIALLY_RECEIVED
