"""The stable reason codes of matching decisions. Codes never change meaning once released.

Imports: nothing. Each code is produced by ``engine.decide`` with the figures behind it.
"""

from __future__ import annotations

# Finding the order (invoice level)
NO_ORDER = "no_order"
"""No order found: BT-13 names no order of ours, or nothing else points at exactly one order."""
AMBIGUOUS_ORDER = "ambiguous_order"
"""No BT-13, and several of the supplier's open orders fit: a person chooses."""
ORDER_CLOSED = "order_closed"
"""The order is closed, cancelled or on hold."""
SUPPLIER_MISMATCH = "supplier_mismatch"
"""The invoice's seller is not the order's supplier (or is not known)."""
CURRENCY_MISMATCH = "currency_mismatch"
"""BT-5 differs from the order's currency."""

# Finding the lines
LINE_IDS_NOT_UNIQUE = "line_ids_not_unique"
"""Two invoice lines share a BT-126 line id: lines cannot be told apart (nor ledger rows)."""
LINE_NOT_FOUND = "line_not_found"
AMBIGUOUS_LINE = "ambiguous_line"

# Tolerance checks (beyond tolerance: hold or reject)
PRICE_OVER_TOLERANCE = "price_over_tolerance"
LINE_AMOUNT_OVER_TOLERANCE = "line_amount_over_tolerance"
QUANTITY_OVER_RECEIVED = "quantity_over_received"
QUANTITY_OVER_ORDERED = "quantity_over_ordered"
NOT_YET_RECEIVED = "not_yet_received"
CREDIT_OVER_BILLED = "credit_over_billed"
"""A credit note credits more than was billed on the PO line."""
UNIT_MISMATCH = "unit_mismatch"
"""BT-130 differs from the order line's unit."""
VAT_MISMATCH = "vat_mismatch"
TOTAL_MISMATCH = "total_mismatch"
INVOICE_BEFORE_RECEIPT = "invoice_before_receipt"
"""The invoice is dated further before the goods arrived than the date tolerance allows."""

# Variances within tolerance (action accept; outcome matched_within_tolerance)
PRICE_VARIANCE = "price_variance"
QUANTITY_VARIANCE = "quantity_variance"
LINE_AMOUNT_VARIANCE = "line_amount_variance"
TOTAL_VARIANCE = "total_variance"
VAT_VARIANCE = "vat_variance"
DATE_VARIANCE = "date_variance"

# Duplicates and fraud (invoice level)
DUPLICATE_INVOICE = "duplicate_invoice"
"""Figures name the layer (number, normalised_number, amount_window, sha256) and the earlier
invoice."""
BANK_DETAILS_CHANGED = "bank_details_changed"
"""BT-84 is not an account on the supplier's record: held whatever else matches."""

ALL_CODES = frozenset(v for k, v in dict(globals()).items() if k.isupper() and isinstance(v, str))
