"""A publisher with asynchronous confirms: a whole batch in flight, then every confirm awaited.

pika's blocking channel waits for each confirm before the next publish (one round trip, and on
a quorum queue one fsync, per message). This publisher uses pika's ``SelectConnection`` (its
public asynchronous adapter) instead: it publishes the relay's whole batch, then runs the I/O
loop until RabbitMQ has confirmed (ack or nack) every message or returned it as unroutable
(``mandatory``), or a timeout passes. Each message's own outcome is reported, so the relay
marks exactly the confirmed rows published (and the receiver acks exactly the deliveries
whose acknowledgement was confirmed); anything else is sent again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Literal

import pika
from pika.channel import Channel
from pika.exceptions import AMQPError
from pika.frame import Method
from pika.spec import Basic, BasicProperties

from connectors.finance import topology
from procure.ports import OutboundMessage

log = logging.getLogger("procure.finance.confirms")


class AsyncConfirmPublisher:
    def __init__(self, url: str, *, confirm_timeout: float = 30.0) -> None:
        self.url = url
        self.params = topology.parameters(url)
        self.confirm_timeout = confirm_timeout
        self._published = 0
        self._message_ids: list[str] = []
        self.connection: pika.SelectConnection | None = None
        self.channel: Channel | None = None
        self._error: str | None = None
        self._tags: dict[int, int] = {}  # delivery tag → index in the batch
        self._results: list[str | Literal[True] | None] = []  # True: waiting for the confirm
        self._outstanding = 0

    # -- connection ---------------------------------------------------------------------------
    def _open(self) -> None:
        if self.channel is not None and self.channel.is_open:
            return
        self.close()
        self._error = None
        ready: list[bool] = []

        def on_open(conn: pika.SelectConnection) -> None:
            conn.channel(on_open_callback=on_channel)

        def on_channel(channel: Channel) -> None:
            self.channel = channel
            channel.add_on_return_callback(self._on_return)
            channel.add_on_close_callback(self._on_channel_closed)
            channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=on_select)

        def on_select(_frame: Method[Any]) -> None:
            ready.append(True)
            assert self.connection is not None
            self.connection.ioloop.stop()

        def on_error(conn: pika.SelectConnection, exc: BaseException | str) -> None:
            self._error = f"cannot connect to RabbitMQ: {exc!r}"
            conn.ioloop.stop()

        self.connection = pika.SelectConnection(
            self.params,
            on_open_callback=on_open,
            on_open_error_callback=on_error,
            on_close_callback=self._on_connection_closed,
        )
        timer = self.connection.ioloop.call_later(self.confirm_timeout, self.connection.ioloop.stop)
        self.connection.ioloop.start()
        self.connection.ioloop.remove_timeout(timer)
        if not ready:
            error = self._error or "timed out connecting to RabbitMQ"
            self.close()
            raise ConnectionError(error)
        # The topology, declared once per connection through a short blocking connection.
        topology.declare_at(self.url)

    def _on_connection_closed(self, conn: pika.SelectConnection, reason: BaseException) -> None:
        self._fail_outstanding(f"connection closed: {reason!r}")
        self.channel = None
        conn.ioloop.stop()

    def _on_channel_closed(self, _channel: Channel, reason: BaseException) -> None:
        self._fail_outstanding(f"channel closed: {reason!r}")
        self.channel = None
        if self.connection is not None:
            self.connection.ioloop.stop()

    # -- confirms -----------------------------------------------------------------------------
    def _settle(self, tag: int, result: str | None) -> None:
        index = self._tags.pop(tag, None)
        if index is None:
            return
        if self._results[index] is True:  # still waiting
            self._results[index] = result
            self._outstanding -= 1

    def _on_confirm(self, frame: Method[Any]) -> None:
        method = frame.method
        result = (
            None if isinstance(method, Basic.Ack) else "nacked by RabbitMQ (queue full or alarm)"
        )
        tags = (
            [t for t in list(self._tags) if t <= method.delivery_tag]
            if method.multiple
            else [method.delivery_tag]
        )
        for tag in tags:
            self._settle(tag, result)
        if self._outstanding == 0 and self.connection is not None:
            self.connection.ioloop.stop()

    def _on_return(
        self, _ch: Channel, method: Basic.Return, props: BasicProperties, _body: bytes
    ) -> None:
        # A returned (unroutable) message is still acked afterwards: remember it as failed now.
        for i, mid in enumerate(self._message_ids):
            if mid == props.message_id and self._results[i] is True:
                self._results[i] = f"unroutable: {method.reply_text}"
                self._outstanding -= 1
                self._tags = {t: j for t, j in self._tags.items() if j != i}

    def _fail_outstanding(self, why: str) -> None:
        for i, r in enumerate(self._results):
            if r is True:
                self._results[i] = why
        self._outstanding = 0
        self._tags = {}

    # -- the Publisher port -------------------------------------------------------------------
    def publish(self, messages: Sequence[OutboundMessage]) -> list[str | None]:
        try:
            self._open()
        except (ConnectionError, AMQPError, OSError) as exc:
            return [str(exc)] * len(messages)
        assert self.channel is not None and self.connection is not None
        self._results = [True] * len(messages)
        self._message_ids = [m.message_id for m in messages]
        self._tags = {}
        self._outstanding = len(messages)
        for i, m in enumerate(messages):
            self.channel.basic_publish(
                topology.EXCHANGE,
                m.routing_key,
                m.payload.encode(),
                properties=topology.properties(
                    message_id=m.message_id,
                    idempotency_key=m.idempotency_key,
                    message_type=m.message_type,
                ),
                mandatory=True,
            )
            self._tags[i + 1 + self._published] = i
        self._published += len(messages)
        ioloop = self.connection.ioloop
        timer = ioloop.call_later(self.confirm_timeout, ioloop.stop)
        if self._outstanding:
            ioloop.start()
        ioloop.remove_timeout(timer)
        self._fail_outstanding("no confirm within the timeout")
        return [r if r is not True else "not confirmed" for r in self._results]

    def idle(self, seconds: float) -> None:
        """Wait, answering heartbeats on an open connection."""
        if self.connection is not None and self.channel is not None and self.channel.is_open:
            ioloop = self.connection.ioloop
            timer = ioloop.call_later(seconds, ioloop.stop)
            ioloop.start()
            ioloop.remove_timeout(timer)
            return
        time.sleep(seconds)

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        self._published = 0
        if connection is not None and connection.is_open:
            try:
                connection.close()
                connection.ioloop.start()  # runs until the close completes (on_close stops it)
            except (AMQPError, OSError):
                log.debug("closing the relay connection failed", exc_info=True)
