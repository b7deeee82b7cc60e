"""A price beyond tolerance is held. Finance may release it with a reason; when the variance is
beyond the policy's re-approval threshold (10% or £500) it goes back, as an approval task, to
the person who approved the purchase order, and only their approval releases the invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from procure.domain import events as ev
from procure.domain.approval import Decision
from procure.domain.invoice_match import Resolution
from procure.errors import NotAllowed
from procure.services import approvals, matching, matching_views, orders, queries
from tests.conftest import line
from tests.scenarios.invoicing import billed, codes, events_of, matching_of, ordered, send_invoice


def _held_at(app, price: str, number: str):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")
    invoice_id = send_invoice(app, po, number, prices={1: Decimal(price)})
    [task] = matching_views.exception_queue(app.ctx)
    return po, invoice_id, task


def test_a_large_price_rise_released_by_finance_needs_the_po_approver(app):
    po, invoice_id, task = _held_at(app, "24.00", "COS-5001")  # +11.6%
    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and "price_over_tolerance" in codes(view)

    result = matching.resolve_exception(
        app.ctx, task["id"], by="n.shah", resolution=Resolution.RELEASE, reason="new price list"
    )

    assert result.state == "awaiting_reapproval"
    assert billed(app, po["number"]) == {1: Decimal(0)}
    [approval] = [x for x in queries.inbox(app.ctx, "e.walsh") if x["role"] == "invoice_variance"]
    assert "COS-5001" in approval["reason"] and "new price list" in approval["reason"]

    approvals.decide(app.ctx, approval["task_id"], by="e.walsh", decision=Decision.APPROVE)
    app.drain(fail_fast=True)

    view = matching_of(app, invoice_id)
    assert view["state"] == "matched" and view["how"] == "released"
    assert billed(app, po["number"]) == {1: Decimal(10)}
    timeline = events_of(app, invoice_id)
    assert ev.INVOICE_SENT_FOR_REAPPROVAL in timeline and timeline[-3:] == [
        ev.INVOICE_MATCHED,
        ev.INVOICE_POSTING_QUEUED,
        ev.INVOICE_POSTED,
    ]
    [done] = matching_views.exception_queue(app.ctx, state=None)
    assert done["resolution"] == "reapproval" and done["resolved_by"] == "n.shah"


def test_a_small_variance_beyond_tolerance_is_released_by_finance_alone(app):
    po, invoice_id, task = _held_at(app, "22.50", "COS-5002")  # +4.7%: held, below 10% and £500

    result = matching.resolve_exception(
        app.ctx, task["id"], by="n.shah", resolution=Resolution.RELEASE, reason="agreed by phone"
    )

    assert result.state == "matched"
    assert matching_of(app, invoice_id)["how"] == "released"
    assert billed(app, po["number"]) == {1: Decimal(10)}


def test_the_po_approver_refusing_the_variance_puts_it_back_and_finance_rejects_it(app):
    _, invoice_id, task = _held_at(app, "24.00", "COS-5003")
    matching.resolve_exception(
        app.ctx, task["id"], by="n.shah", resolution=Resolution.RELEASE, reason="new price list"
    )
    [approval] = [x for x in queries.inbox(app.ctx, "e.walsh") if x["role"] == "invoice_variance"]

    approvals.decide(
        app.ctx, approval["task_id"], by="e.walsh", decision=Decision.REJECT, comment="not agreed"
    )

    [again] = matching_views.exception_queue(app.ctx)
    assert again["reasons"] == ["variance_not_approved"] and "not agreed" in again["summary"]
    matching.resolve_exception(
        app.ctx, again["id"], by="n.shah", resolution=Resolution.REJECT, reason="price not agreed"
    )
    assert matching_of(app, invoice_id)["state"] == "rejected"
    assert events_of(app, invoice_id)[-1] == ev.INVOICE_REJECTED


def test_only_finance_resolves_and_always_with_a_reason(app):
    _, _, task = _held_at(app, "24.00", "COS-5004")

    with pytest.raises(NotAllowed):
        matching.resolve_exception(
            app.ctx, task["id"], by="s.jones", resolution=Resolution.RELEASE, reason="please"
        )
    with pytest.raises(Exception, match="reason"):
        matching.resolve_exception(
            app.ctx, task["id"], by="n.shah", resolution=Resolution.REJECT, reason=" "
        )
    assert matching_views.exception_queue(app.ctx)[0]["state"] == "open"
