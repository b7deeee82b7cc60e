"""The match ledger's invariants, checked by the service before every write."""

from __future__ import annotations

import pytest

from procure.matching import LedgerEntry, check_ledger, check_ledger_write, positions, reversal_of
from tests.unit.matching.builders import PO, D, order, receipt

BOOK = [order()]  # line 1: 10 boxes of paper (goods); line 2: 8 hours of cleaning (service)


def row(
    id: str, qty: str, line_no: int = 1, invoice_id: str | None = None, line: str = "1"
) -> LedgerEntry:
    return LedgerEntry(id, invoice_id or f"inv-{id}", line, PO, line_no, D(qty), D(qty) * 20)


@pytest.mark.parametrize(
    ("existing", "new", "receipts", "code"),
    [
        ([], [row("a", "7")], [receipt("6")], "over_received"),
        ([row("a", "4")], [row("b", "3")], [receipt("6")], "over_received"),
        ([], [row("a", "9", line_no=2)], [], "over_ordered"),
        ([row("a", "4")], [row("b", "2", invoice_id="inv-a")], [receipt("10")], "billed_twice"),
        ([row("a", "4")], [row("a", "2")], [receipt("10")], "billed_twice"),
        ([], [row("c", "-1")], [receipt("10")], "billed_below_zero"),
        ([row("a", "4")], [LedgerEntry(  # reverses only part of row a
            "r", "inv-a", "1", PO, 1, D("-3"), D("-60"), reverses="a")], [receipt("10")], "bad_reversal"),
        ([row("a", "4")], [reversal_of(row("a", "4")), reversal_of(row("a", "4"), id="again")],
         [receipt("10")], "bad_reversal"),
        ([], [LedgerEntry("x", "inv-x", "1", PO, 7, D("1"), D("1"))], [], "unknown_order_line"),
    ],
)  # fmt: skip
def test_a_write_that_breaks_an_invariant_is_refused(
    existing: list[LedgerEntry],
    new: list[LedgerEntry],
    receipts: list,
    code: str,  # type: ignore[type-arg]
) -> None:
    problems = check_ledger_write(existing, new, orders=BOOK, receipts=receipts)
    assert code in {p.code for p in problems}, problems
    assert all(p.message for p in problems)


def test_billing_up_to_received_and_ordered_is_allowed() -> None:
    new = [row("a", "6"), row("b", "8", line_no=2, line="2")]
    assert check_ledger_write([], new, orders=BOOK, receipts=[receipt("6")]) == ()


def test_a_return_then_its_credit_note_puts_the_line_right() -> None:
    receipts = [receipt("10"), receipt("-3")]
    ledger = [row("a", "10")]
    assert {p.code for p in check_ledger(ledger, orders=BOOK, receipts=receipts)} == {
        "over_received"
    }
    credit = [row("cn", "-3")]
    assert check_ledger_write(ledger, credit, orders=BOOK, receipts=receipts) == ()
    assert check_ledger(ledger + credit, orders=BOOK, receipts=receipts) == ()
    p = positions(BOOK, receipts, ledger + credit)[(PO, 1)]
    assert (p.ordered, p.received, p.billed) == (D("10"), D("7"), D("7"))


def test_a_reversed_row_frees_the_invoice_line_to_be_matched_again() -> None:
    first = row("a", "4")
    ledger = [first, reversal_of(first)]
    again = LedgerEntry("a2", "inv-a", "1", PO, 1, D("5"), D("100"))
    assert check_ledger_write(ledger, [again], orders=BOOK, receipts=[receipt("10")]) == ()
