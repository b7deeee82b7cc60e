"""Invoice matching: a pure, deterministic engine (2-way and 3-way, tolerances as data,
explained decisions, layered duplicate checks, the bank-account fraud check).

Imports: the standard library, ``procure.domain``, ``procure.errors`` and rapidfuzz (description
similarity). No database, clock, logger, pydantic or broker (an import-linter contract says so).

The call
--------
``decide(invoice, *, orders, receipts, ledger, prior_invoices, supplier, policy) -> Decision``

- ``invoice``: ``Invoice`` (kind ``invoice`` or ``credit_note``) with its ``InvoiceLine``s.
- ``orders``: the candidate orders the caller loaded: the order BT-13 names (by number, any
  status, so that ``order_closed`` can be said), else the supplier's open orders (and, for a
  credit note, the orders of the invoices BT-25 names).
- ``receipts``: every ``ReceiptLine`` of those orders (returns negative).
- ``ledger``: every ``LedgerEntry`` of those orders (the match ledger; reversals included).
- ``prior_invoices``: the supplier's earlier invoices and credit notes (``PriorInvoice``) plus any
  with the same sha256, for the duplicate layers; the invoice itself may be among them (skipped
  by id). For a credit note, include the invoices its BT-25 names: that is how a credit note
  without BT-13 finds its order (their numbers -> their ids -> their ledger rows -> the PO).
- ``supplier``: the ``SupplierRecord`` (bank accounts on record) or None when unknown.
- ``policy``: ``MatchPolicy`` (``default_match_policy()`` or ``match_policy_from_mapping(toml)``).

Finding the order: BT-13 equal to an order number; else BT-10 equal to an order number or an
order's buyer reference; else the supplier's open orders when exactly one fits (one open order,
or only one on which every line is found by its seller item id or description). A credit note
also finds the orders of the invoices it names in BT-25 through the ledger.

Finding each line (only on the order found): BT-132 equal to the PO line number; else the seller
item id (BT-155), taking the unique line with it (several: the one whose price equals, if only
one); else description similarity (rapidfuzz token-set ratio of BT-153 against the PO line
description) plus 10 points when the unit price equals and 5 when the quantity fits what is open,
taking the best when it scores at least ``policy.description_min_score`` and beats the next by
``policy.description_margin``. Otherwise ``line_not_found`` or ``ambiguous_line``; never a guess.

The decision
------------
``Decision.outcome``: ``matched`` (no variance at all), ``matched_within_tolerance`` (only
reasons whose action is ``accept``) or ``exception`` (some reason is ``hold`` or ``reject``;
``Decision.action`` says which). Every ``Reason`` has a stable code (``reasons.py``), a message a
clerk understands and its figures (ordered, received, billed_before, invoiced, expected,
variance, tolerance = the row used in words). ``Decision.lines`` has one ``LineDecision`` per
invoice line; ``ledger_entries`` and ``distribution`` are what to write and post when the
invoice is matched (or released).

Quantities: goods (``receipt_required``) are billed up to received minus billed before (3-way);
services up to ordered minus billed before (2-way). Received and billed are derived from
``receipts`` and ``ledger`` (``ledger.positions``); this invoice's own ledger rows are left out,
so deciding again gives the same answer. Several lines of one invoice on the same PO line are
checked together, on their net quantity. A credit note gives negative ledger rows on the lines
it names (as does a negative line of an invoice) and may not take back more than was billed
(``credit_over_billed``). An over-quantity that a tolerance row accepts is shown as a variance,
but its ledger rows are cut back to what may be billed: the ledger never breaks its invariants.

Tolerances: see ``policy.py`` (most specific scope wins; percent and amount both given = the
stricter wins; no rows = exact; no hidden epsilon).

Ledger invariants: ``ledger.check_ledger_write(existing, new, orders=, receipts=)`` before every
write (billed <= received / ordered, never below zero, no invoice line billed twice, reversals
exact); ``ledger.reversal_of(entry)`` makes a correction row.
"""

from __future__ import annotations

from procure.matching.engine import decide
from procure.matching.ledger import (
    LedgerViolation,
    LinePosition,
    check_ledger,
    check_ledger_write,
    positions,
    reversal_of,
)
from procure.matching.model import (
    Decision,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    LineDecision,
    Order,
    OrderLine,
    PriorInvoice,
    Reason,
    ReceiptLine,
    SupplierRecord,
)
from procure.matching.numbers import normalise_number
from procure.matching.policy import (
    MatchPolicy,
    ToleranceRule,
    default_match_policy,
    match_policy_from_mapping,
)

__all__ = [
    "Decision",
    "Invoice",
    "InvoiceLine",
    "LedgerEntry",
    "LedgerViolation",
    "LineDecision",
    "LinePosition",
    "MatchPolicy",
    "Order",
    "OrderLine",
    "PriorInvoice",
    "Reason",
    "ReceiptLine",
    "SupplierRecord",
    "ToleranceRule",
    "check_ledger",
    "check_ledger_write",
    "decide",
    "default_match_policy",
    "match_policy_from_mapping",
    "normalise_number",
    "positions",
    "reversal_of",
]
