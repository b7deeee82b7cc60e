"""Six of ten boxes arrive; the supplier invoices all ten. Matching holds the invoice with the
figures (ordered, received, invoiced); finance chooses to wait for the goods, and when the rest
arrive the invoice is matched again, automatically."""

from __future__ import annotations

from decimal import Decimal

import pytest

from procure.domain import events as ev
from procure.domain.invoice_match import Resolution
from procure.services import matching, matching_views, orders
from tests.conftest import line
from tests.scenarios.invoicing import billed, codes, events_of, matching_of, ordered, send_invoice


@pytest.fixture
def app(make_app, database_url):
    """These scenarios run on both SQLite and PostgreSQL."""
    return make_app(database_url)


def test_full_invoice_after_a_partial_delivery_is_held_then_matched_when_the_rest_arrives(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "6")], by="s.jones")
    app.drain(fail_fast=True)

    invoice_id = send_invoice(app, po, "COS-2001")

    view = matching_of(app, invoice_id)
    assert view["state"] == "held"
    assert codes(view) == {"quantity_over_received"}
    [reason] = view["decision"]["reasons"]
    assert Decimal(reason["figures"]["ordered"]) == 10
    assert Decimal(reason["figures"]["received"]) == 6
    assert Decimal(reason["figures"]["invoiced"]) == 10
    assert view["ledger"] == [] and billed(app, po["number"]) == {1: Decimal(0)}
    [task] = matching_views.exception_queue(app.ctx)
    assert task["invoice_id"] == invoice_id and task["reasons"] == ["quantity_over_received"]
    assert task["role"] == "finance" and task["invoice_number"] == "COS-2001"

    matching.resolve_exception(
        app.ctx, task["id"], by="n.shah", resolution=Resolution.WAIT, reason="rest is due Friday"
    )
    assert matching_of(app, invoice_id)["state"] == "waiting"
    assert matching_views.exception_queue(app.ctx) == []

    orders.record_receipt(app.ctx, po["number"], [(1, "4")], by="s.jones")
    app.drain(fail_fast=True)  # GoodsReceived → the waiting invoice is matched again

    view = matching_of(app, invoice_id)
    assert view["state"] == "matched" and view["how"] == "automatic"
    assert [h["trigger"] for h in view["history"]] == ["accepted", "receipt"]
    assert billed(app, po["number"]) == {1: Decimal(10)}
    timeline = events_of(app, invoice_id)
    assert timeline.index(ev.INVOICE_HELD) < timeline.index(ev.INVOICE_WAITING_FOR_RECEIPT)
    assert timeline[-3:] == [ev.INVOICE_MATCHED, ev.INVOICE_POSTING_QUEUED, ev.INVOICE_POSTED]


def test_invoice_for_goods_not_delivered_at_all_is_held_as_not_yet_received(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))

    invoice_id = send_invoice(app, po, "COS-2002")

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and codes(view) == {"not_yet_received"}


def test_a_waiting_invoice_still_short_of_goods_keeps_waiting(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    invoice_id = send_invoice(app, po, "COS-2003")
    [task] = matching_views.exception_queue(app.ctx)
    matching.resolve_exception(
        app.ctx, task["id"], by="n.shah", resolution=Resolution.WAIT, reason="due next week"
    )

    orders.record_receipt(app.ctx, po["number"], [(1, "3")], by="s.jones")
    app.drain(fail_fast=True)

    view = matching_of(app, invoice_id)
    assert view["state"] == "waiting" and codes(view) == {"quantity_over_received"}
    assert matching_views.exception_queue(app.ctx) == []
