"""Finance's acknowledgements → the posting state (posted | rejected), in batches.

Consumes the reply queue with manual acks: a batch of answers is recorded in one transaction
(``procure.services.posting.record_acknowledgements``), and the deliveries are acked only after
that commit. An answer that is not a valid acknowledgement is dead-lettered (never requeued in a
loop); while procure's database is unreachable the batch is held and retried.
"""

from __future__ import annotations

import logging
import threading

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic
from sqlalchemy.exc import InterfaceError, OperationalError

from connectors.finance import topology
from procure.messages import Acknowledgement, MessageRefused, parse_ack
from procure.services.context import ServiceContext
from procure.services.posting import record_acknowledgements

log = logging.getLogger("procure.acks")


def run_ack_consumer(
    ctx: ServiceContext,
    url: str,
    *,
    stop: threading.Event,
    prefetch: int = 1000,
    batch: int = 500,
) -> None:
    pause = 1.0
    while not stop.is_set():
        try:
            _consume(ctx, url, stop, prefetch, batch)
            pause = 1.0
        except (pika.exceptions.AMQPError, OSError) as exc:
            log.warning("acks: RabbitMQ connection lost (%s); reconnecting in %.0fs", exc, pause)
            stop.wait(pause)
            pause = min(30.0, pause * 2)


def _consume(
    ctx: ServiceContext, url: str, stop: threading.Event, prefetch: int, batch: int
) -> None:
    connection = topology.connect(url)
    try:
        channel = connection.channel()
        topology.declare(channel)
        channel.basic_qos(prefetch_count=prefetch)
        pending: list[tuple[Basic.Deliver, bytes]] = []
        for method, _props, body in channel.consume(topology.ACKS, inactivity_timeout=0.05):
            if method is not None:
                pending.append((method, body))
                if len(pending) < batch:
                    continue
            if pending:
                _record(ctx, channel, pending, stop)
                pending = []
            if stop.is_set():
                break
    finally:
        if connection.is_open:
            connection.close()


def _record(
    ctx: ServiceContext,
    channel: BlockingChannel,
    deliveries: list[tuple[Basic.Deliver, bytes]],
    stop: threading.Event,
) -> None:
    acks: list[Acknowledgement] = []
    last_good: int | None = None
    for method, body in deliveries:
        try:
            acks.append(parse_ack(body))
            last_good = method.delivery_tag
        except MessageRefused as exc:
            log.warning("acks: dead-lettering an unreadable acknowledgement: %s", exc.reason)
            channel.basic_reject(method.delivery_tag, requeue=False)
    pause = 1.0
    while acks:
        try:
            record_acknowledgements(ctx, acks)
            break
        except (OperationalError, InterfaceError) as exc:
            log.warning("acks: database unavailable (%s); retrying in %.0fs", exc, pause)
            channel.connection.sleep(pause)
            pause = min(30.0, pause * 2)
            if stop.is_set():
                return  # unacked: RabbitMQ redelivers them to the next consumer
    if last_good is not None:  # rejected ones are settled already; ack the rest in one go
        channel.basic_ack(last_good, multiple=True)
