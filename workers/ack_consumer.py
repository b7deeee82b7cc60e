"""Finance's acknowledgements → the posting state (posted | rejected), in batches.

Consumes the reply queue with manual acks: a batch of answers is recorded in one transaction
(``procure.services.posting.record_acknowledgements``), and the deliveries are acked only after
that commit. No one answer stops the consumer or holds up the others. Per delivery:

1. not a valid acknowledgement (not JSON, unknown version, a schema violation such as a finance
   document number longer than procure keeps): rejected without requeue, so dead-lettered at
   once, before anything reaches the database;
2. for a posting procure has no record of: dead-lettered too (nothing was recorded for it);
3. refused by the database (any error but the database being unreachable): the batch is
   recorded again one answer per transaction, and only the answer that fails is dead-lettered;
4. procure's database unreachable (connection lost or refused): nothing is acked or rejected;
   the answers are held and retried (1 s doubling to 30 s) while the connection keeps its
   heartbeats, so they neither use up the queue's delivery limit nor reach the DLQ.

Each dead letter is logged with its reason; ``procure finance replay --acks`` puts them back.
A dead-lettered answer changes no posting (no audit event: the posting's state is unchanged, it
is still waiting for an answer). Anything else that escapes (a bug) closes the connection and
the consumer reconnects: the unacked deliveries come back, and the queue's delivery limit
dead-letters one that keeps failing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from pika.spec import Basic
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from connectors.finance import topology
from procure.messages import Acknowledgement, MessageRefused, parse_ack
from procure.services.context import ServiceContext
from procure.services.posting import AcksRecorded, record_acknowledgements

log = logging.getLogger("procure.acks")

T = TypeVar("T")
Parsed = tuple[int, Acknowledgement]
"""A delivery tag and the acknowledgement it carries."""


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
        except (AMQPError, OSError) as exc:
            log.warning("acks: RabbitMQ connection lost (%s); reconnecting in %.0fs", exc, pause)
            stop.wait(pause)
            pause = min(30.0, pause * 2)
        except Exception:  # a bug must not end the consumer: its deliveries come back
            log.exception("acks: consumer failed; reconnecting in %.0fs", pause)
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
        for delivery in channel.consume(topology.ACKS, inactivity_timeout=0.05):
            if delivery[0] is not None:  # (None, None, None): nothing came within the timeout
                method, _props, body = delivery
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
    deliveries: Sequence[tuple[Basic.Deliver, bytes]],
    stop: threading.Event,
) -> None:
    parsed: list[Parsed] = []
    for method, body in deliveries:
        tag = topology.delivery_tag(method)
        try:
            parsed.append((tag, parse_ack(body)))
        except MessageRefused as exc:
            _dead_letter(channel, tag, exc.reason)
    if parsed:
        done = _store(ctx, channel, parsed, stop)
        recorded = [tag for tag, reason in done.items() if reason is None]
        for tag, reason in done.items():
            if reason is not None:
                _dead_letter(channel, tag, reason)
        if recorded:  # every earlier delivery is settled already: ack them in one go
            channel.basic_ack(max(recorded), multiple=True)


def _store(
    ctx: ServiceContext, channel: BlockingChannel, acks: Sequence[Parsed], stop: threading.Event
) -> dict[int, str | None]:
    """Record the answers: per delivery tag, None when recorded or the reason to dead-letter it.
    A tag left out is held (stopping while the database is unreachable): neither acked nor
    rejected, RabbitMQ delivers it again. Held tags always come after the decided ones."""
    try:
        result = _retrying(
            channel, stop, partial(record_acknowledgements, ctx, [a for _, a in acks])
        )
    except Exception as exc:
        if len(acks) > 1:
            log.warning("acks: a batch of %s failed (%s); one by one", len(acks), _cause(exc))
            return _store_each(ctx, channel, acks, stop)
        return {acks[0][0]: _database_refused(acks[0][1], exc)}
    return {} if result is None else _verdicts(acks, result)


def _store_each(
    ctx: ServiceContext, channel: BlockingChannel, acks: Sequence[Parsed], stop: threading.Event
) -> dict[int, str | None]:
    done: dict[int, str | None] = {}
    for tag, ack in acks:
        try:
            result = _retrying(channel, stop, partial(record_acknowledgements, ctx, [ack]))
        except Exception as exc:
            done[tag] = _database_refused(ack, exc)
            continue
        if result is None:
            break  # stopping: this one and the rest are held
        done.update(_verdicts([(tag, ack)], result))
    return done


def _verdicts(acks: Sequence[Parsed], result: AcksRecorded) -> dict[int, str | None]:
    return {
        tag: (
            f"no posting with idempotency key {a.idempotency_key} (unknown to procure)"
            if a.idempotency_key in result.unknown
            else None
        )
        for tag, a in acks
    }


def _retrying(channel: BlockingChannel, stop: threading.Event, call: Callable[[], T]) -> T | None:
    """``call()``, retried while the database is unreachable; None when stopped meanwhile. Any
    other error is raised: it is the answers', not the database's."""
    pause = 1.0
    while True:
        try:
            return call()
        except Exception as exc:
            if not _database_unreachable(exc):
                raise
            log.warning("acks: database unavailable (%s); retrying in %.0fs", _cause(exc), pause)
        channel.connection.sleep(pause)
        pause = min(30.0, pause * 2)
        if stop.is_set():
            return None  # unsettled: RabbitMQ redelivers them to the next consumer


def _database_unreachable(exc: BaseException) -> bool:
    """A failure of the connection to the database, not of what was written: worth retrying."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _database_refused(ack: Acknowledgement, exc: Exception) -> str:
    return f"{ack.idempotency_key} cannot be recorded: {_cause(exc)}"


def _cause(exc: Exception) -> str:
    """The driver's own error and its first line, rather than SQLAlchemy's statement dump."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"{type(cause).__name__}: {next(iter(str(cause).splitlines()), '')}"[:500]


def _dead_letter(channel: BlockingChannel, tag: int, reason: str) -> None:
    log.warning("acks: dead-lettering an acknowledgement: %s", reason)
    channel.basic_reject(tag, requeue=False)
