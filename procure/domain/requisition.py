"""Purchase requisitions: lines, totals, and the approval and ordering workflow.

Imports: the standard library and ``procure.domain`` / ``procure.errors`` only.

Two state dimensions, each with its own transition table:
- ``approval_state``: submitted → pending_approval → approved | rejected | returned;
  returned or pending_approval → (amend) submitted again, re-routed; withdrawn by the requester.
- ``order_state``: not_ordered → ordered (when the purchase order is issued).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from procure.domain import events as ev
from procure.domain.calendar import uk_date
from procure.domain.events import Event
from procure.domain.money import ZERO, line_net, money, places, vat_on
from procure.domain.reference import ReferenceData
from procure.domain.unit_codes import is_unit_code
from procure.domain.workflow import next_state
from procure.errors import FieldProblem, InvalidTransition, NotAllowed, ValidationFailed


class ApprovalState(StrEnum):
    SUBMITTED = "submitted"
    PENDING_APPROVAL = "pending_approval"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class OrderState(StrEnum):
    NOT_ORDERED = "not_ordered"
    ORDERED = "ordered"


A = ApprovalState
APPROVAL_TRANSITIONS: dict[tuple[ApprovalState, str], ApprovalState] = {
    (A.SUBMITTED, "route"): A.PENDING_APPROVAL,
    (A.PENDING_APPROVAL, "approve"): A.APPROVED,
    (A.PENDING_APPROVAL, "reject"): A.REJECTED,
    (A.PENDING_APPROVAL, "return"): A.RETURNED,
    (A.PENDING_APPROVAL, "amend"): A.SUBMITTED,
    (A.RETURNED, "amend"): A.SUBMITTED,
    (A.SUBMITTED, "return"): A.RETURNED,  # routing found no eligible approver
    (A.SUBMITTED, "withdraw"): A.WITHDRAWN,
    (A.PENDING_APPROVAL, "withdraw"): A.WITHDRAWN,
    (A.RETURNED, "withdraw"): A.WITHDRAWN,
}
ORDER_TRANSITIONS: dict[tuple[OrderState, str], OrderState] = {
    (OrderState.NOT_ORDERED, "order"): OrderState.ORDERED,
}
LIVE_STATES = frozenset({A.SUBMITTED, A.PENDING_APPROVAL, A.RETURNED, A.APPROVED})

MAX_LINES = 500
MAX_QUANTITY = Decimal("1000000")
MAX_UNIT_PRICE = Decimal("100000000")


SERVICE_UNIT_CODES = frozenset({"HUR", "DAY", "WEE", "MON", "ANN", "MIN", "E48", "LS"})
"""UN/ECE units that mean a service when a line does not say: hours, days, weeks, months, years,
minutes, service units and lump sum. Such a line needs no goods receipt."""


def receipt_required_by_default(unit_code: str) -> bool:
    """Whether a line ordered in ``unit_code`` is goods (a goods receipt is needed before it is
    billed: 3-way matching) when the requester does not say: every unit but the service units."""
    return unit_code not in SERVICE_UNIT_CODES


@dataclass(frozen=True)
class RequisitionLine:
    line_no: int
    description: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    vat_code: str
    gl_code: str
    category: str
    receipt_required: bool | None = None
    """As the requester said: True for goods (matched 3-way against goods receipts), False for
    services (matched 2-way against the order); None: from the unit (``needs_receipt``)."""

    @property
    def net(self) -> Decimal:
        return line_net(self.quantity, self.unit_price)

    @property
    def needs_receipt(self) -> bool:
        """Goods (True) or services (False): as said, else inferred from the unit code."""
        if self.receipt_required is None:
            return receipt_required_by_default(self.unit_code)
        return self.receipt_required


@dataclass(frozen=True)
class RequisitionDraft:
    """What a requester asks for, before validation against the council's reference data."""

    requester_id: str
    cost_centre: str
    need_by: date
    justification: str
    lines: tuple[RequisitionLine, ...]
    supplier_id: str | None = None
    suggested_supplier: str | None = None
    quotes_attached: int = 0


