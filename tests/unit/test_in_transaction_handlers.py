"""In-transaction handlers: their writes commit or roll back with the change that caused them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from procure.domain.distribution import DistributionLine
from procure.domain.events import Event
from procure.reference.policy_file import load_policy
from procure.services.context import ServiceContext, UnitOfWork
from procure.store import migrate
from procure.store.database import Database, make_engine

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _ctx(tmp_path: Path) -> ServiceContext:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'h.db'}"))
    migrate.upgrade(db.engine)
    return ServiceContext(db=db, policy=load_policy(None))


def _count(ctx: ServiceContext, name: str) -> int:
    with ctx.db.engine.connect() as c:
        return int(
            c.execute(
                text("select count(*) from audit_event where event_name = :n"), {"n": name}
            ).scalar_one()
        )


def test_handler_events_are_written_in_the_same_transaction(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    seen: list[str] = []

    def follow_up(uow: UnitOfWork, event: Event) -> None:
        seen.append(event.entity_id)
        uow.record(Event("Second", "thing", event.entity_id, T0))

    ctx.subscribe("First", follow_up)
    ctx.subscribe("Second", lambda uow, e: seen.append("second:" + e.entity_id))
    with ctx.unit() as uow:
        uow.record(Event("First", "thing", "a", T0))
    assert seen == ["a", "second:a"]
    assert (_count(ctx, "First"), _count(ctx, "Second")) == (1, 1)


def test_a_failing_handler_rolls_back_the_change_that_caused_it(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)

    def broken(uow: UnitOfWork, event: Event) -> None:
        raise RuntimeError("outbox unavailable")

    ctx.subscribe("First", broken)
    with pytest.raises(RuntimeError), ctx.unit() as uow:
        uow.record(Event("First", "thing", "a", T0))
    assert _count(ctx, "First") == 0


def test_distribution_line_round_trips_through_event_data() -> None:
    line = DistributionLine(
        "1",
        "PO-2026-000001",
        1,
        "CC100",
        "5100",
        "S20",
        "S",
        Decimal("20"),
        Decimal("120.50"),
        "Paper A4",
    )
    assert DistributionLine.from_data(line.as_data()) == line
