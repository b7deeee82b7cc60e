"""Broker set-up: the only module that builds a dramatiq broker (and so the only one touching pika).

- ``embedded`` (the default): dramatiq's in-process StubBroker, drained by an in-process worker.
- ``amqp://…``: RabbitMQ with publisher confirms on (``confirm_delivery=True``), heartbeats, and a
  blocked-connection timeout so that a RabbitMQ memory or disk alarm cannot hang a sender forever.

The broker is built and set as dramatiq's global broker *before* any actor exists; actors are
created by ``workers.actors.register`` bound to this broker explicitly, so dramatiq never builds
its implicit localhost RabbitMQ broker.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from procure.settings import Settings


def _middleware() -> list[dramatiq.Middleware]:
    # Retries back off exponentially; business errors are never retried (see actors.py).
    return [
        AgeLimit(),
        TimeLimit(time_limit=10 * 60 * 1000),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=10, min_backoff=500, max_backoff=60_000),
    ]


def make_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if settings.uses_rabbitmq:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(
            url=with_connection_defaults(settings.broker_url),
            confirm_delivery=True,
            middleware=_middleware(),
        )
    else:
        broker = StubBroker(middleware=_middleware())
        broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    return broker


CONNECTION_DEFAULTS = {
    "heartbeat": "30",
    "blocked_connection_timeout": "60",
    "connection_attempts": "5",
    "retry_delay": "1",
}


def with_connection_defaults(url: str) -> str:
    """Add heartbeat and blocked-connection timeout to an AMQP URL unless it sets them."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in CONNECTION_DEFAULTS.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def is_embedded(broker: dramatiq.Broker) -> bool:
    return isinstance(broker, StubBroker)
