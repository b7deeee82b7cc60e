"""Domain events: facts in the past tense, each one row of the append-only audit trail.

Imports: the standard library only. Domain methods append events to their document's
``pending_events``; the store writes them in the same transaction as the change and the runtime
dispatches the ones that start work (``RequisitionSubmitted`` → route, and so on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    name: str
    entity_type: str
    entity_id: str
    occurred_at: datetime
    actor_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)


# Event names in one place, so that handlers and tests never spell them by hand.
REQUISITION_SUBMITTED = "RequisitionSubmitted"
REQUISITION_ROUTED = "RequisitionRouted"
REQUISITION_AMENDED = "RequisitionAmended"
REQUISITION_APPROVED = "RequisitionApproved"
REQUISITION_REJECTED = "RequisitionRejected"
REQUISITION_RETURNED = "RequisitionReturned"
REQUISITION_WITHDRAWN = "RequisitionWithdrawn"
REQUISITION_ORDERED = "RequisitionOrdered"
SUPPLIER_CHOSEN = "SupplierChosen"
TASK_CREATED = "ApprovalTaskCreated"
TASK_DECIDED = "ApprovalTaskDecided"
TASK_DELEGATED = "ApprovalTaskDelegated"
TASK_ESCALATED = "ApprovalTaskEscalated"
TASK_CANCELLED = "ApprovalTaskCancelled"
DECISION_REFUSED = "ApprovalDecisionRefused"
PURCHASE_ORDER_ISSUED = "PurchaseOrderIssued"
PURCHASE_ORDER_ON_HOLD = "PurchaseOrderOnHold"
GOODS_RECEIVED = "GoodsReceived"
GOODS_RETURNED = "GoodsReturned"
REFERENCE_DATA_LOADED = "ReferenceDataLoaded"
INVOICE_ACCEPTED = "InvoiceAccepted"
INVOICE_QUARANTINED = "InvoiceQuarantined"
INVOICE_DUPLICATE = "InvoiceDuplicateRecognised"

# Matching → posting seam. InvoiceMatched: entity_type "invoice", entity_id the invoice_document id,
# data {"version": int, "how": "automatic" | "released", "purchase_orders": [numbers],
# "distribution": [DistributionLine.as_data(), ...]} (procure/domain/distribution.py).
INVOICE_MATCHED = "InvoiceMatched"
# Finance refused a posting: entity_id the invoice_document id, data {"reason": str, ...}.
INVOICE_POSTING_REJECTED = "InvoicePostingRejected"

# Matching. entity_type "invoice", entity_id the invoice_document id, unless said otherwise.
# InvoiceHeld: data {"version", "outcome", "reasons": [codes], "purchase_orders", "exception_id"}.
INVOICE_HELD = "InvoiceHeld"
# InvoiceRejected (tell the supplier): data {"version", "reason", "reasons", "supplier_id", "number"}.
INVOICE_REJECTED = "InvoiceRejected"
# InvoiceWaitingForReceipt: a person chose to wait for the goods; re-matched on GoodsReceived.
INVOICE_WAITING_FOR_RECEIPT = "InvoiceWaitingForReceipt"
# InvoiceSentForReapproval: a released variance beyond the policy's threshold went back to the
# PO's approver as an approval task (data {"task_id", "assignee", "variance", ...}).
INVOICE_SENT_FOR_REAPPROVAL = "InvoiceSentForReapproval"
# InvoiceMatchReversed: the invoice's match ledger rows were reversed (data {"rows": n}).
INVOICE_MATCH_REVERSED = "InvoiceMatchReversed"
# entity_type "match_exception": the exception queue's tasks.
MATCH_EXCEPTION_OPENED = "MatchExceptionOpened"
MATCH_EXCEPTION_RESOLVED = "MatchExceptionResolved"

# Posting. InvoicePostingQueued: entity_id the invoice_document id, data {"idempotency_key",
# "version", "net_total", "vat_total", "gross_total"}; InvoicePosted: data {"idempotency_key",
# "finance_document_number"}. (InvoicePostingRejected above also carries "idempotency_key".)
INVOICE_POSTING_QUEUED = "InvoicePostingQueued"
INVOICE_POSTED = "InvoicePosted"
