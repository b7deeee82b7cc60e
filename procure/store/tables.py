"""Every database table of procure, as SQLModel classes, in one module.

Imports: sqlmodel/sqlalchemy and ``procure.store.types``. Rows are storage only: they are never
the domain object, the API body or a queue payload (``procure.store.mapping`` converts).
Money and quantities use ``ExactDecimal`` (NUMERIC on PostgreSQL, text on SQLite: never float).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, LargeBinary
from sqlmodel import Field, SQLModel

from procure.store.types import ExactDecimal


def _money(nullable: bool = False) -> Any:
    return Field(sa_type=ExactDecimal(14, 2), nullable=nullable)


def _qty(nullable: bool = False) -> Any:
    return Field(sa_type=ExactDecimal(18, 4), nullable=nullable)


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


# -- reference data ------------------------------------------------------------------------
class PersonRow(SQLModel, table=True):
    __tablename__ = "person"
    id: str = Field(primary_key=True, max_length=64)
    name: str
    email: str
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    approval_limit: Decimal = _money()
    line_manager_id: str | None = Field(default=None, max_length=64)
    department: str | None = None
    active: bool = True


class CostCentreRow(SQLModel, table=True):
    __tablename__ = "cost_centre"
    code: str = Field(primary_key=True, max_length=32)
    name: str
    budget_holder_id: str
    head_of_service_id: str
    director_id: str
    annual_budget: Decimal = _money()
    site: str | None = None


class GLCodeRow(SQLModel, table=True):
    __tablename__ = "gl_code"
    code: str = Field(primary_key=True, max_length=32)
    name: str


class VatCodeRow(SQLModel, table=True):
    __tablename__ = "vat_code"
    code: str = Field(primary_key=True, max_length=8)
    name: str
    rate: Decimal = Field(sa_type=ExactDecimal(7, 4))
    en16931_category: str = Field(max_length=4)


class SupplierRow(SQLModel, table=True):
    __tablename__ = "supplier"
    id: str = Field(primary_key=True, max_length=32)
    name: str
    vat_number: str | None = None
    address_lines: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    postcode: str
    country: str = Field(max_length=2)
    sort_code: str | None = None
    account_number: str | None = None
    iban: str | None = None
    finance_ref: str | None = None
    active: bool = True


class CategoryRow(SQLModel, table=True):
    __tablename__ = "category"
    code: str = Field(primary_key=True, max_length=32)
    name: str
    approver_role: str | None = None


class DelegationRow(SQLModel, table=True):
    __tablename__ = "delegation"
    id: int | None = Field(default=None, primary_key=True)
    approver_id: str = Field(index=True)
    delegate_id: str
    starts: date
    ends: date
    reason: str = ""


# -- requisitions and approval ----------------------------------------------------------------
class RequisitionRow(SQLModel, table=True):
    __tablename__ = "requisition"
    __table_args__ = (Index("ix_requisition_split", "requester_id", "supplier_id", "submitted_at"),)
    id: str = Field(primary_key=True, max_length=36)
    number: str = Field(unique=True, max_length=32)
    requester_id: str = Field(index=True, max_length=64)
    cost_centre: str = Field(max_length=32)
    supplier_id: str | None = Field(default=None, max_length=32)
    suggested_supplier: str | None = None
    need_by: date
    justification: str
    quotes_attached: int = 0
    version: int = 1
    approval_state: str = Field(index=True, max_length=24)
    order_state: str = Field(index=True, max_length=24)
    current_step: int = 0
    purchase_order_number: str | None = None
    net_total: Decimal = _money()
    submitted_at: datetime
    updated_at: datetime
    route: dict[str, Any] | None = _json()


class RequisitionLineRow(SQLModel, table=True):
    __tablename__ = "requisition_line"
    requisition_id: str = Field(primary_key=True, foreign_key="requisition.id", max_length=36)
    line_no: int = Field(primary_key=True)
    description: str
    quantity: Decimal = _qty()
    unit_code: str = Field(max_length=3)
    unit_price: Decimal = _qty()
    vat_code: str
    gl_code: str
    category: str
    receipt_required: bool | None = None
    """As the requester said (goods True, services False); NULL: from the unit code."""


class ApprovalTaskRow(SQLModel, table=True):
    __tablename__ = "approval_task"
    __table_args__ = (Index("ix_task_inbox", "assignee_id", "state"),)
    id: str = Field(primary_key=True, max_length=36)
    requisition_id: str = Field(index=True, foreign_key="requisition.id", max_length=36)
    requisition_version: int
    step_no: int
    assignee_id: str = Field(max_length=64)
    role: str
    reason: str
    required_limit: Decimal | None = _money(nullable=True)
    state: str = Field(index=True, max_length=16)
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str | None = None
    delegated_from: str | None = None
    escalated_from: str | None = None


# -- orders and receipts ------------------------------------------------------------------------
class PurchaseOrderRow(SQLModel, table=True):
    __tablename__ = "purchase_order"
    id: str = Field(primary_key=True, max_length=36)
    number: str = Field(unique=True, max_length=32)
    requisition_id: str = Field(unique=True, foreign_key="requisition.id", max_length=36)
    requisition_number: str
    supplier_id: str = Field(index=True)
    requester_id: str = Field(index=True)
    cost_centre: str
    need_by: date
    issued_at: datetime
    status: str = Field(max_length=16)
    receipt_state: str = Field(max_length=24)
    net_total: Decimal = _money()


class PurchaseOrderLineRow(SQLModel, table=True):
    __tablename__ = "purchase_order_line"
    purchase_order_id: str = Field(primary_key=True, foreign_key="purchase_order.id", max_length=36)
    line_no: int = Field(primary_key=True)
    description: str
    quantity: Decimal = _qty()
    unit_code: str = Field(max_length=3)
    unit_price: Decimal = _qty()
    vat_code: str
    gl_code: str
    category: str
    received_quantity: Decimal = _qty()
    receipt_required: bool = True
    """Goods, matched 3-way against receipts (true); services, matched 2-way (false)."""


class GoodsReceiptRow(SQLModel, table=True):
    __tablename__ = "goods_receipt"
    id: str = Field(primary_key=True, max_length=36)
    number: str = Field(unique=True, max_length=32)
    purchase_order_id: str = Field(index=True, foreign_key="purchase_order.id", max_length=36)
    received_on: date
    recorded_at: datetime
    recorded_by: str
    note: str = ""
    is_return: bool = False


class GoodsReceiptLineRow(SQLModel, table=True):
    __tablename__ = "goods_receipt_line"
    goods_receipt_id: str = Field(primary_key=True, foreign_key="goods_receipt.id", max_length=36)
    po_line_no: int = Field(primary_key=True)
    quantity: Decimal = _qty()


# -- audit, numbering, access ----------------------------------------------------------------
class AuditEventRow(SQLModel, table=True):
    """Append-only: a database trigger refuses UPDATE and DELETE (see the first migration)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    occurred_at: datetime
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=36)
    event_name: str = Field(index=True, max_length=48)
    actor_id: str | None = None
    before: dict[str, Any] | None = _json()
    after: dict[str, Any] | None = _json()
    data: dict[str, Any] | None = _json()


