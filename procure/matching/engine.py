"""The matching engine: one pure, deterministic function from an invoice and what it is matched
against to a ``Decision``.

Imports: the standard library, ``procure.domain`` and ``procure.matching``. No clock, database or
logger: everything the decision depends on is an argument, so the same inputs always give the
same decision, whatever order the invoice's lines come in.
"""

from __future__ import annotations

from collections.abc import Sequence

from procure.matching.model import (
    Decision,
    Invoice,
    LedgerEntry,
    Order,
    PriorInvoice,
    ReceiptLine,
    SupplierRecord,
)
from procure.matching.policy import MatchPolicy


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
    raise NotImplementedError("matching engine: interface only in this commit (step 1)")
