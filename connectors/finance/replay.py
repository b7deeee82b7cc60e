"""``procure finance replay``: move dead-lettered messages back to their queue.

Takes at most the number of messages the DLQ held when it started (a message that dead-letters
again is not picked up twice in one run), republishes each to the finance exchange with its
original routing key in confirm mode, and only then acks it off the DLQ. RabbitMQ's death
headers are dropped so that the message's history starts again.
"""

from __future__ import annotations

import pika

from connectors.finance import topology


def replay(url: str, *, acks: bool = False, limit: int | None = None) -> int:
    queue = topology.ACKS_DLQ if acks else topology.POSTINGS_DLQ
    routing_key = topology.ACK_KEY if acks else topology.POSTING_KEY
    connection = topology.connect(url)
    moved = 0
    try:
        channel = connection.channel()
        topology.declare(channel)
        channel.confirm_delivery()
        waiting = channel.queue_declare(queue, passive=True).method.message_count
        todo = waiting if limit is None else min(limit, waiting)
        while moved < todo:
            got = channel.basic_get(queue, auto_ack=False)
            if got[0] is None:  # the queue is empty
                break
            method, props, body = got
            headers = {k: v for k, v in (props.headers or {}).items() if not k.startswith("x-")}
            channel.basic_publish(
                topology.EXCHANGE,
                routing_key,
                body,
                properties=pika.BasicProperties(
                    content_type=props.content_type,
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=props.message_id,
                    correlation_id=props.correlation_id,
                    type=props.type,
                    headers=headers,
                ),
                mandatory=True,
            )
            channel.basic_ack(topology.delivery_tag(method))
            moved += 1
    finally:
        if connection.is_open:
            connection.close()
    return moved


def queue_depths(url: str) -> dict[str, int]:
    connection = topology.connect(url)
    try:
        channel = connection.channel()
        topology.declare(channel)
        return {
            q: channel.queue_declare(q, passive=True).method.message_count
            for q in (topology.POSTINGS, topology.POSTINGS_DLQ, topology.ACKS, topology.ACKS_DLQ)
        }
    finally:
        connection.close()
