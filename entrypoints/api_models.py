"""Response bodies of the HTTP API (pydantic), documented in the OpenAPI schema at ``/docs``.

Imports: pydantic only. These mirror the read models of ``procure.services.queries`` (JSON-ready
dicts); request bodies are the contracts of ``procure.contracts``. Money and quantities are decimal
strings (never floats); timestamps are ISO 8601 strings as the read models give them. Models allow
extra keys, so that a field added to a read model reaches clients before it is described here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- errors ------------------------------------------------------------------------------------
class ProblemOut(_Out):
    field: str = Field(description="Path of the field, lines numbered from 1: lines[2].quantity")
    code: str
    message: str


class ErrorBody(_Out):
    code: str = Field(description="Stable, snake_case: a program may act on it")
    message: str = Field(description="What went wrong, for a person")
    problems: list[ProblemOut] | None = Field(
        default=None, description="Validation errors only: one entry per field"
    )


class ErrorOut(_Out):
    error: ErrorBody


# -- requisitions --------------------------------------------------------------------------------
class LineOut(_Out):
    line_no: int
    description: str
    quantity: str
    unit_code: str = Field(description="UN/ECE Recommendation 20 unit code")
    unit_price: str
    net: str
    vat_code: str
    gl_code: str
    category: str
    receipt_required: bool = Field(
        description="Goods (true: billed up to what is received, 3-way) or services (false: "
        "billed up to what is ordered, 2-way)"
    )


class RouteStepOut(_Out):
    step_no: int
    approver: str
    role: str
    reason: str
    required_limit: str | None = None
    delegated_from: str | None = None


class RouteOut(_Out):
    band: str
    amount: str
    band_amount: str
    aggregated_with: list[str] = []
    quotes_required: int = 0
    notes: list[str] = []
    steps: list[RouteStepOut]


class WaitingOnOut(_Out):
    task_id: str
    step_no: int
    assignee: str
    assignee_name: str | None
    role: str
    since: str
    escalates_on: str = Field(description="The UK working day the task escalates if still open")
    reason: str


class TaskStateOut(_Out):
    task_id: str
    version: int
    step_no: int
    assignee: str
    role: str
    state: str
    decided_by: str | None = None
    decided_at: str | None = None
    comment: str | None = None
    delegated_from: str | None = None
    escalated_from: str | None = None


class OrderRefOut(_Out):
    number: str
    receipt_state: str
    status: str


class TimelineEntryOut(_Out):
    at: str
    event: str
    actor: str | None = None
    summary: str


class RequisitionStatusOut(_Out):
    """A requisition, its route, who has it now, and every event so far."""

    id: str
    number: str
    version: int
    requester: str
    requester_name: str | None
    cost_centre: str
    supplier: str | None
    suggested_supplier: str | None
    need_by: str
    justification: str
    approval_state: str
    order_state: str
    net_total: str
    vat_total: str
    gross_total: str
    lines: list[LineOut]
    route: RouteOut | None
    waiting_on: WaitingOnOut | None
    tasks: list[TaskStateOut]
    purchase_order: OrderRefOut | None
    timeline: list[TimelineEntryOut]


class RequisitionSummaryOut(_Out):
    number: str
    id: str
    submitted_at: str
    net_total: str
    approval_state: str
    order_state: str
    purchase_order: str | None
    waiting_on: str | None = Field(description="Person id of the open task's assignee, if any")


# -- approval tasks ------------------------------------------------------------------------------
class InboxTaskOut(_Out):
    task_id: str
    requisition: str
    requisition_id: str
    requester: str
    requester_name: str | None
    cost_centre: str
    supplier: str | None
    net_total: str
    step_no: int
    role: str
    reason: str
    since: str
    escalates_on: str
    overdue: bool
    delegated_from: str | None = None
    escalated_from: str | None = None


class DecisionOut(_Out):
    task_id: str
    requisition_id: str
    requisition_number: str
    decision: str
    new_task_id: str | None = Field(default=None, description="The delegate's task, on delegate")


# -- purchase orders and receipts ----------------------------------------------------------------
class OrderLineOut(LineOut):
    matching: str = Field(description="How invoices are matched to the line: 3-way or 2-way")
    received_quantity: str
    outstanding: str


class ReceiptLineOut(_Out):
    po_line: int
    quantity: str = Field(description="Negative on a return to the supplier")


class ReceiptOut(_Out):
    number: str
    received_on: str
    recorded_by: str
    is_return: bool
    note: str
    lines: list[ReceiptLineOut]


class PurchaseOrderOut(_Out):
    number: str
    id: str
    requisition: str
    supplier: str
    supplier_name: str | None
    requester: str
    cost_centre: str
    need_by: str
    issued_at: str
    status: str
    receipt_state: str
    net_total: str
    lines: list[OrderLineOut]
    receipts: list[ReceiptOut]


class ReceiptRecordedOut(_Out):
    receipt: str = Field(description="The goods received note (GRN-…) or return (GRT-…) number")
    is_return: bool
    purchase_order: PurchaseOrderOut


# -- identity and health ---------------------------------------------------------------------------
class MeOut(_Out):
    id: str
    name: str
    email: str
    roles: list[str]
    approval_limit: str
    line_manager: str | None = None
    department: str | None = None


class HealthOut(_Out):
    status: str = Field(description="ok, or unavailable when the database cannot be reached")
    database: str
    dialect: str
    broker: str = Field(description="embedded or rabbitmq")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the error statuses an endpoint may answer with."""
    text = {
        401: "No valid bearer token",
        403: "Not allowed (role, segregation of duties, viewing rights)",
        404: "No such document",
        409: "Not in a state where this applies, or above what the order allows",
        413: "Request body larger than 1 MB",
        422: "Input refused; problems name each field",
    }
    return {s: {"model": ErrorOut, "description": text.get(s, "Error")} for s in statuses}
