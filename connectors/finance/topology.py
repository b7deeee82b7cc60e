"""The RabbitMQ topology of the finance path, declared by the project (both sides declare it,
idempotently, at start), and the connection parameters every finance connection uses.

    procure.finance (direct, durable)
      ├─ ap.invoice.posting      → finance.ap.postings   quorum; x-delivery-limit 5;
      │                                                   dead-letters at-least-once to the DLX
      └─ ap.invoice.posting.ack  → procure.finance.acks  quorum; dead-letters to the DLX
    procure.finance.dlx (direct, durable)
      ├─ ap.invoice.posting      → finance.ap.postings.dlq       quorum, no TTL, no limit
      └─ ap.invoice.posting.ack  → procure.finance.acks.dlq      quorum, no TTL, no limit

At-least-once dead-lettering needs ``x-overflow: reject-publish`` on the source queue (a full
queue refuses new messages, which the relay sees as a nack and retries later), so nothing is
dropped between a queue and its DLQ. The DLQs are kept until someone looks:
``procure finance replay`` moves messages back.

Connections set a heartbeat and a blocked-connection timeout, so a RabbitMQ memory or disk
alarm (which blocks publishers) raises after a minute instead of hanging forever.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic

EXCHANGE = "procure.finance"
DLX = "procure.finance.dlx"
POSTINGS = "finance.ap.postings"
POSTINGS_DLQ = "finance.ap.postings.dlq"
ACKS = "procure.finance.acks"
ACKS_DLQ = "procure.finance.acks.dlq"
POSTING_KEY = "ap.invoice.posting"
ACK_KEY = "ap.invoice.posting.ack"
DELIVERY_LIMIT = 5

CONNECTION_DEFAULTS = {
    "heartbeat": "30",
    "blocked_connection_timeout": "60",
    "connection_attempts": "3",
    "retry_delay": "1",
    "socket_timeout": "10",
}


def parameters(url: str) -> pika.URLParameters:
    """pika parameters for ``url`` with our heartbeat and blocked-connection timeout unless the
    URL sets its own."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in CONNECTION_DEFAULTS.items():
        query.setdefault(key, value)
    return pika.URLParameters(urlunsplit(parts._replace(query=urlencode(query))))


def connect(url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(parameters(url))


def delivery_tag(method: Basic.Deliver | Basic.GetOk) -> int:
    """The tag of a message the broker delivered. pika's frame classes type it Optional (they
    also build frames, where it may be unset); a received delivery always carries one."""
    tag = method.delivery_tag
    if tag is None:
        raise ValueError(f"a delivery without a delivery tag: {method!r}")
    return tag


def _queue(
    channel: BlockingChannel, name: str, dead_letter_key: str | None, limit: int | None
) -> None:
    arguments: dict[str, Any] = {"x-queue-type": "quorum"}
    if dead_letter_key is not None:
        arguments.update(
            {
                "x-dead-letter-exchange": DLX,
                "x-dead-letter-routing-key": dead_letter_key,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            }
        )
    if limit is not None:
        arguments["x-delivery-limit"] = limit
    channel.queue_declare(name, durable=True, arguments=arguments)


def declare(channel: BlockingChannel) -> None:
    """Declare exchanges, queues and bindings (idempotent; both sides call it at start)."""
    channel.exchange_declare(EXCHANGE, exchange_type="direct", durable=True)
    channel.exchange_declare(DLX, exchange_type="direct", durable=True)
    _queue(channel, POSTINGS, POSTING_KEY, DELIVERY_LIMIT)
    _queue(channel, ACKS, ACK_KEY, DELIVERY_LIMIT)
    _queue(channel, POSTINGS_DLQ, None, None)
    _queue(channel, ACKS_DLQ, None, None)
    channel.queue_bind(POSTINGS, EXCHANGE, routing_key=POSTING_KEY)
    channel.queue_bind(ACKS, EXCHANGE, routing_key=ACK_KEY)
    channel.queue_bind(POSTINGS_DLQ, DLX, routing_key=POSTING_KEY)
    channel.queue_bind(ACKS_DLQ, DLX, routing_key=ACK_KEY)


def declare_at(url: str) -> None:
    connection = connect(url)
    try:
        declare(connection.channel())
    finally:
        connection.close()


def properties(
    *, message_id: str, idempotency_key: str, message_type: str, correlation_id: str | None = None
) -> pika.BasicProperties:
    """Persistent, JSON, with the message id and the idempotency key (also as a header)."""
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=message_id,
        correlation_id=correlation_id,
        type=message_type,
        headers={"idempotency_key": idempotency_key},
    )
