"""``procure bench requisitions``: requisitions/s from submit to approval tasks created.

Measured on PostgreSQL + RabbitMQ (real dramatiq workers consuming from RabbitMQ) and on the
embedded default (SQLite + in-process broker). The anchor is PostgreSQL's single-row commit
rate on the same machine (one INSERT + COMMIT per round trip), measured in the same run.
Each figure is the median of ``runs`` measured runs after one warm-up run.

Environment: PROCURE_BENCH_DATABASE_URL (default: database ``procure_bench`` on the local
PostgreSQL, created if missing), PROCURE_BENCH_BROKER_URL (default: local RabbitMQ).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.report import emit, figure
from procure.domain.reference import Person, ReferenceData
from procure.domain.requisition import RequisitionDraft, RequisitionLine
from procure.reference.council_file import load_council
from procure.services import requisitions
from procure.services.admin import load_reference_data
from procure.settings import Settings
from procure.store import migrate
from procure.store import tables as t
from workers.bootstrap import App, bootstrap

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/procure_bench"
AMQP_DEFAULT = "amqp://guest:guest@127.0.0.1:5672/%2F"
BATCH = 500

# Cost centres, suppliers and categories, so routing does real policy work (bands, ICT rule).
MIX = [
    ("CC-FAC", "SUP-0002", "4010", "STATIONERY", "12.40"),
    ("CC-LEI", "SUP-0005", "4600", "CLEANING", "95.00"),
    ("CC-HSG", "SUP-0007", "4500", "FACILITIES", "640.00"),
    ("CC-FLT", "SUP-0008", "4700", "FLEET", "1.45"),
    ("CC-ICT", "SUP-0001", "4200", "ICT", "899.00"),
]
# A council of thousands of orders a year has hundreds of requisitioners, not five: the bench
# adds synthetic ones to the sample council so anti-splitting sees a realistic spread.
REQUESTERS = 400


def bench_council() -> ReferenceData:
    ref = load_council(None)
    people = dict(ref.people)
    for i in range(REQUESTERS):
        pid = f"bench.r{i:04d}"
        people[pid] = Person(
            id=pid,
            name=f"Bench Requester {i}",
            email=f"{pid}@example.org",
            roles=frozenset({"requisitioner"}),
            approval_limit=Decimal(0),
            line_manager_id="e.walsh",
        )
    return replace(ref, people=people)


def drafts(n: int, seed: int) -> list[RequisitionDraft]:
    out = []
    need_by = date.today() + timedelta(days=60)
    for i in range(n):
        cc, sup, gl, cat, price = MIX[(i + seed) % len(MIX)]
        who = f"bench.r{(i * 7 + seed * 13) % REQUESTERS:04d}"
        out.append(
            RequisitionDraft(
                requester_id=who,
                cost_centre=cc,
                supplier_id=sup,
                need_by=need_by,
                justification="Benchmark requisition",
                lines=(
                    RequisitionLine(
                        1, "Item one", Decimal(1 + i % 7), "C62", Decimal(price), "S", gl, cat
                    ),
                    RequisitionLine(
                        2, "Item two", Decimal(2), "C62", Decimal("3.10"), "S", gl, cat
                    ),
                ),
            )
        )
    return out


def ensure_database(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        exists = c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database})
        if not exists:
            c.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


def reset_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def fresh_app(database_url: str, broker_url: str) -> App:
    if database_url.startswith("postgresql"):
        reset_schema(database_url)
    app = bootstrap(
        Settings(database_url=database_url, broker_url=broker_url), migrate_schema=False
    )
    migrate.upgrade(app.db.engine)
    load_reference_data(app.ctx, bench_council(), source="sample + bench requisitioners")
    return app


def open_tasks(app: App) -> int:
    with app.db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(t.ApprovalTaskRow)) or 0)


def one_run(app: App, n: int, seed: int) -> float:
    """Seconds from the first submit until every requisition has its approval task."""
    batch = drafts(n, seed)
    before = open_tasks(app)
    start = time.perf_counter()
    for i in range(0, n, BATCH):
        requisitions.submit_many(app.ctx, batch[i : i + BATCH])
    if app.embedded:
        app.drain()
    while open_tasks(app) - before < n:
        time.sleep(0.02)
    return time.perf_counter() - start


def measure(
    database_url: str, broker_url: str, n: int, runs: int, threads: int, processes: int = 0
) -> list[float]:
    """Submit from this process; route in ``processes`` separate ``procure worker`` processes
    (as deployed: API and workers apart), or in-process worker threads when 0."""
    app = fresh_app(database_url, broker_url)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        if not app.embedded:
            app.broker.declare_queue("procure")
            app.broker.flush_all()
        if processes and not app.embedded:
            env = {
                **os.environ,
                "PROCURE_DATABASE_URL": database_url,
                "PROCURE_BROKER_URL": broker_url,
            }
            workers = [
                subprocess.Popen(
                    [sys.executable, "-m", "entrypoints.cli", "worker", "--threads", str(threads)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(processes)
            ]
        else:
            app.start_worker(threads)
        one_run(app, n, seed=99)  # warm-up (also waits for the workers to be up)
        return [n / one_run(app, n, seed=r) for r in range(runs)]
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        app.close()


def commit_rate(url: str, commits: int = 2000) -> float:
    engine = create_engine(url)
    with engine.connect() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial primary key, v int)"))
        c.commit()
        start = time.perf_counter()
        for i in range(commits):
            c.execute(text("INSERT INTO bench_commit (v) VALUES (:v)"), {"v": i})
            c.commit()
        elapsed = time.perf_counter() - start
        c.execute(text("DROP TABLE bench_commit"))
        c.commit()
    engine.dispose()
    return commits / elapsed


def main(*, count: int, runs: int, embedded: bool, postgres: bool) -> None:
    pg_url = Settings(
        database_url=os.environ.get("PROCURE_BENCH_DATABASE_URL", PG_DEFAULT)
    ).database_url
    amqp = os.environ.get("PROCURE_BENCH_BROKER_URL", AMQP_DEFAULT)
    anchor: list[float] = []
    if postgres:
        ensure_database(pg_url)
        commit_rate(pg_url, 300)  # warm-up
        anchor = [commit_rate(pg_url) for _ in range(runs)]
        emit(figure("postgres_single_row_commits_per_second", anchor, "commits/s"))
        samples = measure(pg_url, amqp, count, runs, threads=1, processes=2)
        emit(
            figure(
                "requisitions_submit_to_tasks_postgres_rabbitmq",
                samples,
                "requisitions/s",
                anchor="postgres_single_row_commits_per_second",
                anchor_samples=anchor,
            )
        )
    if embedded:
        with tempfile.TemporaryDirectory() as tmp:
            samples = measure(f"sqlite:///{tmp}/bench.db", "embedded", count, runs, threads=1)
        record: dict[str, Any] = figure(
            "requisitions_submit_to_tasks_embedded",
            samples,
            "requisitions/s",
            anchor="postgres_single_row_commits_per_second" if anchor else None,
            anchor_samples=anchor or None,
        )
        emit(record)
