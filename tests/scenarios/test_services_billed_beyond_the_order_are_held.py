"""Consultancy is ordered by the day: a service, matched 2-way (no goods receipt). Days billed up
to the order are matched; days beyond it are held as quantity over ordered."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import line
from tests.scenarios.invoicing import billed, codes, matching_of, ordered, send_invoice


def _consultancy(app):
    return ordered(
        app,
        "s.jones",
        "CC-FAC",
        "SUP-0004",
        line(
            "Space planning consultancy", "2", "400.00", unit_code="DAY", gl_code="4410",
            category="PROFESSIONAL",
        ),
    )  # fmt: skip


def test_days_of_consultancy_billed_as_ordered_are_matched_without_a_receipt(app):
    po = _consultancy(app)

    invoice_id = send_invoice(app, po, "HF-8001")

    assert matching_of(app, invoice_id)["state"] == "matched"
    assert billed(app, po["number"]) == {1: Decimal(2)}


def test_more_days_than_ordered_are_held_as_quantity_over_ordered(app):
    po = _consultancy(app)
    send_invoice(app, po, "HF-8002", [(1, "1.5")])

    invoice_id = send_invoice(app, po, "HF-8003", [(1, "1")])

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and codes(view) == {"quantity_over_ordered"}
    [reason] = view["decision"]["reasons"]
    assert Decimal(reason["figures"]["billed_before"]) == Decimal("1.5")
    assert billed(app, po["number"]) == {1: Decimal("1.5")}
