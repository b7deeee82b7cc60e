"""An invoice line is placed on a PO line by its order line reference, else the supplier's item
id, else its description with price and quantity; a line that fits none, or fits two equally,
is held for a person (never a guess)."""

from __future__ import annotations

from entrypoints.demo_invoices import invoice_for_order
from procure.einvoice.ubl_writer import render_ubl
from procure.services import intake, orders
from procure.services.admin import reference_data
from tests.conftest import line
from tests.scenarios.invoicing import codes, matching_of, ordered


def _send(app, po, number, edit):
    doc = invoice_for_order(
        po, reference_data(app.ctx), number=number, issued=app.ctx.clock().date()
    )
    doc = doc.model_copy(update={"lines": tuple(edit(ln) for ln in doc.lines)})
    result = intake.ingest(app.ctx, render_ubl(doc), filename=f"{number}.xml")
    assert result.status == "accepted", result.findings
    app.drain(fail_fast=True)
    return result.id


def test_a_line_for_something_never_ordered_is_line_not_found(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")

    invoice_id = _send(
        app,
        po,
        "COS-7001",
        lambda ln: ln.model_copy(
            update={"order_line_reference": None, "item_name": "Executive leather swivel chair"}
        ),
    )

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and codes(view) == {"line_not_found"}


def test_a_line_that_fits_two_order_lines_equally_is_ambiguous(app):
    po = ordered(
        app,
        "s.jones",
        "CC-FAC",
        "SUP-0002",
        line("Ballpoint pens, blue, box of 50", "4", "6.00", unit_code="XBX"),
        line("Ballpoint pens, black, box of 50", "4", "6.00", unit_code="XBX"),
    )
    orders.record_receipt(app.ctx, po["number"], [(1, "4"), (2, "4")], by="s.jones")

    def vague(ln):
        return ln.model_copy(
            update={"order_line_reference": None, "item_name": "Ballpoint pens, box of 50"}
        )

    invoice_id = _send(app, {**po, "lines": po["lines"][:1]}, "COS-7002", vague)

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and codes(view) == {"ambiguous_line"}
    assert view["decision"]["lines"][0]["po_line_no"] is None
    assert view["ledger"] == []
