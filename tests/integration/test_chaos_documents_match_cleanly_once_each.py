"""``procure chaos`` drives its documents through the real matching: its book of orders and the
suppliers' invoices and credit notes must all match cleanly (anything held would never reach
finance and read as lost), and its double-matching count must see what it counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from connectors.finance.ledger import trial_balance
from entrypoints.chaos import DOUBLE_MATCHED
from entrypoints.chaos_feed import documents_plan, prepare_documents
from procure.services import matching
from procure.services.intake import Received, ingest_many
from tests.conftest import reset_postgres


def test_every_credit_note_credits_an_earlier_invoice_and_numbers_are_unique() -> None:
    orders, plan = documents_plan(30, 7)
    numbers = [number for _, number, _ in plan]
    assert len(plan) == 30 and len(set(numbers)) == 30
    credits = [(k, credited) for k, (_, _, credited) in enumerate(plan) if credited is not None]
    assert [k for k, _ in credits] == [6, 13, 20, 27]
    invoiced_before = {order for order, _, credited in plan[:6] if credited is None}
    assert credits[0][1] in invoiced_before
    assert orders == 26


def _take_in(app: Any, folder: Path, docs: list[Any]) -> list[str]:
    received = [Received((folder / d.file).read_bytes(), d.file, "test") for d in docs]
    results = ingest_many(app.ctx, received)
    assert [r.status for r in results] == ["accepted"] * len(docs)
    app.drain()  # the match_invoice actor, then the posting drained in-process
    return [r.id for r in results]


def test_the_chaos_book_matches_cleanly_and_posts_each_document_once(
    make_app: Any, postgres_url: str, tmp_path: Path
) -> None:
    reset_postgres(postgres_url)
    app = make_app(postgres_url)
    docs = prepare_documents(app, 16, 4, tmp_path)
    invoices = [d for d in docs if d.credits is None]
    credit_notes = [d for d in docs if d.credits is not None]
    assert len(credit_notes) == 4

    ids = _take_in(app, tmp_path, invoices) + _take_in(app, tmp_path, credit_notes)

    with app.db.reading() as s:
        states = dict(
            s.execute(text("SELECT state, count(*) FROM invoice_match GROUP BY state")).all()
        )
        posted = s.scalar(text("SELECT count(*) FROM posting WHERE state = 'posted'"))
        assert s.scalar(text(DOUBLE_MATCHED)) == 0
    assert states == {"matched": 16}
    assert posted == 16
    assert trial_balance(app.in_process_finance().receiver.store).balanced

    again = matching.match_invoice(app.ctx, ids[0])  # a redelivered message: nothing new
    assert again.state == "matched" and again.version == 1
    with app.db.reading() as s:
        assert s.scalar(text(DOUBLE_MATCHED)) == 0
        twice = text(
            "INSERT INTO audit_event (occurred_at, entity_type, entity_id, event_name) "
            "VALUES (now(), 'invoice', :id, 'InvoiceMatched')"
        )
    with app.db.transaction() as s:  # what a second match would leave behind is counted
        s.execute(twice, {"id": ids[1]})
    with app.db.reading() as s:
        assert s.scalar(text(DOUBLE_MATCHED)) == 1
