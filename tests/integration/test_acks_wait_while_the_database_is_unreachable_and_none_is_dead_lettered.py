"""While procure's database is unreachable (connections cut, none accepted), finance's answers
are not dead-lettered: they are not the problem. The consumer holds them and retries, and
records every one once the database is back."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from connectors.finance import topology
from tests.integration.acks import (
    ack_consumer,
    answer,
    depth,
    fresh,
    posting_states,
    publish_acks,
    queued_postings,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@contextmanager
def database_unreachable(url: str) -> Iterator[None]:
    """Refuse new connections to the test database and cut the open ones, until the block ends
    (run from the server's maintenance database)."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        c.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    try:
        yield
    finally:
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def test_acks_wait_while_the_database_is_unreachable_and_none_is_dead_lettered(
    make_app: Any, postgres_url: str, rabbitmq_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="procure.acks")
    fresh(postgres_url, rabbitmq_url)
    app = make_app(postgres_url)
    first, *waiting = queued_postings(app, 3)

    with ack_consumer(app.ctx, rabbitmq_url) as consumer:
        publish_acks(rabbitmq_url, answer(first))
        wait_for(lambda: posting_states(app.ctx)[first.idempotency_key] == "posted")
        with database_unreachable(postgres_url):
            publish_acks(rabbitmq_url, *(answer(p) for p in waiting))
            wait_for(lambda: "database unavailable" in caplog.text, what="a failed attempt")
            time.sleep(2)  # a few more attempts
            assert depth(rabbitmq_url, topology.ACKS_DLQ) == 0
        wait_for(
            lambda: all(posting_states(app.ctx)[p.idempotency_key] == "posted" for p in waiting),
            seconds=60,
            what="the held answers once the database is back",
        )
        assert consumer.is_alive()

    assert depth(rabbitmq_url, topology.ACKS_DLQ) == 0
    assert depth(rabbitmq_url, topology.ACKS) == 0
