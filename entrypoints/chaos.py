"""``procure chaos --invoices N``: the finance path under faults, proven by counting.

Drives N supplier documents through the real pipeline on PostgreSQL + RabbitMQ. Before the
faults, ``entrypoints.chaos_feed.prepare_documents`` writes N/(1 + 1/credit_every) purchase orders
with their goods receipts (in bulk) and renders one invoice per order plus credit notes for
earlier invoices, all of which match cleanly. Then four processes run:

- the feeder (``entrypoints.chaos_feed``): intake, a batch at a time; each ``InvoiceAccepted``
  becomes a ``match_invoices`` message on RabbitMQ;
- ``procure worker``: the real dramatiq worker and actors; ``match_invoices`` matches the invoice
  (3-way, with the match ledger) and, in the same transaction, writes the posting and its outbox
  row; its reconcile sweep re-sends matching that a lost message left undone;
- ``procure relay`` and ``procure finance receive``.

While they run, at random moments (``--seed``), it SIGKILLs one of them (and starts it again),
stops and starts RabbitMQ's app (``rabbitmqctl stop_app`` / ``start_app``) and restarts
PostgreSQL immediately (``pg_ctlcluster … restart -m immediate``). Then it stops the faults,
waits for everything to settle (every document received and matched, every posting settled,
every outbox row acknowledged) and prints one JSON object:

    attempted   documents driven in (invoices and credit notes)
    published   postings RabbitMQ confirmed at least once
    posted      postings finance acknowledged as posted
    lost        documents without exactly one ledger journal (or not matched, or not posted)
    duplicated  ledger journals beyond one per invoice
    double_matched  invoices matched more than once (more than one ``InvoiceMatched`` event, or
                more than one unreversed match-ledger row for an invoice line)
    redelivered deliveries the receiver saw marked redelivered, or answered from its inbox
    recovered   faults injected and recovered from (the pipeline settled after them)
    seconds_to_settle  from the last fault to settled

Exit status 0 only if lost, duplicated and double_matched are all 0 (and it settled).

Targets are options (or ``PROCURE_CHAOS_*``), so that development can use a private
PostgreSQL cluster and RabbitMQ node: ``--pg-cluster "15 chaos"``, ``--rabbit-node
chaos@localhost`` and URLs on their ports. Defaults are the main services (CI).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from connectors.finance import topology

T = TypeVar("T")
PROCURE = [sys.executable, "-m", "entrypoints.cli"]


@dataclass
class Targets:
    database_url: str
    finance_url: str
    broker_url: str
    pg_cluster: str
    rabbit_node: str


def _retry(what: Callable[[], T], seconds: float = 120) -> T:
    """Run ``what`` until it stops failing on a database that is restarting."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return what()
        except (DBAPIError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _recreate_database(url: str) -> None:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()


DRAMATIQ_QUEUES = ("procure", "procure.DQ", "procure.XQ")


def _fresh_queues(url: str) -> None:
    connection = topology.connect(url)
    channel = connection.channel()
    for q in (topology.POSTINGS, topology.POSTINGS_DLQ, topology.ACKS, topology.ACKS_DLQ):
        channel.queue_delete(q)
    for q in DRAMATIQ_QUEUES:  # matching messages of an earlier run name other databases' ids
        channel.queue_delete(q)
    topology.declare(channel)
    connection.close()


def prepare(targets: Targets, invoices: int, credit_every: int, folder: Path) -> int:
    """A fresh pipeline database with the book of orders; the documents in ``folder``.
    Returns how many purchase orders."""
    from connectors.finance.settings import FinanceSettings
    from entrypoints.chaos_feed import prepare_documents
    from procure.reference.council_file import load_council
    from procure.services.admin import load_reference_data
    from procure.settings import Settings
    from workers.bootstrap import bootstrap

    _recreate_database(targets.database_url)
    _recreate_database(targets.finance_url)
    _fresh_queues(targets.broker_url)
    app = bootstrap(
        Settings(database_url=targets.database_url, broker_url="embedded"),
        migrate_schema=True,
        finance_settings=FinanceSettings(database_url=targets.finance_url),
    )
    try:
        load_reference_data(app.ctx, load_council(None), source="sample")
        docs = prepare_documents(app, invoices, credit_every, folder)
        return sum(1 for d in docs if d.credits is None)
    finally:
        app.close()


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: IO[bytes]
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    finishes: bool = False
    """A process that exits 0 when its work is done (the feeder): not started again then."""

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self.log, stderr=self.log)
        self.starts += 1

    @property
    def finished(self) -> bool:
        return self.finishes and self.proc is not None and self.proc.poll() == 0

    def ensure_running(self) -> None:
        if self.proc is None or (self.proc.poll() is not None and not self.finished):
            self.start()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Chaos:
    targets: Targets
    rng: random.Random
    processes: dict[str, Process]
    faults: Counter[str] = field(default_factory=Counter)

    def _run(self, argv: list[str]) -> None:
        """A service command, tried again (a start must not be skipped and leave it down)."""
        for attempt in range(5):
            try:
                subprocess.run(argv, check=True, capture_output=True, timeout=120)
                return
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                print(f"chaos: {' '.join(argv)} failed ({exc}); again", file=sys.stderr)
                time.sleep(2 * (attempt + 1))
        raise SystemExit(f"chaos: {' '.join(argv)} kept failing; the service may be down")

    def inject(self) -> None:
        kind = self.rng.choice(
            [
                *("kill:feeder", "kill:worker", "kill:worker", "kill:relay"),
                *("kill:receiver", "kill:receiver", "rabbitmq", "postgres"),
            ]
        )
        if kind.startswith("kill:"):
            p = self.processes[kind.removeprefix("kill:")]
            if p.finished:
                return
            p.kill()
            time.sleep(self.rng.uniform(0.1, 1.0))
            p.start()
        elif kind == "rabbitmq":
            self._run(["rabbitmqctl", "-n", self.targets.rabbit_node, "stop_app"])
            time.sleep(self.rng.uniform(1.0, 4.0))
            self._run(["rabbitmqctl", "-n", self.targets.rabbit_node, "start_app"])
        else:
            version, cluster = self.targets.pg_cluster.split()
            restart = ["restart", "-m", "immediate"]
            self._run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, *restart])
        self.faults[kind] += 1


