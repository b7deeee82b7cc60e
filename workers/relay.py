"""``procure relay``: publish the outbox to RabbitMQ and record finance's acknowledgements.

Two loops in one process, each with its own connection:

- the relay claims due outbox rows (``procure.services.outbox.relay_once``), publishes them with
  pika in confirm mode, ``mandatory`` and persistent, ``message_id`` and the idempotency key in
  the properties; a row not confirmed (nack, unroutable, connection lost) backs off and is tried
  again; every ``sweep_seconds`` it makes rows published more than ``resend_after`` ago and still
  unacknowledged due again, and deletes acknowledged rows older than the retention period;
- the acknowledgement consumer (``workers.ack_consumer``) records finance's answers.

Nothing here is a dramatiq actor: the database is the source of truth, RabbitMQ the transport.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError, NackError, UnroutableError
from sqlalchemy.exc import InterfaceError, OperationalError

from connectors.finance import topology
from procure.ports import OutboundMessage, Publisher
from procure.services.context import ServiceContext
from procure.services.outbox import clean_up, relay_once, sweep_unacknowledged

log = logging.getLogger("procure.relay")


class PikaPublisher:
    """Publisher confirms, one message at a time (pika's blocking channel waits for each).
    ``procure relay`` uses ``connectors.finance.confirms.AsyncConfirmPublisher`` (a batch in flight);
    this one is the simple reference the tests and the benchmark compare it with."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: pika.BlockingConnection | None = None
        self.channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        if self.channel is not None and self.channel.is_open:
            return self.channel
        self.close()
        self.connection = topology.connect(self.url)
        channel = self.connection.channel()
        topology.declare(channel)
        channel.confirm_delivery()
        self.channel = channel
        return channel

    def publish(self, messages: Sequence[OutboundMessage]) -> list[str | None]:
        try:
            channel = self._open()
        except (AMQPError, OSError) as exc:
            self.close()
            return [f"cannot connect to RabbitMQ: {exc!r}"] * len(messages)
        errors: list[str | None] = []
        for i, m in enumerate(messages):
            try:
                channel.basic_publish(
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
                errors.append(None)
            except UnroutableError:
                errors.append(f"unroutable: no queue bound for {m.routing_key}")
            except NackError:
                errors.append("nacked by RabbitMQ (queue full or alarm)")
            except (AMQPError, OSError) as exc:
                left = len(messages) - i
                errors.extend([f"connection lost while publishing: {exc!r}"] * left)
                self.close()
                break
        return errors

    def idle(self, seconds: float) -> None:
        """Wait, answering heartbeats on an open connection."""
        if self.connection is not None and self.connection.is_open:
            try:
                self.connection.process_data_events(time_limit=seconds)
                return
            except (AMQPError, OSError):
                self.close()
        time.sleep(seconds)

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(AMQPError, OSError):
                connection.close()


class RelayPublisher(Publisher, Protocol):
    def idle(self, seconds: float) -> None: ...

    def close(self) -> None: ...


def run_relay_loop(
    ctx: ServiceContext,
    publisher: RelayPublisher,
    stop: threading.Event,
    *,
    batch: int = 500,
    resend_after: timedelta = timedelta(minutes=5),
    retention: timedelta = timedelta(days=7),
    sweep_seconds: float = 30.0,
    idle_seconds: float = 0.2,
) -> None:
    next_sweep = time.monotonic() + sweep_seconds
    pause = 1.0
    while not stop.is_set():
        try:
            result = relay_once(ctx, publisher, batch=batch)
            if time.monotonic() >= next_sweep:
                swept = sweep_unacknowledged(ctx, older_than=resend_after)
                cleaned = clean_up(ctx, retention=retention)
                if swept or cleaned:
                    log.info("relay: %s unacknowledged made due again, %s cleaned", swept, cleaned)
                next_sweep = time.monotonic() + sweep_seconds
            pause = 1.0
        except (OperationalError, InterfaceError) as exc:
            log.warning("relay: database unavailable (%s); retrying in %.0fs", exc, pause)
            publisher.idle(pause)
            pause = min(30.0, pause * 2)
            continue
        if result.claimed < batch or result.failed:
            publisher.idle(idle_seconds)


def run_relay(
    threads: bool = True,
    *,
    stop: threading.Event | None = None,
    resend_after_seconds: int | None = None,
) -> None:
    """The ``procure relay`` process: relay loop + acknowledgement consumer until stopped."""
    import signal
    from types import FrameType

    from connectors.finance.confirms import AsyncConfirmPublisher
    from workers.ack_consumer import run_ack_consumer
    from workers.bootstrap import bootstrap

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    app = bootstrap()
    if app.embedded:
        raise SystemExit(
            "procure relay needs PROCURE_BROKER_URL (the embedded default drains in-process)"
        )
    stop = stop or threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
    url = app.settings.broker_url
    acks = threading.Thread(
        target=run_ack_consumer, args=(app.ctx, url), kwargs={"stop": stop}, daemon=True
    )
    acks.start()
    publisher = AsyncConfirmPublisher(url)
    resend = resend_after_seconds or app.settings.posting_resend_after_seconds
    log.info("relay started (resend unacknowledged after %ss)", resend)
    try:
        run_relay_loop(
            app.ctx,
            publisher,
            stop,
            resend_after=timedelta(seconds=resend),
            sweep_seconds=min(30.0, resend / 2),
            retention=timedelta(days=app.settings.outbox_retention_days),
        )
    finally:
        stop.set()
        acks.join(timeout=10)
        publisher.close()
        app.close()
