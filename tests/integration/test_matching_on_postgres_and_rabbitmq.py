"""Matching through the dramatiq workers on RabbitMQ, stored in PostgreSQL: an invoice held for
goods not yet delivered is matched when the receipt arrives, and two invoices matched at the same
time never bill more than was received (the purchase order is locked)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from entrypoints.demo_invoices import invoice_for_order
from procure.domain.approval import Decision
from procure.domain.invoice_match import Resolution
from procure.einvoice.ubl_writer import render_ubl
from procure.services import (
    approvals,
    intake,
    matching,
    matching_views,
    orders,
    queries,
    requisitions,
)
from procure.services.admin import reference_data
from tests.conftest import draft, line, reset_postgres
from tests.integration.test_workers_on_postgres_and_rabbitmq import wait_until


@pytest.fixture
def rabbit_app(make_app: Any, postgres_url: str, rabbitmq_url: str) -> Any:
    reset_postgres(postgres_url)
    app = make_app(postgres_url, rabbitmq_url)
    app.broker.declare_queue("procure")
    app.broker.flush_all()
    app.start_worker(2)
    return app


def _ordered_by_workers(app: Any, quantity: str) -> dict[str, Any]:
    req = requisitions.submit(
        app.ctx, draft("s.jones", "CC-FAC", "SUP-0002", line(quantity=quantity, unit_price="21.50"))
    )
    wait_until(lambda: bool(queries.inbox(app.ctx, "e.walsh")), what="the approval task")
    [task] = queries.inbox(app.ctx, "e.walsh")
    approvals.decide(app.ctx, task["task_id"], by="e.walsh", decision=Decision.APPROVE)

    def po() -> dict[str, Any] | None:
        return queries.requisition_status(app.ctx, req.number)["purchase_order"]

    wait_until(lambda: po() is not None, what="the purchase order")
    found = po()
    assert found is not None
    return queries.order_view(app.ctx, found["number"])


def _send(app: Any, order: dict[str, Any], number: str, quantity: str) -> str:
    doc = invoice_for_order(
        order,
        reference_data(app.ctx),
        number=number,
        issued=app.ctx.clock().date(),
        lines=[(1, Decimal(quantity))],
    )
    result = intake.ingest(app.ctx, render_ubl(doc), filename=f"{number}.xml")
    assert result.status == "accepted"
    return result.id


def _state(app: Any, invoice_id: str) -> str:
    return str(matching_views.match_view(app.ctx, invoice_id)["state"])


def test_an_invoice_waiting_for_its_goods_is_matched_by_the_workers_when_they_arrive(rabbit_app):
    app = rabbit_app
    po = _ordered_by_workers(app, "10")
    orders.record_receipt(app.ctx, po["number"], [(1, "6")], by="s.jones")

    invoice_id = _send(app, po, "COS-R1", "10")

    wait_until(lambda: _state(app, invoice_id) == "held", what="the invoice held by the worker")
    [task] = matching_views.exception_queue(app.ctx)
    assert task["reasons"] == ["quantity_over_received"]
    matching.resolve_exception(
        app.ctx, task["id"], by="n.shah", resolution=Resolution.WAIT, reason="rest due"
    )
    orders.record_receipt(app.ctx, po["number"], [(1, "4")], by="s.jones")

    wait_until(lambda: _state(app, invoice_id) == "matched", what="re-matching on the receipt")
    positions = matching_views.order_positions(app.ctx, po["number"])
    assert Decimal(positions[0]["billed"]) == 10


def test_two_invoices_matched_at_once_never_bill_more_than_was_received(rabbit_app):
    app = rabbit_app
    po = _ordered_by_workers(app, "10")
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")

    first, second = _send(app, po, "COS-R2", "6"), _send(app, po, "COS-R3", "5")

    wait_until(
        lambda: {_state(app, first), _state(app, second)} == {"matched", "held"},
        what="both invoices decided",
    )
    positions = matching_views.order_positions(app.ctx, po["number"])
    assert Decimal(positions[0]["billed"]) in (Decimal(6), Decimal(5))
