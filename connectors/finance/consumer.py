"""``procure finance receive``: the receiver on RabbitMQ, with manual acks and a prefetch.

Deliveries are taken in batches (up to ``batch``, or whatever arrived within 50 ms) and given to
``Receiver.receive``, which commits their effects and inbox rows in one transaction. Then, per
delivery, in this order:

1. posted/rejected: the batch's acknowledgements are published on the reply queue (persistent,
   mandatory, with asynchronous confirms: the whole batch in flight, every confirm awaited), and
   only then are those deliveries acked: a crash in between redelivers them, the inbox answers
   "done" and the acknowledgement is sent again; an acknowledgement not confirmed has its
   delivery requeued for the same reason;
2. refused (not JSON, unknown schema version, schema violation): rejected without requeue, so
   it is dead-lettered to the DLQ at once;
3. failed (an adapter raised): nacked with requeue; the queue's delivery limit dead-letters a
   message that always fails instead of looping;
4. the finance database is unreachable: nothing is acked or nacked; the batch is retried after
   a pause (1 s doubling to 30 s) while the connection keeps its heartbeats.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from connectors.finance import topology
from connectors.finance.confirms import AsyncConfirmPublisher
from connectors.finance.receiver import Outcome, Receiver
from procure.messages import encode

log = logging.getLogger("procure.finance.consumer")

Delivery = tuple[Basic.Deliver, BasicProperties, bytes]


@dataclass
class ReceiveStats:
    posted: int = 0
    rejected: int = 0
    repeats: int = 0
    refused: int = 0
    failed: int = 0
    redelivered: int = 0


def run_receiver(
    receiver: Receiver,
    url: str,
    *,
    prefetch: int = 200,
    batch: int = 100,
    stop: threading.Event | None = None,
    stats: ReceiveStats | None = None,
) -> ReceiveStats:
    """Consume until ``stop`` is set; reconnects after a lost connection."""
    stop = stop or threading.Event()
    stats = stats or ReceiveStats()
    pause = 1.0
    while not stop.is_set():
        try:
            _consume(receiver, url, prefetch, batch, stop, stats)
            pause = 1.0
        except (pika.exceptions.AMQPError, OSError) as exc:
            log.warning(
                "receiver: RabbitMQ connection lost (%s); reconnecting in %.0fs", exc, pause
            )
            stop.wait(pause)
            pause = min(30.0, pause * 2)
    return stats


@dataclass(frozen=True)
class _Reply:
    """An acknowledgement as the confirm publisher sends it."""

    message_id: str
    idempotency_key: str
    message_type: str
    routing_key: str
    payload: str


def _consume(
    receiver: Receiver,
    url: str,
    prefetch: int,
    batch: int,
    stop: threading.Event,
    stats: ReceiveStats,
) -> None:
    connection = topology.connect(url)
    replies = AsyncConfirmPublisher(url)
    try:
        channel = connection.channel()
        topology.declare(channel)
        channel.basic_qos(prefetch_count=prefetch)
        pending: list[Delivery] = []
        for delivery in channel.consume(topology.POSTINGS, inactivity_timeout=0.05):
            if delivery[0] is not None:  # (None, None, None): nothing came within the timeout
                pending.append(delivery)
                if len(pending) < batch:
                    continue
            if pending:
                _process(receiver, channel, replies, pending, stats, stop)
                pending = []
            else:
                replies.idle(0)  # nothing to do: let the reply connection answer heartbeats
            if stop.is_set():
                break
        channel.cancel()
    finally:
        replies.close()
        if connection.is_open:
            connection.close()


def _process(
    receiver: Receiver,
    channel: BlockingChannel,
    replies: AsyncConfirmPublisher,
    deliveries: Sequence[Delivery],
    stats: ReceiveStats,
    stop: threading.Event,
) -> None:
    pause = 1.0
    while True:
        outcomes = receiver.receive([body for _, _, body in deliveries])
        if not any(o.failed and o.transient for o in outcomes):
            break
        # The finance database is unreachable: hold the deliveries (no ack, no nack, so the
        # delivery limit is not used up) and try again, keeping the connection alive.
        log.warning("receiver: finance database unavailable; retrying in %.0fs", pause)
        channel.connection.sleep(pause)
        pause = min(30.0, pause * 2)
        if stop.is_set():
            return
    before = (stats.repeats, stats.redelivered)
    stats.redelivered += sum(1 for m, _, _ in deliveries if m.redelivered)
    answered = [(i, o.ack) for i, o in enumerate(outcomes) if o.ack is not None]
    sent = (
        replies.publish(
            [
                _Reply(
                    a.message_id,
                    a.idempotency_key,
                    a.message_type,
                    topology.ACK_KEY,
                    encode(a).decode(),
                )
                for _, a in answered
            ]
        )
        if answered
        else []
    )
    unconfirmed = {i for (i, _), error in zip(answered, sent, strict=True) if error is not None}
    if unconfirmed:
        log.warning("receiver: %s acknowledgement(s) not confirmed: %s", len(unconfirmed), sent)
    for i, ((method, _props, _body), outcome) in enumerate(zip(deliveries, outcomes, strict=True)):
        _settle(channel, method, outcome, stats, confirmed=i not in unconfirmed)
    if (stats.repeats, stats.redelivered) != before:
        log.info(
            "receiver: batch of %s: redelivered %s, repeats answered from the inbox %s",
            len(deliveries),
            stats.redelivered - before[1],
            stats.repeats - before[0],
        )


def _settle(
    channel: BlockingChannel,
    method: Basic.Deliver,
    outcome: Outcome,
    stats: ReceiveStats,
    *,
    confirmed: bool,
) -> None:
    tag = topology.delivery_tag(method)
    if outcome.ack is not None:
        if not confirmed:  # committed, but the answer may be lost: deliver again, answer again
            channel.basic_nack(tag, requeue=True)
            return
        channel.basic_ack(tag)
        ack = outcome.ack
        if outcome.repeat:
            stats.repeats += 1
        elif ack.body.status == "posted":
            stats.posted += 1
        else:
            stats.rejected += 1
    elif outcome.refused is not None:
        log.warning("dead-lettering a message that can never be processed: %s", outcome.refused)
        channel.basic_reject(tag, requeue=False)
        stats.refused += 1
    else:
        log.warning("posting failed, requeued (delivery limit applies): %s", outcome.failed)
        channel.basic_nack(tag, requeue=True)
        stats.failed += 1
