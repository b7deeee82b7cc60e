"""Adapter (1): a reference ledger of balanced double-entry journals, and its trial balance.

Imports: sqlalchemy and this package. For an invoice, one journal per posting:

- debit the expense account (the GL code) per GL line, with its cost centre, by its net amount;
- debit input VAT (account ``2200``) per VAT code, by the sum of its lines' VAT amounts;
- credit the creditors control account (``2100``), with the supplier's finance reference, by
  the gross total.

A credit note is the same journal reversed (debits become credits). A negative amount is put
on the other side as a positive one. Every journal balances because the receiver has checked
that the lines' net and VAT add up to the gross total before any adapter runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, func, select

from connectors.finance.store import FinanceStore, journal, journal_line
from procure.messages import PostingMessage

INPUT_VAT = "2200"
CREDITORS_CONTROL = "2100"
ACCOUNT_NAMES = {INPUT_VAT: "Input VAT", CREDITORS_CONTROL: "Creditors control"}
ZERO = Decimal("0.00")


def _entry(
    document: str, account: str, cost_centre: str | None, amount: Decimal, debit: bool, memo: str
) -> dict[str, object]:
    if amount < 0:
        amount, debit = -amount, not debit
    return {
        "document_number": document,
        "account": account,
        "cost_centre": cost_centre,
        "debit": amount if debit else ZERO,
        "credit": ZERO if debit else amount,
        "memo": memo[:200],
    }


def journal_entries(m: PostingMessage, document: str) -> list[dict[str, object]]:
    b = m.body
    invoice = b.document_type == "invoice"  # a credit note reverses every side
    entries = [
        _entry(
            document, ln.gl_code, ln.cost_centre, Decimal(ln.net_amount), invoice, ln.description
        )
        for ln in b.lines
    ]
    vat: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for ln in b.lines:
        vat[ln.vat_code] += Decimal(ln.vat_amount)
    entries += [
        _entry(document, INPUT_VAT, None, amount, invoice, f"input VAT {code}")
        for code, amount in sorted(vat.items())
        if amount
    ]
    gross = Decimal(b.control_totals.gross_total)
    entries.append(
        _entry(
            document,
            CREDITORS_CONTROL,
            None,
            gross,
            not invoice,
            f"{b.supplier.finance_reference} {b.invoice_number}",
        )
    )
    return entries


@dataclass
class ReferenceLedger:
    name: str = "ledger"

    def apply(self, conn: Connection, postings: Sequence[tuple[PostingMessage, str]]) -> None:
        journals = []
        lines: list[dict[str, object]] = []
        for m, number in postings:
            b = m.body
            journals.append(
                {
                    "document_number": number,
                    "idempotency_key": m.idempotency_key,
                    "invoice_id": b.invoice_id,
                    "document_type": b.document_type,
                    "supplier_reference": b.supplier.finance_reference or "",
                    "invoice_number": b.invoice_number,
                    "posting_date": b.issue_date,
                    "currency": b.currency,
                    "gross_total": Decimal(b.control_totals.gross_total),
                }
            )
            lines.extend(journal_entries(m, number))
        conn.execute(journal.insert(), journals)
        conn.execute(journal_line.insert(), lines)


@dataclass(frozen=True)
class TrialBalance:
    rows: list[tuple[str, Decimal, Decimal]]
    """(account, total debits, total credits), by account."""
    journals: int

    @property
    def debits(self) -> Decimal:
        return sum((d for _, d, _ in self.rows), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((c for _, _, c in self.rows), ZERO)

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits

    def render(self) -> str:
        out = [
            f"Trial balance ({self.journals} journals)",
            f"{'account':<22}{'debit':>14}{'credit':>14}",
        ]
        for account, d, c in self.rows:
            label = f"{account} {ACCOUNT_NAMES.get(account, '')}".strip()
            out.append(f"{label:<22}{d:>14,.2f}{c:>14,.2f}")
        out.append(f"{'total':<22}{self.debits:>14,.2f}{self.credits:>14,.2f}")
        out.append("balanced" if self.balanced else "NOT BALANCED")
        return "\n".join(out)


def trial_balance(store: FinanceStore) -> TrialBalance:
    """Totals per account, added up as Decimals here (SQLite would sum money as floats)."""
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    with store.engine.connect() as conn:
        for account, debit, credit in conn.execute(
            select(journal_line.c.account, journal_line.c.debit, journal_line.c.credit)
        ):
            totals[account][0] += debit
            totals[account][1] += credit
        count = conn.execute(select(func.count()).select_from(journal)).scalar_one()
    return TrialBalance([(a, d, c) for a, (d, c) in sorted(totals.items())], int(count))
