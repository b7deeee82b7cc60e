"""Table-driven tests of the matching engine: one row per business case, each naming the
outcome and the reason codes the clerk sees (every reason code of ``reasons.py`` appears)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest

from procure.matching import (
    Decision,
    LedgerEntry,
    PriorInvoice,
    SupplierRecord,
    decide,
    default_match_policy,
    match_policy_from_mapping,
)
from procure.matching import reasons as rc
from tests.unit.matching.builders import (
    ACCOUNT,
    PO,
    SUPPLIER,
    D,
    billing,
    cleaning,
    invoice,
    order,
    paper,
    receipt,
    with_lines,
)


def scenario(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "invoice": invoice(),
        "orders": [order()],
        "receipts": [receipt()],
        "ledger": [],
        "prior_invoices": [],
        "supplier": SupplierRecord(SUPPLIER, (ACCOUNT,)),
        "policy": default_match_policy(),
    }
    base.update(changes)
    return base


def run(s: dict[str, Any]) -> Decision:
    return decide(s.pop("invoice"), **s)


def billed(qty: str, line_no: int = 1, invoice_id: str = "inv-0", id: str = "e0") -> LedgerEntry:
    return LedgerEntry(id, invoice_id, "1", PO, line_no, D(qty), D(qty) * D("20.00"))


def prior(**kw: Any) -> PriorInvoice:
    base: dict[str, Any] = {
        "id": "inv-0",
        "supplier_id": SUPPLIER,
        "number": "INV-0007",
        "issue_date": date(2026, 10, 1),
        "payable": D("999.99"),
        "sha256": "b" * 64,
    }
    base.update(kw)
    return PriorInvoice(**base)


ONE_PAPER_LINE = invoice(billing(paper()))


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], dict[str, Any]]
    outcome: str
    codes: tuple[str, ...]
    action: str = "hold"


CASES = [
    Case("clean 3-way and 2-way match", scenario, "matched", (), "accept"),
    Case("order number written in lower case",
         lambda: scenario(invoice=invoice(order_reference=" po-1001 ")), "matched", (), "accept"),
    Case("order found by buyer reference",
         lambda: scenario(invoice=invoice(order_reference=None, buyer_reference=PO)), "matched", (), "accept"),
    Case("order found as the supplier's only open order",
         lambda: scenario(invoice=invoice(order_reference=None),
                          orders=[order(), order(number="PO-0900", status="closed")]), "matched", (), "accept"),
    Case("no reference, two open orders, the items say which",
         lambda: scenario(invoice=invoice(order_reference=None),
                          orders=[order(), order(paper("PO-1002", seller_item_id="PAP-A3", description="A3 paper"),
                                             number="PO-1002")]),
         "matched", (), "accept"),
    Case("a returned box deducted on the invoice itself",
         lambda: scenario(receipts=[receipt("10"), receipt("-1")], invoice=invoice(
             billing(paper()), billing(paper(), id="1b", quantity=D("-1")), billing(cleaning()))),
         "matched", (), "accept"),
    Case("BT-13 names no order of ours",
         lambda: scenario(invoice=invoice(order_reference="PO-9999")), "exception", (rc.NO_ORDER,)),
    Case("no reference and no open order", lambda: scenario(invoice=invoice(order_reference=None), orders=[]),
         "exception", (rc.NO_ORDER,)),
    Case("no reference and two open orders that both fit",
         lambda: scenario(invoice=invoice(order_reference=None), orders=[order(), order(number="PO-1002")]),
         "exception", (rc.AMBIGUOUS_ORDER,)),
    Case("order closed", lambda: scenario(orders=[order(status="closed")]), "exception", (rc.ORDER_CLOSED,)),
    Case("invoice from another supplier",
         lambda: scenario(invoice=invoice(supplier_id="SUP-OTHER"), supplier=None), "exception",
         (rc.SUPPLIER_MISMATCH,)),
    Case("invoice in euros", lambda: scenario(invoice=invoice(currency="EUR")), "exception",
         (rc.CURRENCY_MISMATCH,)),
    Case("two lines with the same line id",
         lambda: scenario(invoice=invoice(billing(paper()), billing(cleaning(), id="1"))),
         "exception", (rc.LINE_IDS_NOT_UNIQUE,)),
    Case("a line nobody ordered",
         lambda: scenario(invoice=with_lines(ONE_PAPER_LINE, billing(paper()), billing(
             paper(), id="3", order_line_reference=None, seller_item_id=None, item_name="Garden gnome, large"))),
         "exception", (rc.LINE_NOT_FOUND,)),
    Case("a line found by description only",
         lambda: scenario(invoice=invoice(billing(paper(), order_line_reference=None, seller_item_id=None,
                                                  item_name="Copier paper A4 white 80gsm (box of 5 reams)")),
                          ), "matched", (), "accept"),
    Case("a line whose item is on two order lines at other prices",
         lambda: scenario(
             orders=[order(paper(), paper(line_no=3, unit_price=D("21.00")))],
             invoice=invoice(billing(paper(), order_line_reference=None, unit_price=D("20.50"))),
             receipts=[receipt(), receipt(line_no=3)]),
         "exception", (rc.AMBIGUOUS_LINE,)),
    Case("the same item on two order lines, the price says which",
         lambda: scenario(
             orders=[order(paper(), paper(line_no=3, unit_price=D("21.00")))],
             invoice=invoice(billing(paper(line_no=3, unit_price=D("21.00")), order_line_reference=None)),
             receipts=[receipt(line_no=3)]),
         "matched", (), "accept"),
    Case("two order lines described almost alike",
         lambda: scenario(
             orders=[order(paper(seller_item_id=None), paper(line_no=3, seller_item_id=None,
                                                              description="A4 copier paper, white, 80gsm, box of 5 reams"))],
             invoice=invoice(billing(paper(), order_line_reference=None, seller_item_id=None)),
             receipts=[receipt(), receipt(line_no=3)]),
         "exception", (rc.AMBIGUOUS_LINE,)),
    Case("order on hold", lambda: scenario(orders=[order(status="on_hold")]), "exception", (rc.ORDER_CLOSED,)),
    Case("seller not recognised",
         lambda: scenario(invoice=invoice(supplier_id=None), supplier=None), "exception",
         (rc.SUPPLIER_MISMATCH,)),
    Case("no bank account on record to compare with",
         lambda: scenario(supplier=SupplierRecord(SUPPLIER, ())), "exception", (rc.BANK_DETAILS_CHANGED,)),
    Case("a credit note for the same amount as an earlier credit note",
         lambda: scenario(invoice=invoice(billing(paper(), quantity=D("2")), kind="credit_note", id="cn-2",
                                          number="CN-8"),
                          ledger=[billed("10")],
                          prior_invoices=[prior(kind="credit_note", payable=D("48.00"), number="CN-7",
                                                issue_date=date(2026, 11, 1))]),
         "exception", (rc.DUPLICATE_INVOICE,)),
    Case("price 1.5% over, within tolerance",
         lambda: scenario(invoice=invoice(billing(paper(), unit_price=D("20.30")))),
         "matched_within_tolerance", (rc.PRICE_VARIANCE, rc.LINE_AMOUNT_VARIANCE), "accept"),
    Case("price 5% over, beyond tolerance",
         lambda: scenario(invoice=invoice(billing(paper(), unit_price=D("21.00")))),
         "exception", (rc.PRICE_OVER_TOLERANCE, rc.LINE_AMOUNT_OVER_TOLERANCE)),
    Case("price doubled, rejected",
         lambda: scenario(invoice=invoice(billing(paper(), unit_price=D("40.00")))),
         "exception", (rc.PRICE_OVER_TOLERANCE, rc.LINE_AMOUNT_OVER_TOLERANCE), "reject"),
    Case("price per 100 units (BT-149) equal to the order",
         lambda: scenario(invoice=invoice(billing(paper(), unit_price=D("2000.00"),
                                                  price_base_quantity=D("100"), net_amount=D("200.00")))),
         "matched", (), "accept"),
    Case("cheaper than ordered", lambda: scenario(invoice=invoice(billing(paper(), unit_price=D("18.00")))),
         "matched_within_tolerance", (rc.PRICE_VARIANCE, rc.LINE_AMOUNT_VARIANCE), "accept"),
    Case("partial delivery billed in full", lambda: scenario(receipts=[receipt("6")]), "exception",
         (rc.QUANTITY_OVER_RECEIVED,)),
    Case("goods not received at all", lambda: scenario(receipts=[]), "exception", (rc.NOT_YET_RECEIVED,)),
    Case("goods already billed by an earlier invoice", lambda: scenario(ledger=[billed("10")]), "exception",
         (rc.NOT_YET_RECEIVED,)),
    Case("a return reduces what may be billed", lambda: scenario(receipts=[receipt(), receipt("-3")]),
         "exception", (rc.QUANTITY_OVER_RECEIVED,)),
    Case("more hours than ordered",
         lambda: scenario(invoice=invoice(billing(paper()), billing(cleaning(), quantity=D("10")))),
         "exception", (rc.QUANTITY_OVER_ORDERED,)),
    Case("two invoice lines on one PO line together exceed it",
         lambda: scenario(invoice=invoice(billing(paper()), billing(cleaning(), quantity=D("5")),
                                          billing(cleaning(), id="3", quantity=D("5")))),
         "exception", (rc.QUANTITY_OVER_ORDERED,)),
    Case("VAT rate not the one ordered",
         lambda: scenario(invoice=invoice(billing(paper(), vat_rate=D("5")))),
         "exception", (rc.VAT_MISMATCH,)),
    Case("VAT total wrong", lambda: scenario(invoice=replace(invoice(), vat_total=D("85.00"))),
         "exception", (rc.VAT_MISMATCH,)),
    Case("VAT total 2p out (rounding)", lambda: scenario(invoice=replace(invoice(), vat_total=D("80.02"))),
         "matched_within_tolerance", (rc.VAT_VARIANCE,), "accept"),
    Case("a delivery charge not on the order",
         lambda: scenario(invoice=replace(invoice(), tax_exclusive=D("415.00"))),
         "exception", (rc.TOTAL_MISMATCH,)),
    Case("a 50p charge not on the order",
         lambda: scenario(invoice=replace(invoice(), tax_exclusive=D("400.50"))),
         "matched_within_tolerance", (rc.TOTAL_VARIANCE,), "accept"),
    Case("up to 5% over the received quantity is accepted for stationery",
         lambda: scenario(receipts=[receipt("9.6")], policy=match_policy_from_mapping({"matching": {"tolerance": [
             {"scope": "category", "scope_key": "stationery", "check": "quantity", "upper_percent": "5",
              "action": "hold"}]}})),
         "matched_within_tolerance", (rc.QUANTITY_VARIANCE,), "accept"),
    Case("invoice in another unit",
         lambda: scenario(invoice=invoice(billing(paper(), unit_code="EA", quantity=D("50")))),
         "exception", (rc.UNIT_MISMATCH,)),
    Case("line amount far above quantity x price",
         lambda: scenario(invoice=invoice(billing(paper(), net_amount=D("350.00")))),
         "exception", (rc.LINE_AMOUNT_OVER_TOLERANCE,)),
    Case("invoice dated a month before the goods arrived",
         lambda: scenario(invoice=invoice(issue_date=date(2026, 10, 1))),
         "exception", (rc.INVOICE_BEFORE_RECEIPT,)),
    Case("invoice dated 3 days before the goods arrived",
         lambda: scenario(invoice=invoice(issue_date=date(2026, 10, 30))),
         "matched_within_tolerance", (rc.DATE_VARIANCE,), "accept"),
    Case("same document again", lambda: scenario(prior_invoices=[prior(sha256="a" * 64)]),
         "exception", (rc.DUPLICATE_INVOICE,), "reject"),
    Case("same invoice number again", lambda: scenario(prior_invoices=[prior(number="INV-0042")]),
         "exception", (rc.DUPLICATE_INVOICE,), "reject"),
    Case("same number written differently", lambda: scenario(prior_invoices=[prior(number="inv 42")]),
         "exception", (rc.DUPLICATE_INVOICE,)),
    Case("same amount a week earlier",
         lambda: scenario(prior_invoices=[prior(payable=D("480.00"), issue_date=date(2026, 10, 29))]),
         "exception", (rc.DUPLICATE_INVOICE,)),
    Case("same amount long ago is no duplicate",
         lambda: scenario(prior_invoices=[prior(payable=D("480.00"), issue_date=date(2026, 1, 5))]),
         "matched", (), "accept"),
    Case("another supplier's invoice with the same number is no duplicate",
         lambda: scenario(prior_invoices=[prior(number="INV-0042", supplier_id="SUP-X")]),
         "matched", (), "accept"),
    Case("payment to a new bank account",
         lambda: scenario(invoice=invoice(payee_account="GB94BARC10201530093459")),
         "exception", (rc.BANK_DETAILS_CHANGED,)),
    Case("the same account written with spaces",
         lambda: scenario(invoice=invoice(payee_account="gb33 bukb 2020 1555 5555 55")),
         "matched", (), "accept"),
    Case("credit note for two boxes of paper billed before",
         lambda: scenario(invoice=invoice(billing(paper(), quantity=D("2")), kind="credit_note", id="cn-1",
                                          number="CN-7", preceding_invoices=("INV-0007",)),
                          ledger=[billed("10")]),
         "matched", (), "accept"),
    Case("credit note crediting more than was billed",
         lambda: scenario(invoice=invoice(billing(paper(), quantity=D("2")), kind="credit_note", id="cn-1",
                                          number="CN-7")),
         "exception", (rc.CREDIT_OVER_BILLED,)),
    Case("credit note finds its order through the invoice it corrects",
         lambda: scenario(invoice=invoice(billing(paper(), quantity=D("2")), kind="credit_note", id="cn-1",
                                          number="CN-7", order_reference=None, preceding_invoices=("INV-0007",)),
                          orders=[order(), order(number="PO-1002")], ledger=[billed("10")],
                          prior_invoices=[prior()]),
         "matched", (), "accept"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_decision(case: Case) -> None:
    decision = run(case.build())
    assert decision.outcome == case.outcome, decision.reasons
    assert set(decision.codes) == set(case.codes), decision.reasons
    assert decision.action == case.action
    for reason in decision.reasons:
        assert reason.message and reason.figures


def test_every_reason_code_is_produced_by_some_case() -> None:
    produced = {code for case in CASES for code in run(case.build()).codes}
    assert produced == rc.ALL_CODES


def test_a_clean_match_writes_one_ledger_row_and_one_distribution_line_per_line() -> None:
    d = run(scenario())
    assert [(e.po_line_no, e.quantity, e.amount, e.price_variance) for e in d.ledger_entries] == [
        (1, D("10"), D("200.00"), D("0.00")),
        (2, D("8"), D("200.00"), D("0.00")),
    ]
    assert [(x.cost_centre, x.gl_code, x.vat_code) for x in d.distribution] == [
        ("CC-LIB", "5100", "S20"),
        ("CC-FAC", "5300", "S20"),
    ]
    assert d.lines[0].figures["found_by"] == "order_line_reference"
    assert d.po_numbers == (PO,)


def test_a_partial_delivery_says_what_was_ordered_received_billed_and_invoiced() -> None:
    d = run(scenario(receipts=[receipt("6")], ledger=[billed("2")]))
    (reason,) = d.reasons
    assert reason.code == rc.QUANTITY_OVER_RECEIVED
    assert reason.invoice_line_id == "1"
    assert dict(reason.figures) | {} == {
        "order_line": f"PO {PO} line 1",
        "ordered": "10",
        "received": "6",
        "billed_before": "2",
        "invoiced": "10",
        "variance": "+6",
        "tolerance": "global quantity: above +0 -> hold",
    }
    assert "only 4 received and not yet billed" in reason.message


def test_a_duplicate_names_its_layer_and_the_earlier_invoice() -> None:
    d = run(scenario(prior_invoices=[prior(number="inv 42", id="inv-earlier")]))
    (reason,) = d.reasons
    assert reason.figures["layer"] == "normalised_number"
    assert reason.figures["earlier_invoice_id"] == "inv-earlier"


def test_bank_details_changed_holds_an_otherwise_perfect_match() -> None:
    d = run(scenario(invoice=invoice(payee_account="GB94BARC10201530093459")))
    assert d.codes == (rc.BANK_DETAILS_CHANGED,)
    assert all(line.outcome == "matched" for line in d.lines)
    assert d.outcome == "exception"


def test_a_credit_note_writes_negative_ledger_rows() -> None:
    cn = invoice(billing(paper(), quantity=D("2")), kind="credit_note", id="cn-1", number="CN-7")
    d = run(scenario(invoice=cn, ledger=[billed("10")]))
    assert [(e.quantity, e.amount) for e in d.ledger_entries] == [(D("-2"), D("-40.00"))]


def test_an_accepted_over_quantity_never_puts_more_than_received_in_the_ledger() -> None:
    policy = match_policy_from_mapping(
        {"matching": {"tolerance": [
            {"scope": "category", "scope_key": "stationery", "check": "quantity",
             "upper_percent": "10", "action": "hold"}]}}
    )  # fmt: skip
    d = run(scenario(receipts=[receipt("9.5")], policy=policy, invoice=invoice(billing(paper()))))
    assert d.outcome == "matched_within_tolerance"
    assert d.codes == (rc.QUANTITY_VARIANCE,)
    assert d.ledger_entries[0].quantity == D("9.5")


def test_no_tolerance_row_means_an_exact_match_is_required() -> None:
    policy = match_policy_from_mapping({"matching": {"tolerance": []}})
    d = run(scenario(policy=policy, invoice=invoice(billing(paper(), unit_price=D("20.01")))))
    price = next(r for r in d.reasons if r.code == rc.PRICE_OVER_TOLERANCE)
    assert price.figures["tolerance"] == "none: an exact match is required"


def test_an_item_row_beats_the_global_row() -> None:
    policy = match_policy_from_mapping(
        {"matching": {"tolerance": [
            {"scope": "global", "check": "unit_price", "upper_percent": "1", "action": "hold"},
            {"scope": "global", "check": "line_amount", "upper_percent": "10", "action": "hold"},
            {"scope": "item", "scope_key": "PAP-A4-80", "check": "unit_price", "upper_percent": "6",
             "action": "hold"}]}}
    )  # fmt: skip
    d = run(scenario(policy=policy, invoice=invoice(billing(paper(), unit_price=D("21.00")))))
    assert d.outcome == "matched_within_tolerance"
    assert "item PAP-A4-80 unit_price" in d.reasons[0].figures["tolerance"]


def test_a_price_variance_says_how_much_money_a_release_would_approve() -> None:
    d = run(scenario(invoice=invoice(billing(paper(), unit_price=D("21.00")), billing(cleaning()))))
    assert (d.expected_net, d.net_variance) == (D("400.00"), D("10.00"))
    policy = default_match_policy()  # re-approval beyond 10% or £500
    assert d.net_variance is not None and d.expected_net is not None
    assert not policy.needs_reapproval(d.net_variance, d.expected_net)
    big = run(scenario(invoice=invoice(billing(paper(), unit_price=D("40.00")))))
    assert big.net_variance is not None and big.expected_net is not None
    assert policy.needs_reapproval(big.net_variance, big.expected_net)


def test_without_every_line_found_there_is_no_expected_net() -> None:
    d = run(scenario(invoice=invoice(order_reference="PO-9999")))
    assert d.expected_net is None and d.net_variance is None
