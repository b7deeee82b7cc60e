"""The council's auditors must be able to trust the trail: every change of state of a requisition,
an approval task or a purchase order leaves one audit_event row saying what it was before and what
it became, who did it and when. Nobody, not even someone with a database login, can rewrite or
delete those rows: the database itself refuses UPDATE and DELETE on audit_event. This holds on
SQLite (the embedded default) and on PostgreSQL (production) alike."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from procure.domain.approval import Decision
from procure.services import approvals, orders, queries, requisitions
from procure.store import tables as t
from tests.conftest import draft, line


@pytest.fixture
def council(make_app: Any, database_url: str) -> Any:
    """The app on SQLite and on PostgreSQL, with one paper order approved and part received."""
    app = make_app(database_url)
    req = requisitions.submit(
        app.ctx, draft("s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    )
    app.drain(fail_fast=True)
    [task] = queries.inbox(app.ctx, "e.walsh")
    approvals.decide(app.ctx, task["task_id"], by="e.walsh", decision=Decision.APPROVE)
    app.drain(fail_fast=True)
    po = queries.requisition_status(app.ctx, req.number)["purchase_order"]["number"]
    orders.record_receipt(app.ctx, po, [(1, "4")], by="s.jones")
    app.extras["requisition"] = req
    app.extras["order"] = po
    return app


def trail(app: Any) -> list[t.AuditEventRow]:
    with app.db.reading() as s:
        return list(s.scalars(select(t.AuditEventRow).order_by(t.AuditEventRow.id)))  # type: ignore[arg-type]


def test_every_state_change_leaves_an_audit_row_with_before_and_after(council):
    req = council.extras["requisition"]
    events = [e for e in trail(council) if e.entity_type != "reference"]

    changes = [(e.event_name, e.before, e.after) for e in events]
    by_name = {name: (before, after) for name, before, after in changes}
    assert list(by_name) == [
        "RequisitionSubmitted",
        "RequisitionRouted",
        "ApprovalTaskCreated",
        "ApprovalTaskDecided",
        "RequisitionApproved",
        "PurchaseOrderIssued",
        "RequisitionOrdered",
        "GoodsReceived",
    ]
    for name, (before, after) in by_name.items():
        assert after is not None, name
        assert before != after, name

    def moved(name: str, key: str) -> tuple[Any, Any]:
        before, after = by_name[name]
        return (before or {}).get(key), after[key]

    assert moved("RequisitionSubmitted", "approval_state") == (None, "submitted")
    assert moved("RequisitionRouted", "approval_state") == ("submitted", "pending_approval")
    assert moved("ApprovalTaskCreated", "state") == (None, "open")
    assert moved("ApprovalTaskDecided", "state") == ("open", "approved")
    assert moved("RequisitionApproved", "approval_state") == ("pending_approval", "approved")
    assert moved("PurchaseOrderIssued", "status") == (None, "issued")
    assert moved("RequisitionOrdered", "order_state") == ("not_ordered", "ordered")
    assert moved("GoodsReceived", "receipt_state") == ("not_received", "partially_received")

    # Each row says when and who, and the trail ends where the documents are now.
    assert all(e.occurred_at is not None for e in events)
    actors = {e.event_name: e.actor_id for e in events}
    assert actors["RequisitionSubmitted"] == "s.jones"
    assert actors["ApprovalTaskDecided"] == "e.walsh"
    assert actors["GoodsReceived"] == "s.jones"
    status = queries.requisition_status(council.ctx, req.number)
    last = [e.after for e in events if e.entity_id == req.id][-1]
    assert (last["approval_state"], last["order_state"]) == (
        status["approval_state"],
        status["order_state"],
    )


def test_the_database_refuses_to_update_an_audit_row(council):
    before = [(e.id, e.event_name, e.before, e.after) for e in trail(council)]

    with pytest.raises(DBAPIError) as refused, council.db.engine.begin() as c:
        c.execute(text("UPDATE audit_event SET actor_id = 'someone.else'"))
    assert "append-only" in str(refused.value)

    with pytest.raises(DBAPIError), council.db.transaction() as s:
        s.execute(
            update(t.AuditEventRow)
            .where(t.AuditEventRow.event_name == "ApprovalTaskDecided")  # type: ignore[arg-type]
            .values(after={"state": "rejected"})
        )

    assert [(e.id, e.event_name, e.before, e.after) for e in trail(council)] == before


def test_the_database_refuses_to_delete_an_audit_row(council):
    before = [e.id for e in trail(council)]

    with pytest.raises(DBAPIError) as refused, council.db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_event WHERE event_name = 'RequisitionApproved'"))
    assert "append-only" in str(refused.value)

    with pytest.raises(DBAPIError), council.db.transaction() as s:
        s.execute(delete(t.AuditEventRow))

    assert [e.id for e in trail(council)] == before


def test_new_events_are_still_appended_after_a_refused_change(council):
    with pytest.raises(DBAPIError), council.db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_event"))
    count = len(trail(council))

    po = council.extras["order"]
    orders.record_receipt(council.ctx, po, [(1, "6")], by="s.jones")

    events = trail(council)
    assert len(events) == count + 1
    assert events[-1].event_name == "GoodsReceived"
    assert events[-1].after is not None
    assert events[-1].after["receipt_state"] == "fully_received"


def test_the_database_refuses_to_truncate_the_audit_trail(council):
    if council.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE is refused above")
    count = len(trail(council))
    with council.db.engine.connect() as c:
        attempt = c.begin()
        try:
            c.execute(text("TRUNCATE audit_event"))
            refused = False
        except DBAPIError:
            refused = True
        finally:
            attempt.rollback()  # never let the truncation itself stand
    assert len(trail(council)) == count
    assert refused
