"""Finance refuses the posting of a matched invoice (InvoicePostingRejected): its match ledger
rows are reversed (never deleted) and it goes back to the exception queue as finance_rejected;
released again, it is matched afresh and posting is told again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import DBAPIError

from procure.domain import events as ev
from procure.domain.events import Event
from procure.domain.invoice_match import Resolution
from procure.services import matching, matching_views, orders
from procure.store import tables as t
from tests.conftest import line
from tests.scenarios.invoicing import billed, events_of, matching_of, ordered, send_invoice


@pytest.fixture
def app(make_app, database_url):
    """These scenarios run on both SQLite and PostgreSQL."""
    return make_app(database_url)


def test_a_posting_refused_by_finance_is_reversed_and_queued_then_released(app):
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "10")], by="s.jones")
    invoice_id = send_invoice(app, po, "COS-11001")
    assert billed(app, po["number"]) == {1: Decimal(10)}

    with app.ctx.unit() as u:  # what the posting side records when the finance system refuses
        u.record(
            Event(
                name=ev.INVOICE_POSTING_REJECTED,
                entity_type="invoice",
                entity_id=invoice_id,
                occurred_at=app.ctx.clock(),
                data={"reason": "supplier V10041 is blocked in the ledger"},
            )
        )

    view = matching_of(app, invoice_id)
    assert view["state"] == "held" and view["reason_codes"] == ["finance_rejected"]
    assert [Decimal(r["quantity"]) for r in view["ledger"]] == [Decimal(10), Decimal(-10)]
    assert view["ledger"][1]["reverses"] == view["ledger"][0]["id"]
    assert billed(app, po["number"]) == {1: Decimal(0)}
    [task] = matching_views.exception_queue(app.ctx)
    assert task["reasons"] == ["finance_rejected"] and "blocked" in task["summary"]
    with pytest.raises(DBAPIError, match="append-only"), app.db.transaction() as s:
        s.execute(delete(t.MatchLedgerRow))  # the ledger is corrected by reversals, never edited

    matching.resolve_exception(
        app.ctx, task["id"], by="n.shah", resolution=Resolution.RELEASE, reason="unblocked"
    )

    assert matching_of(app, invoice_id)["state"] == "matched"
    assert billed(app, po["number"]) == {1: Decimal(10)}
    assert events_of(app, invoice_id).count(ev.INVOICE_MATCHED) == 2
