"""The supplier charges £21.80 a box instead of the £21.50 ordered: 1.4%, inside the council's
2% (or £25 a unit) price tolerance. The invoice is matched within tolerance, without a person,
and the variance is kept on the ledger and shown with the tolerance row that allowed it."""

from __future__ import annotations

from decimal import Decimal

from procure.services import orders
from tests.conftest import line
from tests.scenarios.invoicing import billed, codes, matching_of, ordered, send_invoice


def test_a_price_a_little_above_the_order_is_matched_within_tolerance(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")

    invoice_id = send_invoice(app, po, "COS-4001", prices={1: Decimal("21.80")})

    view = matching_of(app, invoice_id)
    assert view["state"] == "matched"
    assert view["decision"]["outcome"] == "matched_within_tolerance"
    assert "price_variance" in codes(view)
    assert {r["action"] for r in view["decision"]["reasons"]} == {"accept"}
    [price] = [r for r in view["decision"]["reasons"] if r["code"] == "price_variance"]
    assert "2%" in price["figures"]["tolerance"]
    [row] = view["ledger"]
    assert Decimal(row["price_variance"]) == Decimal("3.00")
    assert billed(app, po["number"]) == {1: Decimal(10)}
