"""Paper is ordered, delivered in full and invoiced exactly: matched 3-way with no person
involved; the ledger draws on the goods receipt and posting is told (InvoiceMatched)."""

from __future__ import annotations

from decimal import Decimal

from procure.domain import events as ev
from procure.services import matching, orders
from tests.conftest import line
from tests.scenarios.invoicing import billed, events_of, matching_of, ordered, send_invoice


def test_an_exact_invoice_for_delivered_goods_is_matched_and_posted(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    receipt = orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")
    app.drain(fail_fast=True)

    invoice_id = send_invoice(app, po, "COS-1001")

    view = matching_of(app, invoice_id)
    assert view["state"] == "matched" and view["how"] == "automatic"
    assert view["decision"]["outcome"] == "matched"
    assert view["decision"]["reasons"] == []
    [row] = view["ledger"]
    assert (row["po_number"], row["po_line_no"]) == (po["number"], 1)
    assert Decimal(row["quantity"]) == 10 and Decimal(row["amount"]) == Decimal("215.00")
    assert row["receipts"] == [{"receipt": receipt.number, "quantity": "10"}]
    assert billed(app, po["number"]) == {1: Decimal(10)}
    assert ev.INVOICE_MATCHED in events_of(app, invoice_id)


def test_matching_twice_changes_nothing(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="4", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "4")], by="s.jones")
    invoice_id = send_invoice(app, po, "COS-1002")

    again = matching.match_invoice(app.ctx, invoice_id)

    assert not again.changed and again.state == "matched"
    view = matching_of(app, invoice_id)
    assert len(view["ledger"]) == 1 and len(view["history"]) == 1
    assert events_of(app, invoice_id).count(ev.INVOICE_MATCHED) == 1