class NumberSequenceRow(SQLModel, table=True):
    """Gap-free document numbers: the counter moves in the same transaction as the document."""

    __tablename__ = "number_sequence"
    prefix: str = Field(primary_key=True, max_length=8)
    year: int = Field(primary_key=True)
    last_value: int = 0


class ApiTokenRow(SQLModel, table=True):
    """Per-user API tokens, stored as SHA-256 hashes (the token itself is shown once)."""

    __tablename__ = "api_token"
    token_hash: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(index=True)
    label: str = ""
    created_at: datetime
    revoked_at: datetime | None = None


# -- supplier invoices ---------------------------------------------------------------------------
class InvoiceDocumentRow(SQLModel, table=True):
    """A received supplier document: accepted, rejected (quarantined) or a recognised duplicate.
    The canonical model is kept as JSON; the original bytes are in ``invoice_blob``."""

    __tablename__ = "invoice_document"
    __table_args__ = (Index("ix_invoice_supplier_number", "supplier_key", "normalised_number"),)
    id: str = Field(primary_key=True, max_length=36)
    sha256: str = Field(index=True, max_length=64)
    filename: str | None = None
    source: str = Field(max_length=16)
    received_at: datetime
    size: int
    syntax: str | None = Field(default=None, max_length=8)
    kind: str | None = Field(default=None, max_length=16)
    status: str = Field(index=True, max_length=16)
    duplicate_of: str | None = Field(default=None, max_length=36)
    supplier_id: str | None = Field(default=None, max_length=32)
    supplier_key: str | None = Field(default=None, max_length=128)
    seller_vat_id: str | None = None
    number: str | None = None
    normalised_number: str | None = Field(default=None, max_length=128)
    issue_date: date | None = None
    currency: str | None = Field(default=None, max_length=3)
    payable: Decimal | None = _money(nullable=True)
    order_reference: str | None = None
    canonical: dict[str, Any] | None = _json()
    findings: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class InvoiceBlobRow(SQLModel, table=True):
    """The original bytes of every received document, once per sha256."""

    __tablename__ = "invoice_blob"
    sha256: str = Field(primary_key=True, max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# -- Matching ------------------------------------------------------------------------------------
class InvoiceMatchRow(SQLModel, table=True):
    """Where an accepted invoice stands in matching (its own state dimension, beside intake's
    ``status``): ``matched``, ``held``, ``waiting`` (for a goods receipt), ``awaiting_reapproval``
    or ``rejected``. ``version`` is that of the latest ``match_decision``."""

    __tablename__ = "invoice_match"
    invoice_id: str = Field(primary_key=True, foreign_key="invoice_document.id", max_length=36)
    state: str = Field(index=True, max_length=24)
    version: int
    how: str | None = Field(default=None, max_length=16)
    supplier_id: str | None = Field(default=None, max_length=32)
    po_numbers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class MatchDecisionRow(SQLModel, table=True):
    """Every decision taken on an invoice, automatic or human, with its reasons and figures
    (the engine's ``Decision.as_data()``), so that ``invoice show`` can explain it."""

    __tablename__ = "match_decision"
    invoice_id: str = Field(primary_key=True, foreign_key="invoice_document.id", max_length=36)
    version: int = Field(primary_key=True)
    outcome: str = Field(max_length=32)
    action: str = Field(max_length=8)
    trigger: str = Field(max_length=24)
    po_numbers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    decided_at: datetime
    decided_by: str | None = None


class MatchLedgerRow(SQLModel, table=True):
    """The match ledger (after iDempiere's M_MatchInv/M_MatchPO): an invoice line matched to a PO
    line and, for goods, the receipts it draws on. Append-only (a trigger refuses UPDATE and
    DELETE); a correction is a reversal row. Received and billed per PO line are sums, never
    counters."""

    __tablename__ = "match_ledger"
    __table_args__ = (Index("ix_match_ledger_po_line", "po_number", "po_line_no"),)
    seq: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    id: str = Field(unique=True, max_length=64)
    invoice_id: str = Field(index=True, foreign_key="invoice_document.id", max_length=36)
    invoice_line_id: str = Field(max_length=64)
    po_number: str = Field(max_length=32)
    po_line_no: int
    quantity: Decimal = _qty()
    amount: Decimal = _money()
    price_variance: Decimal = _qty()
    receipts: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    reverses: str | None = Field(default=None, max_length=64)
    decision_version: int
    recorded_at: datetime
    recorded_by: str | None = None


class MatchExceptionRow(SQLModel, table=True):
    """The exception queue: one task per held invoice, for a role (finance) until resolved by
    ``release``, ``reject``, ``wait`` (for the goods receipt) or ``reapproval`` (sent back to the
    PO's approver as an approval task)."""

    __tablename__ = "match_exception"
    __table_args__ = (Index("ix_match_exception_queue", "state", "created_at"),)
    id: str = Field(primary_key=True, max_length=36)
    invoice_id: str = Field(index=True, foreign_key="invoice_document.id", max_length=36)
    decision_version: int
    state: str = Field(max_length=16)
    reason_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: str
    role: str = Field(max_length=32)
    assignee_id: str | None = Field(default=None, max_length=64)
    created_at: datetime
    resolution: str | None = Field(default=None, max_length=16)
    resolution_reason: str | None = None
    resolved_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = None
    approval_task_id: str | None = Field(default=None, max_length=36)


# Matching's duplicate layer "same supplier, same amount within a date window" reads by these.
Index(
    "ix_invoice_supplier_payable",
    InvoiceDocumentRow.supplier_key,  # type: ignore[arg-type]
    InvoiceDocumentRow.payable,  # type: ignore[arg-type]
    InvoiceDocumentRow.issue_date,  # type: ignore[arg-type]
)


# -- Posting -----------------------------------------------------------------------------------
class PostingRow(SQLModel, table=True):
    """One posting of a matched invoice to finance (per invoice and match version).

    ``state``: pending → published → posted | rejected (``procure.domain.posting``)."""

    __tablename__ = "posting"
    __table_args__ = (Index("ix_posting_invoice_version", "invoice_id", "version", unique=True),)
    id: str = Field(primary_key=True, max_length=36)
    invoice_id: str = Field(max_length=36)
    version: int
    idempotency_key: str = Field(max_length=120, unique=True)
    state: str = Field(index=True, max_length=16)
    kind: str = Field(max_length=16)
    supplier_id: str | None = Field(default=None, max_length=32)
    invoice_number: str | None = None
    currency: str = Field(max_length=3)
    net_total: Decimal = _money()
    vat_total: Decimal = _money()
    gross_total: Decimal = _money()
    created_at: datetime
    updated_at: datetime
    finance_document_number: str | None = Field(default=None, max_length=64)
    reason: str | None = None


class OutboxRow(SQLModel, table=True):
    """A message waiting to be published (the transactional outbox).

    Claimed with ``FOR UPDATE SKIP LOCKED`` where ``published_at`` is null and
    ``next_attempt_at`` has come; ``acknowledged_at`` set when the far side answered; settled
    rows are deleted after the retention period."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "published_at", "next_attempt_at"),)
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    message_id: str = Field(max_length=36)
    idempotency_key: str = Field(max_length=120, index=True)
    message_type: str = Field(max_length=64)
    routing_key: str = Field(max_length=64)
    payload: str
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime
    published_at: datetime | None = None
    acknowledged_at: datetime | None = Field(default=None, index=True)
    last_error: str | None = None


metadata = SQLModel.metadata