@dataclass
class Requisition:
    id: str
    number: str
    requester_id: str
    cost_centre: str
    supplier_id: str | None
    suggested_supplier: str | None
    need_by: date
    justification: str
    lines: tuple[RequisitionLine, ...]
    submitted_at: datetime
    quotes_attached: int = 0
    version: int = 1
    approval_state: ApprovalState = ApprovalState.SUBMITTED
    order_state: OrderState = OrderState.NOT_ORDERED
    current_step: int = 0
    purchase_order_number: str | None = None
    pending_events: list[Event] = field(default_factory=list, repr=False)

    # -- figures ---------------------------------------------------------------------------
    @property
    def net_total(self) -> Decimal:
        return sum((ln.net for ln in self.lines), ZERO)

    def vat_total(self, reference: ReferenceData) -> Decimal:
        return sum(
            (vat_on(ln.net, reference.vat_codes[ln.vat_code].rate) for ln in self.lines), ZERO
        )

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(ln.category for ln in self.lines)

    def snapshot(self) -> dict[str, Any]:
        return {
            "approval_state": self.approval_state.value,
            "order_state": self.order_state.value,
            "version": self.version,
            "current_step": self.current_step,
        }

    # -- creation --------------------------------------------------------------------------
    @classmethod
    def submit(
        cls,
        draft: RequisitionDraft,
        reference: ReferenceData,
        *,
        id: str,
        number: str,
        at: datetime,
    ) -> Requisition:
        validate_draft(draft, reference, today=uk_date(at))
        req = cls(
            id=id,
            number=number,
            requester_id=draft.requester_id,
            cost_centre=draft.cost_centre,
            supplier_id=draft.supplier_id,
            suggested_supplier=draft.suggested_supplier,
            need_by=draft.need_by,
            justification=draft.justification.strip(),
            lines=draft.lines,
            submitted_at=at,
            quotes_attached=draft.quotes_attached,
        )
        req._record(
            ev.REQUISITION_SUBMITTED,
            at,
            draft.requester_id,
            before=None,
            data={"number": number, "net_total": str(req.net_total), "lines": len(req.lines)},
        )
        return req

    # -- workflow --------------------------------------------------------------------------
    def _transition(
        self, action: str, at: datetime, actor_id: str | None, data: dict[str, Any] | None = None
    ) -> None:
        before = self.snapshot()
        self.approval_state = next_state(
            APPROVAL_TRANSITIONS, self.approval_state, action, f"requisition {self.number}"
        )
        name = {
            "route": ev.REQUISITION_ROUTED,
            "approve": ev.REQUISITION_APPROVED,
            "reject": ev.REQUISITION_REJECTED,
            "return": ev.REQUISITION_RETURNED,
            "amend": ev.REQUISITION_AMENDED,
            "withdraw": ev.REQUISITION_WITHDRAWN,
        }[action]
        self._record(name, at, actor_id, before=before, data=data or {})

    def _record(
        self,
        name: str,
        at: datetime,
        actor_id: str | None,
        *,
        before: dict[str, Any] | None,
        data: dict[str, Any],
    ) -> None:
        self.pending_events.append(
            Event(
                name=name,
                entity_type="requisition",
                entity_id=self.id,
                occurred_at=at,
                actor_id=actor_id,
                before=before,
                after=self.snapshot(),
                data=data,
            )
        )

    def mark_routed(self, at: datetime, route_summary: dict[str, Any]) -> None:
        self.current_step = 1
        self._transition("route", at, None, route_summary)

    def advance(self, at: datetime, to_step: int) -> None:
        """Record that the approval chain moved on to ``to_step`` (state stays pending)."""
        self.current_step = to_step

    def approve(self, at: datetime, final_approver_id: str) -> None:
        self._transition("approve", at, final_approver_id)

    def reject(self, at: datetime, approver_id: str, reason: str) -> None:
        self._transition("reject", at, approver_id, {"reason": reason})

    def return_for_information(self, at: datetime, approver_id: str | None, question: str) -> None:
        self._transition("return", at, approver_id, {"question": question})

    def amend(
        self,
        draft: RequisitionDraft,
        reference: ReferenceData,
        *,
        at: datetime,
        actor_id: str,
    ) -> None:
        if actor_id != self.requester_id:
            raise NotAllowed(
                f"only the requester {self.requester_id} may amend {self.number}",
                code="not_requester",
            )
        if draft.requester_id != self.requester_id:
            raise ValidationFailed(
                [FieldProblem("requester", "cannot_change", "the requester cannot change")],
                what=f"amendment of {self.number}",
            )
        # The state is checked before anything changes (and before the draft is judged).
        next_state(APPROVAL_TRANSITIONS, self.approval_state, "amend", f"requisition {self.number}")
        validate_draft(draft, reference, today=uk_date(at))
        old_total = self.net_total
        self.cost_centre = draft.cost_centre
        self.supplier_id = draft.supplier_id
        self.suggested_supplier = draft.suggested_supplier
        self.need_by = draft.need_by
        self.justification = draft.justification.strip()
        self.lines = draft.lines
        self.quotes_attached = draft.quotes_attached
        self.version += 1
        self.current_step = 0
        self._transition(
            "amend",
            at,
            actor_id,
            {"old_net_total": str(old_total), "new_net_total": str(self.net_total)},
        )

    def withdraw(self, at: datetime, actor_id: str) -> None:
        if actor_id != self.requester_id:
            raise NotAllowed(f"only the requester may withdraw {self.number}", code="not_requester")
        self._transition("withdraw", at, actor_id)

    def choose_supplier(
        self, supplier_id: str, reference: ReferenceData, *, at: datetime, by: str
    ) -> None:
        """Procurement names the supplier of a requisition that only suggested one."""
        supplier = reference.suppliers.get(supplier_id)
        if supplier is None or not supplier.active:
            raise ValidationFailed(
                [FieldProblem("supplier", "unknown", f"no active supplier '{supplier_id}'")],
                what=f"supplier for {self.number}",
            )
        if self.order_state is OrderState.ORDERED or self.approval_state in (
            ApprovalState.REJECTED,
            ApprovalState.WITHDRAWN,
        ):
            raise InvalidTransition(
                f"cannot choose a supplier for {self.number}: it is "
                f"{self.approval_state.value.replace('_', ' ')}, {self.order_state.value}"
            )
        before = self.snapshot()
        previous = self.supplier_id
        self.supplier_id = supplier_id
        self._record(
            ev.SUPPLIER_CHOSEN,
            at,
            by,
            before=before,
            data={
                "supplier": supplier_id,
                "previous": previous,
                "suggested": self.suggested_supplier,
            },
        )

    def mark_ordered(self, at: datetime, po_number: str) -> None:
        before = self.snapshot()
        if self.approval_state is not ApprovalState.APPROVED:
            raise NotAllowed(f"requisition {self.number} is not approved", code="not_approved")
        self.order_state = next_state(
            ORDER_TRANSITIONS, self.order_state, "order", f"requisition {self.number}"
        )
        self.purchase_order_number = po_number
        self._record(
            ev.REQUISITION_ORDERED, at, None, before=before, data={"purchase_order": po_number}
        )


