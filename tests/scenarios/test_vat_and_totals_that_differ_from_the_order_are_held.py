"""VAT charged at another rate than the order's, and a delivery charge that was never on the
order (the invoice total above its lines beyond £1 or 1%), are held for finance."""

from __future__ import annotations

from decimal import Decimal

from procure.services import orders
from tests.conftest import line
from tests.scenarios.invoicing import codes, matching_of, ordered, send_invoice


def _delivered(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")
    return po


def test_vat_at_the_reduced_rate_on_a_standard_rated_order_is_a_vat_mismatch(app):
    po = _delivered(app)

    invoice_id = send_invoice(app, po, "COS-9001", vat_codes={1: "R"})

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and "vat_mismatch" in codes(view)
    [vat] = [
        r
        for r in view["decision"]["reasons"]
        if r["code"] == "vat_mismatch" and r["invoice_line_id"] == "1"
    ]
    assert Decimal(vat["figures"]["ordered_rate"].rstrip("%")) == 20
    assert Decimal(vat["figures"]["invoiced_rate"].rstrip("%")) == 5


def test_a_delivery_charge_not_on_the_order_is_a_total_mismatch(app):
    po = _delivered(app)

    invoice_id = send_invoice(app, po, "COS-9002", charge=Decimal("35.00"))

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and "total_mismatch" in codes(view)
    [total] = [r for r in view["decision"]["reasons"] if r["code"] == "total_mismatch"]
    assert Decimal(total["figures"]["invoice_total"]) - Decimal(
        total["figures"]["lines_total"]
    ) == Decimal("35.00")
