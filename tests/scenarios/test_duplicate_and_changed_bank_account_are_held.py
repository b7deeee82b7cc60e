"""Fraud and double payment: a second invoice for the same amount within the window (under
another number) is held as a suspected duplicate pointing at the first; an invoice asking to be
paid into an account that is not on the supplier's record is held whatever else matches."""

from __future__ import annotations

from decimal import Decimal

from procure.services import orders
from tests.conftest import line
from tests.scenarios.invoicing import billed, codes, matching_of, ordered, send_invoice


def test_the_same_amount_again_under_a_new_number_is_held_as_a_duplicate(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")
    first = send_invoice(app, po, "COS-10001")

    second = send_invoice(app, po, "COS-10001-A")

    view = matching_of(app, second)
    assert view["state"] == "held" and "duplicate_invoice" in codes(view)
    [dup] = [r for r in view["decision"]["reasons"] if r["code"] == "duplicate_invoice"]
    assert first in dup["figures"].values() or "COS-10001" in dup["message"]
    assert billed(app, po["number"]) == {1: Decimal(10)}


def test_a_changed_bank_account_is_held_even_when_everything_else_matches(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")

    invoice_id = send_invoice(app, po, "COS-10002", account="GB33BUKB20201555555555")

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and codes(view) == {"bank_details_changed"}
    assert billed(app, po["number"]) == {1: Decimal(0)}