def _count(url: str, sql: str) -> int:
    def go() -> int:
        engine = create_engine(url)
        try:
            with engine.connect() as c:
                return int(c.execute(text(sql)).scalar_one())
        finally:
            engine.dispose()

    return _retry(go)


def _ids(url: str, sql: str) -> list[str]:
    def go() -> list[str]:
        engine = create_engine(url)
        try:
            with engine.connect() as c:
                return [str(x) for x in c.execute(text(sql)).scalars()]
        finally:
            engine.dispose()

    return _retry(go)


def _settled(t: Targets, invoices: int) -> bool:
    matched = _count(t.database_url, "SELECT count(*) FROM invoice_match WHERE state = 'matched'")
    if matched < invoices:
        return False
    settled_postings = _count(
        t.database_url, "SELECT count(*) FROM posting WHERE state IN ('posted', 'rejected')"
    )
    open_outbox = _count(
        t.database_url, "SELECT count(*) FROM outbox WHERE acknowledged_at IS NULL"
    )
    return settled_postings >= invoices and open_outbox == 0


def _redelivered(log_dir: Path) -> int:
    total = 0
    for f in log_dir.glob("receiver*.log"):
        for line in f.read_text(errors="replace").splitlines():
            if "receiver: batch of" in line:
                parts = line.split("redelivered ")[1].split(", repeats answered from the inbox ")
                total += max(int(parts[0]), int(parts[1]))
    return total