def validate_draft(draft: RequisitionDraft, reference: ReferenceData, *, today: date) -> None:
    """Check a draft against the reference data; every problem is reported at once."""
    problems: list[FieldProblem] = []

    def problem(f: str, code: str, message: str) -> None:
        problems.append(FieldProblem(f, code, message))

    requester = reference.people.get(draft.requester_id)
    if requester is None or not requester.active:
        problem("requester", "unknown", f"no active person '{draft.requester_id}'")
    if draft.cost_centre not in reference.cost_centres:
        problem("cost_centre", "unknown", f"no cost centre '{draft.cost_centre}'")
    if draft.supplier_id is not None:
        supplier = reference.suppliers.get(draft.supplier_id)
        if supplier is None or not supplier.active:
            problem("supplier", "unknown", f"no active supplier '{draft.supplier_id}'")
    elif not (draft.suggested_supplier or "").strip():
        problem("supplier", "missing", "give a supplier id or a suggested supplier")
    if draft.need_by < today:
        problem("need_by", "in_the_past", f"{draft.need_by.isoformat()} is before today")
    if len(draft.justification.strip()) < 5:
        problem("justification", "too_short", "say why this is needed (5 characters or more)")
    if not 0 <= draft.quotes_attached <= 20:
        problem("quotes_attached", "out_of_range", "must be between 0 and 20")
    if not draft.lines:
        problem("lines", "missing", "a requisition needs at least one line")
    if len(draft.lines) > MAX_LINES:
        problem("lines", "too_many", f"at most {MAX_LINES} lines")
    for i, ln in enumerate(draft.lines, start=1):
        _validate_line(f"lines[{i}]", ln, reference, problem)
    if problems:
        raise ValidationFailed(problems, what="requisition")


def _validate_line(
    prefix: str, ln: RequisitionLine, reference: ReferenceData, problem: Any
) -> None:
    if not ln.description.strip():
        problem(f"{prefix}.description", "missing", "describe what is being bought")
    if ln.quantity <= 0:
        problem(f"{prefix}.quantity", "not_positive", f"must be above zero, got {ln.quantity}")
    elif ln.quantity > MAX_QUANTITY or places(ln.quantity) > 4:
        problem(f"{prefix}.quantity", "out_of_range", "at most 1,000,000 with 4 decimals")
    if ln.unit_price < 0:
        problem(f"{prefix}.unit_price", "negative", f"must not be negative, got {ln.unit_price}")
    elif ln.unit_price > MAX_UNIT_PRICE or places(ln.unit_price) > 4:
        problem(f"{prefix}.unit_price", "out_of_range", "at most 100,000,000 with 4 decimals")
    if not is_unit_code(ln.unit_code):
        hint = (
            f" (packaging units take an X: did you mean X{ln.unit_code}?)"
            if is_unit_code(f"X{ln.unit_code}")
            else ""
        )
        problem(
            f"{prefix}.unit_code",
            "unknown",
            f"'{ln.unit_code}' is not a UN/ECE Rec 20 unit code{hint}",
        )
    if not ln.vat_code:
        problem(f"{prefix}.vat_code", "missing", "a VAT code is required")
    elif ln.vat_code not in reference.vat_codes:
        known = ", ".join(sorted(reference.vat_codes))
        problem(f"{prefix}.vat_code", "unknown", f"'{ln.vat_code}' is not one of {known}")
    if not ln.gl_code:
        problem(f"{prefix}.gl_code", "missing", "a GL code is required")
    elif ln.gl_code not in reference.gl_codes:
        problem(f"{prefix}.gl_code", "unknown", f"no GL code '{ln.gl_code}'")
    if ln.category not in reference.categories:
        problem(f"{prefix}.category", "unknown", f"no procurement category '{ln.category}'")


__all__ = [
    "APPROVAL_TRANSITIONS",
    "LIVE_STATES",
    "ApprovalState",
    "OrderState",
    "Requisition",
    "RequisitionDraft",
    "RequisitionLine",
    "money",
    "validate_draft",
]
