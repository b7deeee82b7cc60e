"""The outbox relay: two relays never publish the same row (SKIP LOCKED on PostgreSQL), a row
committed late is still found, failures back off, unacknowledged rows are sent again, and
acknowledged rows are cleaned up after the retention period."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from benchmarks.matching_standin import (
    ingest_invoices_for,
    record_matched_standin,
    stationery_order,
)
from procure.ports import OutboundMessage
from procure.services.outbox import clean_up, outbox_counts, relay_once, sweep_unacknowledged
from procure.store import tables as t
from tests.conftest import reset_postgres


class Recording:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def publish(self, messages: Sequence[OutboundMessage]) -> list[str | None]:
        if self.fail:
            return ["RabbitMQ is down"] * len(messages)
        self.sent.extend(m.idempotency_key for m in messages)
        return [None] * len(messages)


@pytest.fixture
def queued(make_app: Any, database_url: str) -> Any:
    app = make_app(database_url)
    po = stationery_order(app)
    ids = ingest_invoices_for(app, po, 6)
    record_matched_standin(app.ctx, ids)
    return app


def test_a_failed_publish_backs_off_and_is_tried_again_later(queued: Any) -> None:
    app = queued
    assert relay_once(app.ctx, Recording(fail=True)).failed == 6
    ok = Recording()
    assert relay_once(app.ctx, ok).claimed == 0  # backing off: not due yet
    app.ctx.clock.advance(seconds=1.5)
    assert relay_once(app.ctx, ok).published == 6
    with app.db.reading() as s:
        assert {r.attempts for r in s.scalars(select(t.OutboxRow))} == {2}


def test_unacknowledged_postings_are_sent_again_and_settled_rows_cleaned_up(queued: Any) -> None:
    app = queued
    first = Recording()
    relay_once(app.ctx, first)
    app.ctx.clock.advance(minutes=4)
    assert sweep_unacknowledged(app.ctx, older_than=timedelta(minutes=5)) == 0
    app.ctx.clock.advance(minutes=2)
    assert sweep_unacknowledged(app.ctx, older_than=timedelta(minutes=5)) == 6
    again = Recording()
    assert relay_once(app.ctx, again).published == 6
    assert again.sent == first.sent  # the same idempotency keys: finance's inbox dedupes

    with app.db.transaction() as s:
        s.execute(update(t.OutboxRow).values(acknowledged_at=app.ctx.clock()))
    app.ctx.clock.advance(days=6)
    assert clean_up(app.ctx, retention=timedelta(days=7)) == 0
    app.ctx.clock.advance(days=2)
    assert clean_up(app.ctx, retention=timedelta(days=7)) == 6
    assert outbox_counts(app.ctx) == {"due": 0, "unacknowledged": 0, "acknowledged": 0}


@pytest.mark.postgres
def test_two_relays_never_claim_the_same_rows(make_app: Any, postgres_url: str) -> None:
    reset_postgres(postgres_url)
    app = make_app(postgres_url)
    po = stationery_order(app)
    record_matched_standin(app.ctx, ingest_invoices_for(app, po, 10))
    holding, release = threading.Event(), threading.Event()
    first_sent: list[str] = []

    class Slow(Recording):
        def publish(self, messages: Sequence[OutboundMessage]) -> list[str | None]:
            first_sent.extend(m.idempotency_key for m in messages)
            holding.set()
            release.wait(10)  # still inside the first relay's claim transaction
            return [None] * len(messages)

    worker = threading.Thread(target=relay_once, args=(app.ctx, Slow()), kwargs={"batch": 4})
    worker.start()
    assert holding.wait(10)
    second = Recording()
    relay_once(app.ctx, second, batch=100)  # skips the 4 rows locked by the first relay
    release.set()
    worker.join(10)
    assert len(first_sent) == 4 and len(second.sent) == 6
    assert not set(first_sent) & set(second.sent)


def test_a_row_committed_late_with_a_lower_id_is_still_published(queued: Any) -> None:
    """No "id > last seen": a slower transaction's row (lower id, committed later) is found."""
    app = queued
    assert relay_once(app.ctx, Recording()).published == 6
    with app.db.transaction() as s:
        row = s.scalars(select(t.OutboxRow).order_by(t.OutboxRow.id)).first()
        assert row is not None
        late = {c: getattr(row, c) for c in ("message_type", "routing_key", "payload")}
        s.add(
            t.OutboxRow(
                id=0,
                message_id="late-1",
                idempotency_key="ap.post:late:1",
                created_at=app.ctx.clock(),
                next_attempt_at=app.ctx.clock(),
                **late,
            )
        )
    later = Recording()
    assert relay_once(app.ctx, later).published == 1
    assert later.sent == ["ap.post:late:1"]