def run_chaos(
    *,
    invoices: int,
    targets: Targets,
    duration: float,
    fault_every: tuple[float, float],
    settle_timeout: float,
    seed: int,
    resend_after: int,
    credit_every: int = 7,
    reconcile_every: int = 10,
    reconcile_after: int = 30,
) -> int:
    rng = random.Random(seed)
    log_dir = Path(tempfile.mkdtemp(prefix="procure-chaos-"))
    docs_dir = log_dir / "documents"
    docs_dir.mkdir()
    print(f"chaos: preparing {invoices} documents …", file=sys.stderr, flush=True)
    orders = prepare(targets, invoices, credit_every, docs_dir)
    print(f"chaos: {orders} orders with receipts, {invoices} documents", file=sys.stderr)
    env = {
        **os.environ,
        "PROCURE_DATABASE_URL": targets.database_url,
        "PROCURE_BROKER_URL": targets.broker_url,
        "PROCURE_FINANCE_DATABASE_URL": targets.finance_url,
        "PROCURE_FINANCE_BROKER_URL": targets.broker_url,
        "PROCURE_POSTING_RESEND_AFTER_SECONDS": str(resend_after),
        # The worker's sweep re-sends matching left undone (a message lost with RabbitMQ down).
        "PROCURE_ESCALATION_SWEEP_SECONDS": str(reconcile_every),
        "PROCURE_RECONCILE_AFTER_SECONDS": str(reconcile_after),
    }
    batch = max(5, int(invoices / max(1.0, duration) / 2))  # two batches a second → ~duration
    backlog = max(200, 4 * batch)  # the feeder waits while more than this wait for matching
    logs: list[IO[bytes]] = []

    def process(name: str, argv: list[str], finishes: bool = False) -> Process:
        log = (log_dir / f"{name}.log").open("ab")
        logs.append(log)
        return Process(name, argv, env, log, finishes=finishes)

    feeder = [
        sys.executable,
        "-m",
        "entrypoints.chaos_feed",
        str(docs_dir),
        str(batch),
        "0.5",
        str(backlog),
    ]
    processes = {
        "feeder": process("feeder", feeder, finishes=True),
        "worker": process("worker", [*PROCURE, "worker"]),
        "relay": process("relay", [*PROCURE, "relay"]),
        "receiver": process("receiver", [*PROCURE, "finance", "receive"]),
    }
    chaos = Chaos(targets, rng, processes)
    for p in processes.values():
        p.start()
    started = time.monotonic()
    print(f"chaos: faults for {duration:.0f}s; logs in {log_dir}", file=sys.stderr, flush=True)
    try:
        while time.monotonic() - started < duration:
            time.sleep(rng.uniform(*fault_every))
            for p in processes.values():
                p.ensure_running()
            chaos.inject()
        faults_over = time.monotonic()
        settled = False
        while time.monotonic() - faults_over < settle_timeout:
            for p in processes.values():
                p.ensure_running()
            if _settled(targets, invoices):
                settled = True
                break
            time.sleep(1.0)
        seconds_to_settle = time.monotonic() - faults_over
    finally:
        for p in processes.values():
            p.stop()
        for log in logs:
            log.close()
    result = _result(targets, invoices, chaos, settled, seconds_to_settle, log_dir)
    print(json.dumps(result))
    ok = settled and result["lost"] == result["duplicated"] == result["double_matched"] == 0
    return 0 if ok else 1


DOUBLE_MATCHED = """
SELECT count(DISTINCT invoice_id) FROM (
  SELECT entity_id AS invoice_id FROM audit_event WHERE event_name = 'InvoiceMatched'
  GROUP BY entity_id HAVING count(*) > 1
  UNION ALL
  SELECT invoice_id FROM match_ledger WHERE reverses IS NULL
  GROUP BY invoice_id, invoice_line_id HAVING count(*) > 1
) twice
"""


def _result(
    t: Targets,
    invoices: int,
    chaos: Chaos,
    settled: bool,
    seconds: float,
    log_dir: Path,
) -> dict[str, Any]:
    db, fin = t.database_url, t.finance_url
    posted_ids = set(_ids(db, "SELECT invoice_id FROM posting WHERE state = 'posted'"))
    journal_ids = _ids(fin, "SELECT invoice_id FROM ledger_journal")
    in_ledger = set(journal_ids)
    posted = len(posted_ids)
    from connectors.finance.ledger import trial_balance
    from connectors.finance.replay import queue_depths
    from connectors.finance.store import FinanceStore

    store = FinanceStore.from_url(fin)
    balanced = trial_balance(store).balanced
    store.dispose()
    depths = queue_depths(t.broker_url)
    return {
        "attempted": invoices,
        "published": _count(db, "SELECT count(*) FROM posting WHERE state <> 'pending'"),
        "posted": posted,
        "lost": invoices - len(posted_ids & in_ledger),
        "duplicated": len(journal_ids) - len(in_ledger),
        "double_matched": _count(db, DOUBLE_MATCHED),
        "matched": _count(db, "SELECT count(*) FROM invoice_match WHERE state = 'matched'"),
        "redelivered": _redelivered(log_dir),
        "recovered": sum(chaos.faults.values()) if settled else 0,
        "seconds_to_settle": round(seconds, 1),
        "faults": dict(sorted(chaos.faults.items())),
        "process_starts": {n: p.starts for n, p in chaos.processes.items()},
        "dead_lettered": depths[topology.POSTINGS_DLQ],
        "trial_balance_balanced": balanced,
    }
