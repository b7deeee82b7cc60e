"""Invoices whose order cannot be used are held for a person, each saying why: an order number
we never issued, an order that is closed, an order of another supplier, another currency."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update
from sqlmodel import col

from procure.services import matching_views, orders
from procure.store import tables as t
from tests.conftest import line
from tests.scenarios.invoicing import codes, matching_of, ordered, send_invoice


def _delivered_paper(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")
    return po


def test_an_order_number_we_never_issued_is_no_order(app):
    po = _delivered_paper(app)

    invoice_id = send_invoice(app, {**po, "number": "PO-2026-999999"}, "COS-6001")

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and codes(view) == {"no_order"}
    [task] = matching_views.exception_queue(app.ctx)
    assert "PO-2026-999999" in task["summary"]


def test_an_invoice_on_a_closed_order_is_held(app):
    po = _delivered_paper(app)
    with app.db.transaction() as s:  # no close-order service exists yet: the state is set here
        s.execute(
            update(t.PurchaseOrderRow)
            .where(col(t.PurchaseOrderRow.number) == po["number"])
            .values(status="closed")
        )

    invoice_id = send_invoice(app, po, "COS-6002")

    assert "order_closed" in codes(matching_of(app, invoice_id))


def test_another_suppliers_invoice_quoting_our_order_is_a_supplier_mismatch(app):
    po = _delivered_paper(app)

    invoice_id = send_invoice(app, {**po, "supplier": "SUP-0001"}, "SDS-6003")

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and "supplier_mismatch" in codes(view)


def test_an_invoice_in_euros_for_an_order_in_pounds_is_a_currency_mismatch(app):
    po = _delivered_paper(app)

    invoice_id = send_invoice(app, po, "COS-6004", currency="EUR")

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and "currency_mismatch" in codes(view)
    assert matching_of(app, invoice_id)["ledger"] == []
    assert Decimal(matching_views.order_positions(app.ctx, po["number"])[0]["billed"]) == 0
