"""Goods or services is said on the requisition line, carried onto the purchase order line, and
matching follows it: a service is matched 2-way (billed up to what was ordered, no goods receipt),
goods 3-way (billed up to what was received). A line that does not say is inferred from its unit,
as before: days, hours, months ... are services; everything else goods.

Both orders below are in days. The consultancy (a service) is billed before anyone records a
receipt and is matched; the scaffold tower hired by the day is marked goods (it is delivered and
must be there before the council pays), so its invoice waits for a goods receipt."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from entrypoints import render
from procure.contracts import parse_requisition
from procure.services import queries
from tests.scenarios.invoicing import billed, codes, matching_of, ordered, send_invoice


def _requisition(
    description: str, quantity: str, price: str, unit: str = "DAY", **goods_or_services: Any
):
    doc = parse_requisition(
        {
            "cost_centre": "CC-FAC",
            "supplier": "SUP-0004",
            "need_by": "2027-01-29",
            "justification": "Depot refurbishment",
            "lines": [
                {
                    "description": description, "quantity": quantity, "unit_code": unit,
                    "unit_price": price, "vat_code": "S", "gl_code": "4410",
                    "category": "PROFESSIONAL", **goods_or_services,
                }
            ],
        }
    )  # fmt: skip
    return doc.to_draft("s.jones").lines


def test_consultancy_days_billed_without_a_receipt_are_matched_two_way(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0004",
                 *_requisition("Space planning consultancy", "3", "400.00"))  # fmt: skip
    assert po["lines"][0]["receipt_required"] is False  # inferred from DAY, as before

    view = matching_of(app, send_invoice(app, po, "HF-9001"))

    assert view["state"] == "matched" and view["decision"]["outcome"] == "matched"
    assert billed(app, po["number"]) == {1: Decimal(3)}
    assert "services, 2-way" in render.order(queries.order_view(app.ctx, po["number"]))


def test_a_service_said_so_in_a_goods_unit_is_matched_two_way(app):
    lines = _requisition("Asbestos survey report", "1", "950.00", "C62", receipt_required=False)
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0004", *lines)
    assert po["lines"][0]["receipt_required"] is False

    view = matching_of(app, send_invoice(app, po, "HF-9002"))

    assert view["state"] == "matched"


def test_equipment_hired_by_the_day_marked_goods_waits_for_its_receipt(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0004",
                 *_requisition("Scaffold tower hire", "5", "120.00", receipt_required=True))  # fmt: skip
    assert po["lines"][0]["receipt_required"] is True
    assert "goods, 3-way" in render.order(queries.order_view(app.ctx, po["number"]))

    view = matching_of(app, send_invoice(app, po, "HF-9003"))

    assert view["state"] == "held" and codes(view) == {"not_yet_received"}
    assert billed(app, po["number"]) == {1: Decimal(0)}
