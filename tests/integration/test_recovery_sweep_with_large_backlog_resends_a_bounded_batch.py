"""A big intake backlog on PostgreSQL: hundreds of invoices accepted while the matching workers
are busy. Their match messages are on the queue already; the periodic recovery sweep must not add
the whole backlog again on every run. It re-sends only work quiet for
``reconcile_after_seconds``, at most ``reconcile_max_per_sweep`` items (the oldest first), the
invoice ids batched as ``match_invoices`` takes them; whatever a sweep leaves out, a later sweep
sends, so nothing is lost."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest
from sqlalchemy import select
from sqlmodel import col

from entrypoints.demo_invoices import invoice_for_order
from procure.einvoice.ubl_writer import render_ubl
from procure.ports import NullDispatcher
from procure.services.admin import reference_data
from procure.services.intake import Received, ingest_many
from procure.services.matching import MATCH_BATCH
from procure.services.recovery import pending_work
from procure.store import tables as t
from tests.conftest import FakeClock, line, reset_postgres
from tests.scenarios.invoicing import ordered
from workers.actors import QUEUE

CAP = 250
BATCHES, PER_BATCH = 3, 150  # 450 invoices, in three batches a minute apart
QUIET = 30


@pytest.fixture
def busy_app(make_app: Any, postgres_url: str) -> Any:
    """PostgreSQL with the in-process broker, whose queue we can read; after the order is placed
    the worker stops, as if every matching thread were busy: messages stay on the queue."""
    reset_postgres(postgres_url)
    app = make_app(postgres_url, reconcile_after_seconds=QUIET, reconcile_max_per_sweep=CAP)
    app.extras["order"] = ordered(
        app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="2", unit_price="21.50")
    )
    app.worker.stop()
    app.worker = None
    app.broker.flush_all()
    return app


def take_in(app: Any, clock: FakeClock, *, lose_messages: bool = False) -> list[list[str]]:
    """Intake accepts ``BATCHES`` batches of invoices, a minute apart (the last one now);
    returns their ids."""
    order, ref = app.extras["order"], reference_data(app.ctx)
    dispatch = app.ctx.dispatch
    if lose_messages:
        app.ctx.dispatch = NullDispatcher()
    taken: list[list[str]] = []
    for b in range(BATCHES):
        if b:
            clock.advance(minutes=1)
        received = []
        for i in range(PER_BATCH):
            number = f"BKL-{b}-{i:04d}"
            doc = invoice_for_order(order, ref, number=number, issued=clock.today)
            received.append(Received(render_ubl(doc), filename=f"{number}.xml"))
        results = ingest_many(app.ctx, received)
        assert {r.status for r in results} == {"accepted"}
        taken.append([r.id for r in results])
    app.ctx.dispatch = dispatch
    return taken


def queued(app: Any) -> list[dramatiq.Message[Any]]:
    """The messages waiting on the queue, oldest first (read, not taken)."""
    return [dramatiq.Message.decode(m) for m in list(app.broker.queues[QUEUE].queue)]


def periodic_sweep(app: Any) -> list[dramatiq.Message[Any]]:
    """What a worker does with the runner's periodic ``reconcile`` message; returns the
    messages it added to the queue."""
    before = len(queued(app))
    app.actors.reconcile(app.settings.reconcile_after_seconds)
    return queued(app)[before:]


def match_ids(messages: list[dramatiq.Message[Any]]) -> list[str]:
    assert {m.actor_name for m in messages} <= {"match_invoices"}
    assert all(1 <= len(m.args[0]) <= MATCH_BATCH for m in messages)
    return [i for m in messages for i in m.args[0]]


def test_each_sweep_over_a_big_backlog_resends_only_the_oldest_few_in_batches(busy_app, clock):
    app = busy_app
    batches = take_in(app, clock)
    on_the_queue = queued(app)
    assert len(match_ids(on_the_queue)) == BATCHES * PER_BATCH  # intake's own messages

    # The last batch came in just now: it is not quiet yet, and of the two quiet ones the sweep
    # re-sends CAP invoices, the oldest first.
    ids = match_ids(periodic_sweep(app))
    assert len(ids) == CAP, "a sweep re-sends a bounded number of invoices"
    assert set(batches[0]) <= set(ids) <= set(batches[0]) | set(batches[1])

    # Five minutes on, the whole backlog is quiet and still undecided; each sweep re-sends CAP
    # of it again (not all of it), in as few messages as match_invoices takes.
    clock.advance(minutes=5)
    for _ in range(2):
        sent = periodic_sweep(app)
        ids = match_ids(sent)
        assert len(ids) == len(set(ids)) == CAP
        assert set(batches[0]) <= set(ids) <= set(batches[0]) | set(batches[1])
        assert len(sent) == -(-CAP // MATCH_BATCH)
    assert len(match_ids(queued(app))) == BATCHES * PER_BATCH + 3 * CAP

    # The workers free up: the backlog and the duplicates are all decided, nothing is left.
    app.drain(fail_fast=True)
    assert pending_work(app.ctx).total == 0
    assert periodic_sweep(app) == []


def test_work_a_capped_sweep_leaves_out_is_sent_by_a_later_sweep(busy_app, clock):
    app = busy_app
    batches = take_in(app, clock, lose_messages=True)  # intake's messages were all lost
    assert queued(app) == []
    clock.advance(minutes=5)

    sweeps = 0
    while pending_work(app.ctx).total and sweeps < 10:
        ids = match_ids(periodic_sweep(app))
        assert 0 < len(ids) <= CAP
        app.drain(fail_fast=True)
        app.worker.stop()
        app.worker = None
        sweeps += 1
    assert pending_work(app.ctx).total == 0
    assert sweeps == -(-BATCHES * PER_BATCH // CAP)
    with app.db.reading() as s:
        decided = set(s.scalars(select(col(t.InvoiceMatchRow.invoice_id))))
    assert {i for b in batches for i in b} <= decided


def test_a_worker_start_up_resends_everything_pending_in_batches(busy_app, clock):
    app = busy_app
    batches = take_in(app, clock, lose_messages=True)

    assert app.recover() == BATCHES * PER_BATCH  # at start: all of it, quiet or not
    sent = queued(app)
    assert sorted(match_ids(sent)) == sorted(i for b in batches for i in b)
    assert len(sent) == -(-BATCHES * PER_BATCH // MATCH_BATCH)
