"""A process stops after intake committed an invoice but before the match message went out:
the invoice is accepted and unmatched in the database, and recovery sends it again; likewise a
goods receipt for an invoice waiting for it."""

from __future__ import annotations

from typing import Any

from entrypoints.demo_invoices import invoice_for_order
from procure.domain.invoice_match import Resolution
from procure.einvoice.ubl_writer import render_ubl
from procure.ports import NullDispatcher
from procure.services import intake, matching, matching_views, orders
from procure.services.admin import reference_data
from procure.services.recovery import pending_work
from tests.conftest import line
from tests.scenarios.invoicing import matching_of, ordered


def test_an_accepted_invoice_whose_message_was_lost_is_matched_by_recovery(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="2", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "2")], by="s.jones")
    doc = invoice_for_order(
        po, reference_data(app.ctx), number="COS-12001", issued=app.ctx.clock().date()
    )
    dispatch, app.ctx.dispatch = app.ctx.dispatch, NullDispatcher()  # the message is lost
    result = intake.ingest(app.ctx, render_ubl(doc), filename="COS-12001.xml")
    app.ctx.dispatch = dispatch
    assert matching_of(app, result.id)["state"] == "unmatched"
    assert pending_work(app.ctx).to_match == [result.id]

    app.recover()
    app.drain(fail_fast=True)

    assert matching_of(app, result.id)["state"] == "matched"
    assert pending_work(app.ctx).to_match == []


def waiting_for_goods(app: Any, clock: Any, number: str) -> tuple[dict[str, Any], str]:
    """An order for two boxes invoiced in full before any arrive: finance parks the invoice to
    wait for the goods, and 20 hours pass. The order and the invoice's id."""
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="2", unit_price="21.50"))
    doc = invoice_for_order(
        po, reference_data(app.ctx), number=number, issued=app.ctx.clock().date()
    )
    invoice_id = intake.ingest(app.ctx, render_ubl(doc), filename=f"{number}.xml").id
    app.drain(fail_fast=True)
    [task] = matching_views.exception_queue(app.ctx)
    matching.resolve_exception(
        app.ctx, task["id"], by="n.shah", resolution=Resolution.WAIT, reason="due tomorrow"
    )
    clock.advance(hours=20)
    return po, invoice_id


def test_a_waiting_invoice_whose_receipt_message_was_lost_is_matched_by_recovery(app, clock):
    po, invoice_id = waiting_for_goods(app, clock, "COS-12002")
    dispatch, app.ctx.dispatch = app.ctx.dispatch, NullDispatcher()  # GoodsReceived is lost
    orders.record_receipt(app.ctx, po["number"], [(1, "2")], by="s.jones")
    app.ctx.dispatch = dispatch
    assert matching_of(app, invoice_id)["state"] == "waiting"
    assert pending_work(app.ctx).to_rematch == [po["id"]]

    app.recover()
    app.drain(fail_fast=True)

    assert matching_of(app, invoice_id)["state"] == "matched"
    assert pending_work(app.ctx).to_rematch == []


def test_a_receipt_whose_re_match_message_is_on_its_way_is_left_to_it_by_the_sweep(app, clock):
    po, invoice_id = waiting_for_goods(app, clock, "COS-12003")
    held: list[Any] = []  # the receipt's own message, on its way (not yet delivered)
    dispatch, app.ctx.dispatch = app.ctx.dispatch, held.extend
    orders.record_receipt(app.ctx, po["number"], [(1, "2")], by="s.jones")
    app.ctx.dispatch = dispatch

    # The periodic sweep (work quiet for 30 s) does not send the re-match again at once...
    assert pending_work(app.ctx, quiet_for_seconds=30).to_rematch == []
    # ...only if the receipt's own message has not done it 30 s on.
    clock.advance(seconds=31)
    assert pending_work(app.ctx, quiet_for_seconds=30).to_rematch == [po["id"]]

    dispatch(held)
    app.drain(fail_fast=True)
    assert matching_of(app, invoice_id)["state"] == "matched"
    assert pending_work(app.ctx, quiet_for_seconds=30).to_rematch == []
