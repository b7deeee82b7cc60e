"""``procure bench posting``: the finance path's speed, beside a plain pika loop in the same run.

Figures (medians of ``runs`` after a warm-up run):

- ``relay_messages_per_second``: the outbox relay as ``procure relay`` runs it (claim with SKIP
  LOCKED, validate, publish the batch of 500 with asynchronous confirms, mark published, one
  transaction per batch) draining ``count`` posting messages into the quorum queue, beside
  ``plain_pika_confirm_loop_messages_per_second``: a plain loop publishing the same bodies with
  ``confirm_delivery`` one by one, persistent and mandatory, to a quorum queue with the same
  arguments (the anchor); and ``relay_one_by_one_confirms_messages_per_second``, the relay with
  pika's blocking one-by-one confirms, beside the same anchor;
- ``posting_end_to_end_invoices_per_second``: ``count`` invoices from ``InvoiceMatched`` (the
  matching stand-in, in batches of 500) to posted-and-acknowledged, through ``procure relay``
  and ``procure finance receive`` running as their own processes on PostgreSQL + RabbitMQ.

Needs PostgreSQL and RabbitMQ: ``PROCURE_BENCH_DATABASE_URL`` (default database
``procure_bench_posting``, recreated) and ``PROCURE_BENCH_BROKER_URL`` (its finance queues are
deleted and declared again).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from sqlalchemy import text, update

from benchmarks.report import emit, figure
from connectors.finance import topology
from connectors.finance.settings import FinanceSettings
from procure.settings import Settings

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/procure_bench_posting"
AMQP_DEFAULT = "amqp://guest:guest@127.0.0.1:5672/%2F"
PLAIN_QUEUE = "bench.posting.plain"


def _reset_database(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        exists = c.execute(
            text("select 1 from pg_database where datname = :n"), {"n": u.database}
        ).first()
        if not exists:
            c.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _fresh_queues(url: str) -> None:
    connection = topology.connect(url)
    channel = connection.channel()
    for q in (
        topology.POSTINGS,
        topology.POSTINGS_DLQ,
        topology.ACKS,
        topology.ACKS_DLQ,
        PLAIN_QUEUE,
    ):
        channel.queue_delete(q)
    topology.declare(channel)
    channel.queue_declare(
        PLAIN_QUEUE,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": topology.DELIVERY_LIMIT,
            "x-overflow": "reject-publish",
        },
    )
    connection.close()


def _purge(url: str, *queues: str) -> None:
    connection = topology.connect(url)
    channel = connection.channel()
    for q in queues:
        channel.queue_purge(q)
    connection.close()


def _plain_loop(url: str, bodies: list[bytes]) -> float:
    import pika

    connection = topology.connect(url)
    channel = connection.channel()
    channel.confirm_delivery()
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        channel.basic_publish(
            "",
            PLAIN_QUEUE,
            body,
            properties=pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent, message_id=str(i)
            ),
            mandatory=True,
        )
    elapsed = time.perf_counter() - start
    connection.close()
    return len(bodies) / elapsed


def _app(pg_url: str, finance_url: str) -> Any:
    from procure.reference.council_file import load_council
    from procure.services.admin import load_reference_data
    from workers.bootstrap import bootstrap

    app = bootstrap(
        Settings(database_url=pg_url, broker_url="embedded"),
        migrate_schema=True,
        finance_settings=FinanceSettings(database_url=finance_url),
    )
    load_reference_data(app.ctx, load_council(None), source="sample")
    return app


def _relay_rate(app: Any, amqp: str, publisher: Any) -> float:
    from procure.services.outbox import relay_once
    from procure.store import tables as t

    _purge(amqp, topology.POSTINGS, PLAIN_QUEUE)
    with app.db.transaction() as s:
        s.execute(update(t.OutboxRow).values(published_at=None, attempts=0))
    publisher.publish([])  # connect outside the timing
    start = time.perf_counter()
    sent = 0
    while (n := relay_once(app.ctx, publisher, batch=500).published) > 0:
        sent += n
    rate = sent / (time.perf_counter() - start)
    publisher.close()
    return rate


def relay_figures(app: Any, amqp: str, ids: list[str], runs: int) -> None:
    from sqlalchemy import select
    from sqlmodel import col

    from benchmarks.matching_standin import record_matched_standin
    from connectors.finance.confirms import AsyncConfirmPublisher
    from procure.store import tables as t
    from workers.relay import PikaPublisher

    for i in range(0, len(ids), 500):
        record_matched_standin(app.ctx, ids[i : i + 500])
    with app.db.reading() as s:
        bodies = [p.encode() for p in s.scalars(select(col(t.OutboxRow.payload)))]
    relay: list[float] = []
    one_by_one: list[float] = []
    plain: list[float] = []
    for run in range(runs + 1):
        rates = [
            _relay_rate(app, amqp, AsyncConfirmPublisher(amqp)),
            _relay_rate(app, amqp, PikaPublisher(amqp)),
            _plain_loop(amqp, bodies),
        ]
        if run:  # the first run warms up
            relay.append(rates[0])
            one_by_one.append(rates[1])
            plain.append(rates[2])
    _purge(amqp, topology.POSTINGS, PLAIN_QUEUE)
    anchor = "plain_pika_confirm_loop_messages_per_second"
    emit(figure(anchor, plain, "messages/s"))
    emit(
        figure(
            "relay_messages_per_second", relay, "messages/s", anchor=anchor, anchor_samples=plain
        )
    )
    emit(
        figure(
            "relay_one_by_one_confirms_messages_per_second",
            one_by_one,
            "messages/s",
            anchor=anchor,
            anchor_samples=plain,
        )
    )
    with app.db.transaction() as s:  # the relay figures' postings are not part of end to end
        s.execute(text("DELETE FROM outbox"))
        s.execute(text("DELETE FROM posting"))


def end_to_end(
    app: Any, pg_url: str, finance_url: str, amqp: str, ids: list[str], count: int, runs: int
) -> list[float]:
    from benchmarks.matching_standin import record_matched_standin
    from procure.services.posting import posting_counts

    env = {
        **os.environ,
        "PROCURE_DATABASE_URL": pg_url,
        "PROCURE_BROKER_URL": amqp,
        "PROCURE_FINANCE_DATABASE_URL": finance_url,
        "PROCURE_FINANCE_BROKER_URL": amqp,
    }
    procure = [sys.executable, "-m", "entrypoints.cli"]
    with tempfile.TemporaryFile() as log:
        procs = [
            subprocess.Popen([*procure, "relay"], env=env, stdout=log, stderr=log),
            subprocess.Popen([*procure, "finance", "receive"], env=env, stdout=log, stderr=log),
        ]
        try:
            time.sleep(3)  # both connect and declare
            samples: list[float] = []
            for run in range(runs + 1):
                chunk = ids[run * count : (run + 1) * count]
                before = posting_counts(app.ctx).get("posted", 0)
                start = time.perf_counter()
                for i in range(0, len(chunk), 500):
                    record_matched_standin(app.ctx, chunk[i : i + 500])
                deadline = time.monotonic() + 300
                while posting_counts(app.ctx).get("posted", 0) < before + len(chunk):
                    if time.monotonic() > deadline:
                        raise SystemExit("end to end: postings did not settle in 300 s")
                    time.sleep(0.02)
                if run:
                    samples.append(len(chunk) / (time.perf_counter() - start))
            return samples
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)


def main(*, count: int = 1000, runs: int = 3) -> None:
    pg_url = Settings(
        database_url=os.environ.get("PROCURE_BENCH_DATABASE_URL", PG_DEFAULT)
    ).database_url
    amqp = os.environ.get("PROCURE_BENCH_BROKER_URL", AMQP_DEFAULT)
    _reset_database(pg_url)
    _fresh_queues(amqp)
    finance_url = pg_url  # finance's tables have their own names; a real finance has its own DB
    app = _app(pg_url, finance_url)
    try:
        from benchmarks.matching_standin import ingest_invoices_for, stationery_order

        po = stationery_order(app)
        ids = ingest_invoices_for(app, po, count * (runs + 2), credit_every=10)
        relay_figures(app, amqp, ids[:count], runs)
        samples = end_to_end(app, pg_url, finance_url, amqp, ids[count:], count, runs)
        emit(figure("posting_end_to_end_invoices_per_second", samples, "invoices/s"))
    finally:
        app.close()
