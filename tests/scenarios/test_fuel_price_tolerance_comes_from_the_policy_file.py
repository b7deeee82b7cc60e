"""The council's tolerances are the [matching] table of its policy file, not numbers in code.

Fuel (category FLEET) has its own, wider price band in the packaged policy.toml: diesel billed
4% above the order is matched without a person, although 4% on stationery (the global 2% row)
would be held. When the council tightens the FLEET row in its own copy of the file, the same
invoice is held for the price, naming the row the file gives."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path

from procure.services import orders
from tests.conftest import line
from tests.scenarios.invoicing import codes, matching_of, ordered, send_invoice

PACKAGED = resources.files("procure.reference").joinpath("policy.toml").read_text("utf-8")
FLEET_PRICE_ROW = (
    'scope = "category"\nscope_key = "FLEET"\ncheck = "unit_price"\nupper_percent = "5"\n'
)


def _diesel_billed_four_percent_over(app) -> dict:
    po = ordered(
        app, "j.baker", "CC-FLT", "SUP-0008",
        line("Diesel, bulk delivery", "400", "1.45", unit_code="LTR", gl_code="4700",
             category="FLEET"),
    )  # fmt: skip
    orders.record_receipt(app.ctx, po["number"], [(1, "400")], by="j.baker")
    invoice_id = send_invoice(app, po, "MF-30001", prices={1: Decimal("1.508")})  # +4%
    return matching_of(app, invoice_id)


def test_diesel_four_percent_over_is_within_the_packaged_fuel_band(app):
    view = _diesel_billed_four_percent_over(app)

    assert view["state"] == "matched"
    assert view["decision"]["outcome"] == "matched_within_tolerance"
    [price] = [r for r in view["decision"]["reasons"] if r["code"] == "price_variance"]
    assert price["figures"]["tolerance"].startswith("within category FLEET unit_price: above +5%")


def test_stationery_four_percent_over_is_held_by_the_global_row(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="20.00"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")

    view = matching_of(app, send_invoice(app, po, "COS-30001", prices={1: Decimal("20.80")}))

    assert view["state"] == "held" and "price_over_tolerance" in codes(view)


def test_a_tighter_fuel_row_in_the_councils_own_file_holds_the_same_invoice(
    make_app, sqlite_url, tmp_path: Path
):
    assert PACKAGED.count(FLEET_PRICE_ROW) == 1
    own = tmp_path / "policy.toml"
    own.write_text(PACKAGED.replace(FLEET_PRICE_ROW, FLEET_PRICE_ROW.replace('"5"', '"3"')))
    app = make_app(sqlite_url, policy_file=own)

    view = _diesel_billed_four_percent_over(app)

    assert view["state"] == "held" and "price_over_tolerance" in codes(view)
    [price] = [r for r in view["decision"]["reasons"] if r["code"] == "price_over_tolerance"]
    assert price["figures"]["tolerance"] == "category FLEET unit_price: above +3% -> hold"
