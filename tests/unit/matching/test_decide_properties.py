"""Properties of the matching engine that must hold for any order, receipts and invoice."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from procure.matching import (
    Decision,
    Invoice,
    LedgerEntry,
    MatchPolicy,
    Order,
    ReceiptLine,
    SupplierRecord,
    check_ledger,
    check_ledger_write,
    decide,
    default_match_policy,
    match_policy_from_mapping,
    positions,
    reversal_of,
)
from procure.matching.ledger import billed_by_line
from procure.matching.model import ACTION_RANK
from procure.matching.reasons import ALL_CODES
from tests.unit.matching.builders import ACCOUNT, PO, SUPPLIER, D, billing, invoice, order, paper

POLICY = default_match_policy()
LENIENT = match_policy_from_mapping(
    {"matching": {"tolerance": [
        {"scope": "global", "check": "quantity", "upper_percent": "20", "action": "hold"},
        {"scope": "global", "check": "unit_price", "upper_percent": "20", "action": "hold"},
        {"scope": "global", "check": "line_amount", "upper_percent": "50", "action": "hold"},
        {"scope": "global", "check": "vat", "upper_percent": "50", "lower_percent": "50", "action": "hold"},
        {"scope": "global", "check": "date", "upper_amount": "30", "action": "hold"},
    ]}}
)  # fmt: skip
RECEIVED_ON = date(2026, 11, 2)
WORDS = ["paper", "toner", "chairs", "desk", "cable", "gloves", "bins", "salt", "signs", "paint"]


@st.composite
def books(draw: st.DrawFn) -> tuple[Order, list[ReceiptLine], list[LedgerEntry]]:
    """An order of 1-6 lines with receipts and an earlier invoice billing part of each line."""
    n = draw(st.integers(1, 6))
    lines = []
    receipts: list[ReceiptLine] = []
    ledger: list[LedgerEntry] = []
    for no in range(1, n + 1):
        qty = D(draw(st.integers(1, 40)))
        price = D(draw(st.integers(1, 50_000))) / 100
        goods = draw(st.booleans())
        lines.append(
            paper(
                line_no=no,
                description=f"{WORDS[no - 1]} {WORDS[no + 3]} for the depot",
                seller_item_id=f"ITEM-{no}",
                quantity=qty,
                unit_price=price,
                net_amount=qty * price,
                vat_rate=D(draw(st.sampled_from(["0", "5", "20"]))),
                receipt_required=goods,
            )
        )
        received = D(draw(st.integers(0, int(qty)))) if goods else D(0)
        if received:
            receipts.append(ReceiptLine(PO, no, received, RECEIVED_ON))
        billed = D(draw(st.integers(0, int(received if goods else qty))))
        if billed:
            ledger.append(
                LedgerEntry(f"old:{no}", "inv-old", str(no), PO, no, billed, billed * price)
            )
    return order(*lines), receipts, ledger


@st.composite
def invoices(
    draw: st.DrawFn, book: Order, exact: bool = False, open_: dict[int, Decimal] | None = None
) -> Invoice:
    chosen = draw(
        st.lists(
            st.sampled_from(book.lines),
            min_size=1,
            max_size=len(book.lines),
            unique_by=lambda ln: ln.line_no,
        )
    )
    out = []
    for i, ol in enumerate(chosen, start=1):
        if exact:
            assert open_ is not None
            qty = D(draw(st.integers(1, int(open_[ol.line_no]))))
            price = ol.unit_price
        else:
            qty = D(draw(st.integers(1, int(ol.quantity) + 3)))
            price = ol.unit_price + D(draw(st.integers(-300, 300))) / 100
            if price <= 0:
                price = ol.unit_price
        by_ref = draw(st.booleans())
        out.append(
            billing(
                ol,
                id=str(i * 10),
                quantity=qty,
                unit_price=price,
                order_line_reference=str(ol.line_no) if by_ref else None,
            )
        )
    days = 0 if exact else draw(st.integers(-20, 20))
    return invoice(*out, issue_date=RECEIVED_ON + timedelta(days=3 + days))


def decide_on(
    inv: Invoice,
    book: Order,
    receipts: list[ReceiptLine],
    ledger: list[LedgerEntry],
    policy: MatchPolicy = POLICY,
) -> Decision:
    return decide(
        inv,
        orders=[book],
        receipts=receipts,
        ledger=ledger,
        prior_invoices=[],
        supplier=SupplierRecord(SUPPLIER, (ACCOUNT,)),
        policy=policy,
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_order_of_the_lines_does_not_change_the_decision(data: st.DataObject) -> None:
    book, receipts, ledger = data.draw(books())
    inv = data.draw(invoices(book))
    shuffled = replace(inv, lines=tuple(data.draw(st.permutations(inv.lines))))
    assert decide_on(shuffled, book, receipts, ledger) == decide_on(inv, book, receipts, ledger)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_an_exact_match_has_no_variances(data: st.DataObject) -> None:
    book, receipts, ledger = data.draw(books())
    pos = positions([book], receipts, ledger)
    open_ = {no: p.limit - p.billed for (_, no), p in pos.items()}
    billable = [ln for ln in book.lines if open_[ln.line_no] >= 1]
    if not billable:
        return
    inv = data.draw(invoices(replace(book, lines=tuple(billable)), exact=True, open_=open_))
    d = decide_on(inv, book, receipts, ledger)
    assert d.outcome == "matched"
    assert d.reasons == ()
    assert all(e.price_variance == 0 for e in d.ledger_entries)
    assert sum(e.amount for e in d.ledger_entries) == inv.tax_exclusive
    assert not check_ledger_write(ledger, d.ledger_entries, orders=[book], receipts=receipts)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_credit_note_then_its_reversal_leaves_billed_quantities_unchanged(
    data: st.DataObject,
) -> None:
    book, receipts, ledger = data.draw(books())
    billed = billed_by_line(ledger)
    creditable = [ln for ln in book.lines if billed.get((PO, ln.line_no), D(0)) >= 1]
    if not creditable:
        return
    lines = [
        billing(ol, id=str(i), quantity=D(data.draw(st.integers(1, int(billed[(PO, ol.line_no)])))))
        for i, ol in enumerate(creditable, start=1)
    ]
    cn = invoice(*lines, kind="credit_note", id="cn-1", number="CN-1")
    d = decide_on(cn, book, receipts, ledger)
    assert d.outcome == "matched", d.reasons
    assert all(e.quantity < 0 for e in d.ledger_entries)
    assert not check_ledger_write(ledger, d.ledger_entries, orders=[book], receipts=receipts)
    credited = ledger + list(d.ledger_entries)
    reversals = [reversal_of(e) for e in d.ledger_entries]
    assert not check_ledger_write(credited, reversals, orders=[book], receipts=receipts)
    after = credited + reversals

    def nonzero(entries: list[LedgerEntry]) -> dict[tuple[str, int], Decimal]:
        return {k: v for k, v in billed_by_line(entries).items() if v}

    assert nonzero(after) == nonzero(ledger)
    # and the engine sees exactly the position it saw before the credit note
    probe = data.draw(invoices(book))
    assert decide_on(probe, book, receipts, after) == decide_on(probe, book, receipts, ledger)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_the_ledger_invariants_always_hold(data: st.DataObject) -> None:
    """Whatever sequence of invoices and credit notes comes in, every write the engine proposes
    for a matched invoice passes the invariants, and the whole ledger stays within them."""
    book, receipts, ledger = data.draw(books())
    ledger = list(ledger)
    policy = data.draw(st.sampled_from([POLICY, LENIENT]))
    for n in range(data.draw(st.integers(1, 5))):
        inv = replace(data.draw(invoices(book)), id=f"inv-{n}", number=f"N{n}", sha256=str(n))
        if data.draw(st.booleans()):
            inv = replace(inv, kind="credit_note")
        d = decide_on(inv, book, receipts, ledger, policy)
        if d.outcome != "exception":
            assert not check_ledger_write(
                ledger, d.ledger_entries, orders=[book], receipts=receipts
            )
            ledger += d.ledger_entries
    assert not check_ledger(ledger, orders=[book], receipts=receipts)
    for p in positions([book], receipts, ledger).values():
        assert D(0) <= p.billed <= p.limit


odd_decimals = st.sampled_from(["0", "-1", "0.0001", "1", "3", "12.5", "999999.99"]).map(Decimal)


@st.composite
def odd_invoices(draw: st.DrawFn, book: Order) -> Invoice:
    """Invoices as suppliers really send them: odd quantities, prices, bases and references."""
    lines = []
    for i in range(draw(st.integers(1, 6))):
        ol = draw(st.sampled_from(book.lines))
        quantity, price = draw(odd_decimals), draw(odd_decimals)
        lines.append(
            billing(
                ol,
                id=draw(st.sampled_from([str(i), f"L-{i}", f" {i}"])),
                quantity=quantity,
                unit_price=price,
                net_amount=draw(st.sampled_from([quantity * price, Decimal("0.01")])),
                price_base_quantity=draw(st.sampled_from(["1", "0", "100"]).map(Decimal)),
                order_line_reference=draw(
                    st.sampled_from([None, "", "0", "x1", " 1 ", "99", str(ol.line_no)])
                ),
                seller_item_id=draw(st.sampled_from([None, "", ol.seller_item_id, "NOPE"])),
                item_name=draw(st.sampled_from(["", ol.description, "something else entirely"])),
                unit_code=draw(st.sampled_from([ol.unit_code, "KGM"])),
            )
        )
    kind = draw(st.sampled_from(["invoice", "credit_note"]))
    return invoice(
        *lines, kind=kind, order_reference=draw(st.sampled_from([None, PO, "po-1001", "X"]))
    )


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_invoice_gets_a_decision_that_accounts_for_every_line(data: st.DataObject) -> None:
    book, receipts, ledger = data.draw(books())
    inv = data.draw(odd_invoices(book))
    d = decide_on(inv, book, receipts, ledger, data.draw(st.sampled_from([POLICY, LENIENT])))
    assert sorted(ln.invoice_line_id for ln in d.lines) == sorted(ln.id for ln in inv.lines)
    worst = max((ACTION_RANK[r.action] for r in d.reasons), default=-1)
    assert d.outcome == {-1: "matched", 0: "matched_within_tolerance"}.get(worst, "exception")
    for reason in d.reasons:
        assert reason.code in ALL_CODES and reason.message and reason.figures
    d.as_data()  # everything the service stores is serialisable
