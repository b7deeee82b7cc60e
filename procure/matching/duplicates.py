"""Layered duplicate checks and the bank-account fraud check.

Imports: the standard library and ``procure.matching``. Layers, strongest first; each earlier
invoice is reported once, by the first layer that fires:

1. ``sha256``: the same document bytes (any supplier): reject.
2. ``number``: the same supplier and the same invoice number (BT-1): reject.
3. ``normalised_number``: the same supplier and the same number once case, spaces, punctuation
   and leading zeros are ignored (``INV-0012`` = ``inv 12``): hold.
4. ``amount_window``: the same supplier, the same kind (invoice or credit note) and the same
   payable amount (BT-115), issued within ``duplicate_window_days`` either side: hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from procure.matching import reasons as rc
from procure.matching.model import Action, Invoice, PriorInvoice, Reason, SupplierRecord
from procure.matching.numbers import normalise_number

_LAYER_WORDS = {
    "sha256": "is the very same document as",
    "number": "has the same invoice number as",
    "normalised_number": "has nearly the same invoice number as",
    "amount_window": "is for the same amount, close in date, as",
}


def duplicate_reasons(
    invoice: Invoice, prior_invoices: Sequence[PriorInvoice], window_days: int
) -> list[Reason]:
    if not prior_invoices:
        return []
    supplier = invoice.supplier_id
    normalised = normalise_number(invoice.number)
    out: list[Reason] = []
    for prior in sorted(prior_invoices, key=lambda p: (p.issue_date, p.id)):
        if prior.id == invoice.id:
            continue
        same_supplier = supplier is not None and prior.supplier_id == supplier
        layer: str | None = None
        action: Action = "hold"
        if prior.sha256 == invoice.sha256:
            layer, action = "sha256", "reject"
        elif same_supplier and prior.number == invoice.number:
            layer, action = "number", "reject"
        elif (
            same_supplier
            and normalised is not None
            and normalise_number(prior.number) == normalised
        ):
            layer = "normalised_number"
        elif (
            same_supplier
            and prior.kind == invoice.kind
            and prior.payable == invoice.payable
            and abs((prior.issue_date - invoice.issue_date).days) <= window_days
        ):
            layer = "amount_window"
        if layer is None:
            continue
        word = "credit note" if invoice.kind == "credit_note" else "invoice"
        out.append(
            Reason(
                code=rc.DUPLICATE_INVOICE,
                invoice_line_id=None,
                message=(
                    f"This {word} {_LAYER_WORDS[layer]} {prior.number} of "
                    f"{prior.issue_date.isoformat()} (received earlier as {prior.id})."
                ),
                figures={
                    "layer": layer,
                    "earlier_invoice_id": prior.id,
                    "earlier_number": prior.number,
                    "earlier_issue_date": prior.issue_date.isoformat(),
                    "earlier_payable": str(prior.payable),
                    "number": invoice.number,
                    "issue_date": invoice.issue_date.isoformat(),
                    "payable": str(invoice.payable),
                    "window_days": str(window_days),
                },
                action=action,
            )
        )
    return out


def normalise_account(account: str) -> str:
    return "".join(ch for ch in account.upper() if ch.isalnum())


def bank_reasons(invoice: Invoice, supplier: SupplierRecord | None) -> list[Reason]:
    """``bank_details_changed`` when BT-84 is not an account on the supplier's record."""
    if invoice.payee_account is None or supplier is None:
        return []
    if invoice.payee_account in supplier.bank_accounts:
        return []
    paid_to = normalise_account(invoice.payee_account)
    on_record = {normalise_account(a) for a in supplier.bank_accounts}
    if paid_to in on_record:
        return []
    message = (
        f"The invoice asks for payment to account {invoice.payee_account}, which is not on "
        f"supplier {supplier.id}'s record. Check with the supplier by phone, on the number "
        "already held, before releasing it."
        if on_record
        else f"The invoice asks for payment to account {invoice.payee_account}, but supplier "
        f"{supplier.id} has no bank account on record to compare it with."
    )
    return [
        Reason(
            code=rc.BANK_DETAILS_CHANGED,
            invoice_line_id=None,
            message=message,
            figures={
                "invoice_account": invoice.payee_account,
                "accounts_on_record": ", ".join(supplier.bank_accounts) or "none",
            },
            action="hold",
        )
    ]
