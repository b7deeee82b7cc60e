"""Finance acknowledges a posting with a document number longer than procure keeps (64
characters). The acknowledgement is refused as invalid before it reaches the database: it goes
to the dead-letter queue with the reason logged, its posting stays unanswered (no InvoicePosted
with a number procure cannot store), and the consumer goes on with the next answers."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from connectors.finance import topology
from procure.domain import events as ev
from tests.integration.acks import (
    ack_consumer,
    answer,
    dead_letters,
    depth,
    fresh,
    posting_events,
    posting_states,
    publish_acks,
    queued_postings,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

OVERLONG = "FIN-" + "9" * 61  # 65 characters; the posting's column holds 64


def test_ack_with_overlong_document_number_is_dead_lettered_and_consumer_continues(
    make_app: Any, postgres_url: str, rabbitmq_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="procure.acks")
    fresh(postgres_url, rabbitmq_url)
    app = make_app(postgres_url)
    first, bad, later = queued_postings(app, 3)
    publish_acks(rabbitmq_url, answer(first), answer(bad, document_number=OVERLONG))

    with ack_consumer(app.ctx, rabbitmq_url) as consumer:
        wait_for(lambda: depth(rabbitmq_url, topology.ACKS_DLQ) == 1, what="the dead letter")
        wait_for(
            lambda: posting_states(app.ctx)[first.idempotency_key] == "posted",
            what="the good answer in the same batch",
        )
        # The consumer is still consuming: an answer sent afterwards is recorded too.
        publish_acks(rabbitmq_url, answer(later))
        wait_for(
            lambda: posting_states(app.ctx)[later.idempotency_key] == "posted",
            what="the answer sent after the bad one",
        )
        assert consumer.is_alive()

    states = posting_states(app.ctx)
    assert states[bad.idempotency_key] == "pending"  # still waiting for a usable answer
    assert posting_events(app.ctx, bad.body.invoice_id) == [ev.INVOICE_POSTING_QUEUED]
    assert depth(rabbitmq_url, topology.ACKS) == 0
    [dead] = dead_letters(rabbitmq_url)
    assert dead["idempotency_key"] == bad.idempotency_key
    assert dead["body"]["finance_document_number"] == OVERLONG
    assert "finance_document_number" in caplog.text  # the reason is in the log
