"""The acknowledgement consumer's decisions for one batch, with a stand-in channel: a batch the
database refuses is recorded one by one and only the answer that fails is dead-lettered; while
the database is unreachable nothing is dead-lettered, even in the middle of that one-by-one
pass; stopping then leaves the undecided answers unsettled for RabbitMQ to deliver again."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from procure.messages import AckBody, Acknowledgement, encode
from procure.services.posting import AcksRecorded
from workers import ack_consumer


@dataclass
class Connection:
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@dataclass
class Channel:
    connection: Connection = field(default_factory=Connection)
    acked: list[tuple[int, bool]] = field(default_factory=list)
    rejected: list[tuple[int, bool]] = field(default_factory=list)

    def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self.acked.append((tag, multiple))

    def basic_reject(self, tag: int, requeue: bool = True) -> None:
        self.rejected.append((tag, requeue))


@dataclass
class Deliver:
    delivery_tag: int


def answer(n: int) -> Acknowledgement:
    return Acknowledgement(
        message_id=f"a-{n}",
        idempotency_key=f"ap.post:inv-{n}:1",
        correlation_id=f"inv-{n}",
        occurred_at=datetime(2026, 12, 1, 9, 5, tzinfo=UTC),
        in_reply_to=f"m-{n}",
        body=AckBody(
            invoice_id=f"inv-{n}", status="posted", finance_document_number=f"AP-{n}", reason=None
        ),
    )


def deliveries(*numbers: int) -> list[tuple[Any, bytes]]:
    return [(Deliver(n), encode(answer(n))) for n in numbers]


LOST = OperationalError("UPDATE posting", {}, Exception("server closed the connection"))
REFUSED = IntegrityError("UPDATE posting", {}, Exception("violates check constraint\nDETAIL: x"))


REFUSED_KEY = "ap.post:inv-2:1"
LOST_KEY = "ap.post:inv-4:1"


class Database:
    """``record_acknowledgements`` as scripted: a batch holding ``REFUSED_KEY`` is refused, and
    ``LOST_KEY`` recorded on its own first finds the connection lost ``lost`` times (setting
    ``stop`` if given, as if the worker were told to stop meanwhile)."""

    def __init__(self, lost: int, stop: threading.Event | None = None) -> None:
        self.lost = lost
        self.stop = stop
        self.recorded: list[str] = []

    def __call__(self, _ctx: Any, acks: Sequence[Acknowledgement]) -> AcksRecorded:
        keys = [a.idempotency_key for a in acks]
        if keys == [LOST_KEY] and self.lost:
            self.lost -= 1
            if self.stop is not None:
                self.stop.set()
            raise LOST
        if REFUSED_KEY in keys:
            raise REFUSED
        self.recorded += keys
        return AcksRecorded(changed=len(keys))


def test_only_the_refused_answer_is_dead_lettered_and_a_lost_connection_is_waited_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = Database(lost=2)
    monkeypatch.setattr(ack_consumer, "record_acknowledgements", database)
    channel = Channel()
    unreadable = (Deliver(3), b"{not json")

    ack_consumer._record(
        None, channel, [*deliveries(1, 2), unreadable, *deliveries(4, 5)], threading.Event()
    )

    assert database.recorded == ["ap.post:inv-1:1", LOST_KEY, "ap.post:inv-5:1"]
    assert channel.rejected == [(3, False), (2, False)]  # unreadable at once, refused after
    assert channel.acked == [(5, True)]  # after the rejections: acks 1, 4 and 5
    assert channel.connection.slept == [1.0, 2.0]  # held and retried, not dead-lettered


def test_stopping_while_the_database_is_unreachable_settles_only_what_was_decided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stop = threading.Event()
    monkeypatch.setattr(ack_consumer, "record_acknowledgements", Database(lost=1, stop=stop))
    channel = Channel()

    ack_consumer._record(None, channel, deliveries(1, 2, 4, 5), stop)

    assert channel.rejected == [(2, False)]
    assert channel.acked == [(1, True)]  # 4 and 5 neither acked nor rejected: delivered again
