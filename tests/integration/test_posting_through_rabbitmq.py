"""Posting through the real RabbitMQ and PostgreSQL: relay with confirms, receiver with manual
acks, acknowledgements back; poison messages end in the dead-letter queue, not in a loop, and
``replay`` puts them back."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pika
import pytest
from sqlalchemy import Connection

from benchmarks.matching_standin import (
    ingest_invoices_for,
    record_matched_standin,
    stationery_order,
)
from connectors.finance import topology
from connectors.finance.confirms import AsyncConfirmPublisher
from connectors.finance.consumer import ReceiveStats, run_receiver
from connectors.finance.ledger import ReferenceLedger, trial_balance
from connectors.finance.receiver import Receiver
from connectors.finance.replay import queue_depths, replay
from connectors.finance.store import FinanceStore
from procure.messages import PostingMessage
from procure.services.posting import posting_counts
from tests.conftest import reset_postgres
from workers.ack_consumer import run_ack_consumer
from workers.relay import PikaPublisher, run_relay_loop

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


def fresh_topology(url: str) -> None:
    connection = topology.connect(url)
    channel = connection.channel()
    for q in (topology.POSTINGS, topology.POSTINGS_DLQ, topology.ACKS, topology.ACKS_DLQ):
        channel.queue_delete(q)
    topology.declare(channel)
    connection.close()


@pytest.fixture
def pg(postgres_url: str, rabbitmq_url: str) -> str:
    reset_postgres(postgres_url)
    fresh_topology(rabbitmq_url)
    return postgres_url


class Running:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        th = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
        th.start()
        self.threads.append(th)

    def close(self) -> None:
        self.stop.set()
        for th in self.threads:
            th.join(timeout=15)


@pytest.fixture
def running() -> Iterator[Running]:
    r = Running()
    yield r
    r.close()


def wait_for(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.mark.parametrize("publisher_kind", ["async confirms", "one by one"])
def test_matched_invoices_are_posted_through_rabbitmq_and_acknowledged(
    make_app: Any, pg: str, rabbitmq_url: str, running: Running, publisher_kind: str
) -> None:
    app = make_app(pg)
    po = stationery_order(app)
    ids = ingest_invoices_for(app, po, 40, credit_every=5)
    record_matched_standin(app.ctx, ids)
    store = FinanceStore.from_url(pg)
    store.create()
    stats = ReceiveStats()
    running.start(
        run_receiver,
        Receiver(store, [ReferenceLedger()]),
        rabbitmq_url,
        stop=running.stop,
        stats=stats,
        batch=16,
    )
    running.start(run_ack_consumer, app.ctx, rabbitmq_url, stop=running.stop)
    publisher: Any = (
        AsyncConfirmPublisher(rabbitmq_url)
        if publisher_kind == "async confirms"
        else PikaPublisher(rabbitmq_url)
    )
    running.start(run_relay_loop, app.ctx, publisher, running.stop, batch=7)

    wait_for(lambda: posting_counts(app.ctx).get("posted") == 40)
    tb = trial_balance(store)
    assert tb.balanced and tb.journals == 40
    assert stats.posted == 40 and stats.refused == 0
    running.close()
    publisher.close()
    store.dispose()


def test_an_unroutable_posting_is_not_marked_published(
    make_app: Any, pg: str, rabbitmq_url: str
) -> None:
    """mandatory: with no queue bound, RabbitMQ returns the message; the row stays due."""
    app = make_app(pg)
    po = stationery_order(app)
    [invoice] = ingest_invoices_for(app, po, 1)
    record_matched_standin(app.ctx, [invoice])
    from procure.services.outbox import outbox_counts, relay_once

    connection = topology.connect(rabbitmq_url)
    connection.channel().queue_unbind(topology.POSTINGS, topology.EXCHANGE, topology.POSTING_KEY)
    connection.close()
    for publisher in (AsyncConfirmPublisher(rabbitmq_url), PikaPublisher(rabbitmq_url)):
        publisher._open()  # declares the topology (and so binds again) …
        connection = topology.connect(rabbitmq_url)
        connection.channel().queue_unbind(
            topology.POSTINGS, topology.EXCHANGE, topology.POSTING_KEY
        )
        connection.close()  # … so unbind after it
        result = relay_once(app.ctx, publisher)
        publisher.close()
        assert (result.published, result.failed) == (0, 1)
        app.ctx.clock.advance(seconds=600)  # past the back-off
    assert outbox_counts(app.ctx)["due"] == 1


def publish_raw(url: str, body: bytes, message_id: str) -> None:
    connection = topology.connect(url)
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish(
        topology.EXCHANGE,
        topology.POSTING_KEY,
        body,
        properties=pika.BasicProperties(message_id=message_id, delivery_mode=2),
        mandatory=True,
    )
    connection.close()


class AlwaysFails:
    name = "broken"

    def apply(self, conn: Connection, postings: Any) -> None:
        raise RuntimeError("the finance system is refusing every journal")


def test_poison_messages_end_in_the_dead_letter_queue_and_replay_puts_them_back(
    make_app: Any, pg: str, rabbitmq_url: str, running: Running
) -> None:
    app = make_app(pg)
    po = stationery_order(app)
    [invoice] = ingest_invoices_for(app, po, 1)
    record_matched_standin(app.ctx, [invoice])
    publisher = PikaPublisher(rabbitmq_url)
    from procure.services.outbox import relay_once

    assert relay_once(app.ctx, publisher).published == 1
    publisher.close()
    good = PostingMessage.model_validate_json(
        json.dumps(json.loads(_outbox_payload(app)))
    ).model_dump_json()
    publish_raw(rabbitmq_url, b"{this is not json", "bad-1")
    publish_raw(
        rabbitmq_url,
        json.dumps({**json.loads(good), "schema_version": "9"}).encode(),
        "bad-2",
    )
    store = FinanceStore.from_url(pg)
    store.create()
    stats = ReceiveStats()
    running.start(
        run_receiver,
        Receiver(store, [AlwaysFails()]),
        rabbitmq_url,
        stop=running.stop,
        stats=stats,
        batch=1,
    )
    wait_for(lambda: queue_depths(rabbitmq_url)[topology.POSTINGS_DLQ] == 3, 60)
    depths = queue_depths(rabbitmq_url)
    assert depths[topology.POSTINGS] == 0
    assert stats.refused == 2
    assert stats.failed == topology.DELIVERY_LIMIT + 1  # tried, then dead-lettered: no loop
    running.close()

    # Finance fixes its system and replays the dead letters: the good posting goes through,
    # the two that can never be read go back to the DLQ (and are not picked up twice).
    assert replay(rabbitmq_url) == 3
    fixed = ReceiveStats()
    again = Running()
    again.start(
        run_receiver,
        Receiver(store, [ReferenceLedger()]),
        rabbitmq_url,
        stop=again.stop,
        stats=fixed,
    )
    try:
        wait_for(lambda: fixed.posted == 1 and fixed.refused == 2, 30)
    finally:
        again.close()
    assert queue_depths(rabbitmq_url)[topology.POSTINGS_DLQ] == 2
    assert trial_balance(store).journals == 1
    store.dispose()


def _outbox_payload(app: Any) -> str:
    from sqlalchemy import select

    from procure.store import tables as t

    with app.db.reading() as s:
        return str(s.scalars(select(t.OutboxRow.payload)).one())
