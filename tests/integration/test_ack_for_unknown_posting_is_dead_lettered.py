"""Finance answers a posting procure has no record of (an idempotency key it never sent, e.g.
after a restore or from another environment). The answer is not acked away and lost: it goes
to the dead-letter queue with the reason logged, where an operator can see it and replay it;
the known answers delivered with it are recorded as usual."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from connectors.finance import topology
from tests.integration.acks import (
    ack_consumer,
    answer,
    dead_letters,
    depth,
    fresh,
    posting_states,
    publish_acks,
    queued_postings,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

STRANGER = "ap.post:00000000-0000-4000-8000-000000000000:1"


def test_ack_for_unknown_posting_is_dead_lettered(
    make_app: Any, postgres_url: str, rabbitmq_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="procure.acks")
    fresh(postgres_url, rabbitmq_url)
    app = make_app(postgres_url)
    known, rejected = queued_postings(app, 2)
    publish_acks(
        rabbitmq_url,
        answer(known),
        answer(known, idempotency_key=STRANGER),
        answer(rejected, status="rejected", reason="supplier account is on hold"),
    )

    with ack_consumer(app.ctx, rabbitmq_url) as consumer:
        wait_for(lambda: depth(rabbitmq_url, topology.ACKS_DLQ) == 1, what="the dead letter")
        wait_for(
            lambda: (
                posting_states(app.ctx)
                == {known.idempotency_key: "posted", rejected.idempotency_key: "rejected"}
            ),
            what="the known answers",
        )
        assert consumer.is_alive()

    assert depth(rabbitmq_url, topology.ACKS) == 0
    [dead] = dead_letters(rabbitmq_url)
    assert dead["idempotency_key"] == STRANGER
    assert STRANGER in caplog.text and "unknown" in caplog.text
