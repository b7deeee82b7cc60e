"""An acknowledgement that is valid by the schema but that PostgreSQL refuses when it is
recorded (here a check constraint the test adds; in life a value the schema let through, a
trigger, a constraint added later) fails only itself: it is dead-lettered with the database's
reason logged, the answers delivered in the same batch are recorded one by one, and the consumer
keeps consuming."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import create_engine, text

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


def refuse_document_numbers_starting_with_refused(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "ALTER TABLE posting ADD CONSTRAINT test_refused_document_number "
                "CHECK (finance_document_number NOT LIKE 'REFUSED%')"
            )
        )
    engine.dispose()


def test_ack_the_database_refuses_is_dead_lettered_and_the_rest_of_its_batch_is_recorded(
    make_app: Any, postgres_url: str, rabbitmq_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="procure.acks")
    fresh(postgres_url, rabbitmq_url)
    app = make_app(postgres_url)
    before, refused, after, later = queued_postings(app, 4)
    refuse_document_numbers_starting_with_refused(postgres_url)
    publish_acks(
        rabbitmq_url,
        answer(before),
        answer(refused, document_number="REFUSED-1"),
        answer(after, status="rejected", reason="cost centre closed"),
    )

    with ack_consumer(app.ctx, rabbitmq_url) as consumer:
        wait_for(lambda: depth(rabbitmq_url, topology.ACKS_DLQ) == 1, what="the dead letter")
        wait_for(
            lambda: (
                posting_states(app.ctx)[before.idempotency_key] == "posted"
                and posting_states(app.ctx)[after.idempotency_key] == "rejected"
            ),
            what="the rest of the batch",
        )
        publish_acks(rabbitmq_url, answer(later))
        wait_for(
            lambda: posting_states(app.ctx)[later.idempotency_key] == "posted",
            what="the answer sent afterwards",
        )
        assert consumer.is_alive()

    assert posting_states(app.ctx)[refused.idempotency_key] == "pending"
    assert posting_events(app.ctx, refused.body.invoice_id) == [ev.INVOICE_POSTING_QUEUED]
    assert depth(rabbitmq_url, topology.ACKS) == 0
    [dead] = dead_letters(rabbitmq_url)
    assert dead["idempotency_key"] == refused.idempotency_key
    assert "test_refused_document_number" in caplog.text  # the database's reason is logged
