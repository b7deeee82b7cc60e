"""Ten boxes are delivered and invoiced; two are damaged and the supplier sends a credit note for
them. The credit note is matched too, and the billed quantity on the PO line drops to eight, so
two more may be billed when replacements arrive."""

from __future__ import annotations

from decimal import Decimal

from entrypoints.demo_invoices import invoice_for_order
from procure.einvoice.ubl_writer import render_ubl
from procure.services import intake, orders
from procure.services.admin import reference_data
from tests.conftest import line
from tests.scenarios.invoicing import billed, codes, matching_of, ordered, send_invoice


def test_a_credit_note_for_two_boxes_takes_them_off_what_was_billed(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")
    invoice_id = send_invoice(app, po, "COS-3001")
    assert matching_of(app, invoice_id)["state"] == "matched"
    orders.record_receipt(app.ctx, po["number"], [(1, "-2")], by="s.jones", is_return=True)
    app.drain(fail_fast=True)

    credit_id = send_invoice(app, po, "COS-CN-3001", [(1, "2")], credit_note_for="COS-3001")

    view = matching_of(app, credit_id)
    assert view["state"] == "matched", view["decision"]["reasons"]
    [row] = view["ledger"]
    assert Decimal(row["quantity"]) == -2 and Decimal(row["amount"]) == Decimal("-43.00")
    assert billed(app, po["number"]) == {1: Decimal(8)}


def test_a_credit_note_for_more_than_was_billed_is_held(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "3")], by="s.jones")
    send_invoice(app, po, "COS-3002", [(1, "3")])

    credit_id = send_invoice(app, po, "COS-CN-3002", [(1, "5")], credit_note_for="COS-3002")

    view = matching_of(app, credit_id)
    assert view["state"] == "held" and codes(view) == {"credit_over_billed"}
    assert billed(app, po["number"]) == {1: Decimal(3)}


def test_a_credit_note_naming_only_the_invoice_finds_the_order_through_it(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")
    send_invoice(app, po, "COS-3003")
    credit = invoice_for_order(
        po,
        reference_data(app.ctx),
        number="COS-CN-3003",
        issued=app.ctx.clock().date(),
        credit_note_for="COS-3003",
        lines=[(1, Decimal(3))],
    ).model_copy(update={"order_reference": None})  # no BT-13: only BT-25 names COS-3003
    credit_id = intake.ingest(app.ctx, render_ubl(credit), filename="COS-CN-3003.xml").id
    app.drain(fail_fast=True)

    view = matching_of(app, credit_id)
    assert view["state"] == "matched", view["decision"]["reasons"]
    assert view["purchase_orders"] == [po["number"]]
    assert billed(app, po["number"]) == {1: Decimal(7)}
