"""Helpers of the acknowledgement consumer's scenarios on the real PostgreSQL and RabbitMQ:
procure's queued postings, finance's answers published as raw bytes on the reply queue (so a
test can send what the model would refuse), and the consumer running in a thread."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pika
from sqlalchemy import select
from sqlmodel import col

from benchmarks.matching_standin import ingest_invoices_for, record_matched_standin
from benchmarks.matching_standin import stationery_order as _stationery_order
from connectors.finance import topology
from procure.domain import events as ev
from procure.messages import PostingMessage
from procure.services.context import ServiceContext
from procure.store import tables as t
from tests.conftest import reset_postgres
from workers.ack_consumer import run_ack_consumer


def fresh(postgres_url: str, rabbitmq_url: str) -> None:
    """An empty database and the finance topology with empty queues."""
    reset_postgres(postgres_url)
    connection = topology.connect(rabbitmq_url)
    channel = connection.channel()
    for q in (topology.POSTINGS, topology.POSTINGS_DLQ, topology.ACKS, topology.ACKS_DLQ):
        channel.queue_delete(q)
    topology.declare(channel)
    connection.close()


def queued_postings(app: Any, count: int) -> list[PostingMessage]:
    """``count`` matched invoices of one stationery order, queued for finance (posting pending,
    the message in the outbox): the postings finance would answer."""
    po = _stationery_order(app)
    ids = ingest_invoices_for(app, po, count)
    record_matched_standin(app.ctx, ids)
    with app.db.reading() as s:
        payloads = list(s.scalars(select(col(t.OutboxRow.payload)).order_by(col(t.OutboxRow.id))))
    assert len(payloads) == count
    return [PostingMessage.model_validate_json(p) for p in payloads]


def answer(
    posting: PostingMessage,
    *,
    status: str = "posted",
    document_number: str | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Finance's acknowledgement of ``posting`` as JSON data (not through the model)."""
    if status == "posted" and document_number is None:
        document_number = f"AP-{posting.body.invoice_id[:8]}"
    return {
        "message_id": str(uuid.uuid4()),
        "idempotency_key": idempotency_key or posting.idempotency_key,
        "correlation_id": posting.correlation_id,
        "occurred_at": "2026-12-01T09:05:00Z",
        "message_type": "ap.invoice.posting.ack",
        "schema_version": "1",
        "in_reply_to": posting.message_id,
        "body": {
            "invoice_id": posting.body.invoice_id,
            "status": status,
            "finance_document_number": document_number,
            "reason": reason,
        },
    }


def publish_acks(url: str, *bodies: dict[str, Any] | bytes) -> None:
    """Publish answers on the reply queue, in this order, confirmed by RabbitMQ."""
    connection = topology.connect(url)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for body in bodies:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            channel.basic_publish(
                topology.EXCHANGE,
                topology.ACK_KEY,
                data,
                properties=pika.BasicProperties(
                    content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent
                ),
                mandatory=True,
            )
    finally:
        connection.close()


def depth(url: str, queue: str) -> int:
    connection = topology.connect(url)
    try:
        count: int = connection.channel().queue_declare(queue, passive=True).method.message_count
        return count
    finally:
        connection.close()


def dead_letters(url: str) -> list[dict[str, Any]]:
    """The answers in the acknowledgement DLQ (taken off it), in order."""
    connection = topology.connect(url)
    found: list[dict[str, Any]] = []
    try:
        channel = connection.channel()
        while True:
            method, _props, body = channel.basic_get(topology.ACKS_DLQ, auto_ack=True)
            if method is None:
                return found
            try:
                found.append(json.loads(body))
            except ValueError:
                found.append({"raw": body})
    finally:
        connection.close()


@contextmanager
def ack_consumer(ctx: ServiceContext, url: str, **kwargs: Any) -> Iterator[threading.Thread]:
    """``run_ack_consumer`` in a thread until the block ends."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_ack_consumer, args=(ctx, url), kwargs={"stop": stop, **kwargs}, daemon=True
    )
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=20)


def wait_for(check: Callable[[], bool], seconds: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def posting_states(ctx: ServiceContext) -> dict[str, str]:
    """Each posting's state, by idempotency key."""
    with ctx.db.reading() as s:
        rows = s.execute(select(col(t.PostingRow.idempotency_key), col(t.PostingRow.state))).all()
    return dict(rows)


def posting_events(ctx: ServiceContext, invoice_id: str) -> list[str]:
    """The posting events in an invoice's audit trail, in order."""
    names = {ev.INVOICE_POSTING_QUEUED, ev.INVOICE_POSTED, ev.INVOICE_POSTING_REJECTED}
    a = t.AuditEventRow
    with ctx.db.reading() as s:
        found = s.scalars(
            select(col(a.event_name)).where(col(a.entity_id) == invoice_id).order_by(col(a.id))
        )
        return [n for n in found if n in names]
