"""The composition root: the one place that reads settings and wires procure to its adapters.

``bootstrap()`` builds, in this order: settings → broker (set before any actor exists) →
database → service context → actors → the event dispatcher that turns committed events into
actor messages. Entry points (CLI, API, ``procure worker``) call it once; nothing happens at
import time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dramatiq

from connectors.finance.runtime import build_receiver
from connectors.finance.settings import FinanceSettings
from procure.domain import events as ev
from procure.domain.events import Event
from procure.reference.policy_file import load_policy
from procure.services import matching
from procure.services.context import ServiceContext
from procure.services.matching_inputs import load_match_policy
from procure.services.outbox import has_due_outbox
from procure.services.posting import posting_handler
from procure.settings import Settings
from procure.store import migrate
from procure.store.database import Database, make_engine
from workers import actors as actor_module
from workers.actors import QUEUE, Actors, send_pending
from workers.broker import is_embedded, make_broker
from workers.finance_embedded import InProcessFinance, drain_outbox

log = logging.getLogger("procure.bootstrap")


class ActorDispatcher:
    """Committed events → actor messages. Routing is batched (one message per 500 requisitions),
    and so is matching (one message per ``MATCH_BATCH`` accepted invoices)."""

    def __init__(self, actors: Actors) -> None:
        self.actors = actors

    def __call__(self, events: Sequence[Event]) -> None:
        to_route: list[str] = []
        to_match: list[str] = []
        for e in events:
            if e.name in (ev.REQUISITION_SUBMITTED, ev.REQUISITION_AMENDED):
                to_route.append(e.entity_id)
            elif e.name == ev.TASK_DECIDED and e.data.get("decision") == "approve":
                self.actors.advance_requisition.send(e.data["requisition_id"])
            elif e.name in (ev.REQUISITION_APPROVED, ev.SUPPLIER_CHOSEN):
                self.actors.issue_purchase_order.send(e.entity_id)
            elif e.name == ev.INVOICE_ACCEPTED:
                to_match.append(e.entity_id)
            elif e.name == ev.GOODS_RECEIVED:
                self.actors.rematch_for_order.send(e.entity_id)
        for i in range(0, len(to_route), actor_module.ROUTE_BATCH):
            self.actors.route_requisitions.send(to_route[i : i + actor_module.ROUTE_BATCH])
        for i in range(0, len(to_match), actor_module.MATCH_BATCH):
            self.actors.match_invoices.send(to_match[i : i + actor_module.MATCH_BATCH])


@dataclass
class App:
    settings: Settings
    db: Database
    ctx: ServiceContext
    broker: dramatiq.Broker
    actors: Actors
    worker: dramatiq.Worker | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    finance_settings: FinanceSettings | None = None
    _finance: InProcessFinance | None = None

    @property
    def embedded(self) -> bool:
        return is_embedded(self.broker)

    def start_worker(self, threads: int | None = None) -> dramatiq.Worker:
        if self.worker is None:
            n = threads or (1 if self.embedded else self.settings.worker_threads)
            self.worker = dramatiq.Worker(self.broker, worker_threads=n, worker_timeout=100)
            self.worker.start()
        return self.worker

    def send_round(self, *, sweep: bool) -> None:
        """One round of the periodic work: the inbox scan (when an inbox is configured) and,
        with ``sweep``, the escalation and reconcile sweeps (``procure worker``, and ``procure
        serve`` on the embedded default, send these on their schedule)."""
        if self.settings.inbox_dir is not None:
            self.actors.scan_inbox.send(str(self.settings.inbox_dir))
        if sweep:
            self.actors.escalate_overdue.send(None)
            # Work quiet this long; the consuming worker caps it (reconcile_max_per_sweep).
            self.actors.reconcile.send(self.settings.reconcile_after_seconds)

    def recover(self, quiet_for_seconds: int = 0, limit: int | None = None) -> int:
        """Send again any work the database says is pending (after a crash or restart): by
        default all of it, as at a worker's start; ``quiet_for_seconds`` and ``limit`` as in
        ``procure.services.recovery.pending_work`` (the periodic ``reconcile`` actor's)."""
        from procure.services.recovery import pending_work

        work = pending_work(self.ctx, quiet_for_seconds=quiet_for_seconds, limit=limit)
        send_pending(self.actors, work)
        return work.total

    def drain(self, timeout_ms: int = 120_000, fail_fast: bool = False) -> None:
        """Embedded only: wait until the in-process queues are empty and the worker is idle."""
        if not self.embedded:
            return
        from dramatiq.brokers.stub import StubBroker

        assert isinstance(self.broker, StubBroker)
        self.start_worker()
        for _ in range(3):  # actors enqueue follow-up work; settle until nothing is left
            self.broker.join(QUEUE, timeout=timeout_ms, fail_fast=fail_fast)
            assert self.worker is not None
            self.worker.join()
            if not any(self.broker.queues[q].qsize() for q in self.broker.queues):
                break
        self.post_to_finance()

    def in_process_finance(self) -> InProcessFinance:
        """Embedded only: finance's receiver in this process (built on first use)."""
        if self._finance is None:
            self._finance = InProcessFinance(
                build_receiver(self.finance_settings or FinanceSettings())
            )
        return self._finance

    def post_to_finance(self) -> int:
        """Embedded only: drain the outbox into the in-process receiver; returns how many."""
        if not self.embedded or not has_due_outbox(self.ctx):
            return 0
        return drain_outbox(self.ctx, self.in_process_finance())

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self.broker.close()
        self.db.dispose()
        if self._finance is not None:
            self._finance.receiver.store.dispose()


def subscribe_posting(ctx: ServiceContext) -> None:
    """Matched (or released) invoices are queued for finance in the match's own transaction."""
    ctx.subscribe(ev.INVOICE_MATCHED, posting_handler(ctx))


def bootstrap(
    settings: Settings | None = None,
    *,
    migrate_schema: bool | None = None,
    finance_settings: FinanceSettings | None = None,
    **ctx_overrides: Any,
) -> App:
    settings = settings or Settings()
    broker = make_broker(settings)
    db = Database(
        make_engine(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    )
    if migrate_schema if migrate_schema is not None else not settings.uses_postgres:
        migrate.upgrade(db.engine)
    ctx_overrides.setdefault("max_document_bytes", settings.max_upload_bytes)
    ctx_overrides.setdefault("match_policy", load_match_policy(settings.policy_file))
    if settings.schematron_dir is not None and "schematron" not in ctx_overrides:
        from procure.einvoice.schematron import OfficialSchematron

        ctx_overrides["schematron"] = OfficialSchematron.at(settings.schematron_dir)
    ctx = ServiceContext(db=db, policy=load_policy(settings.policy_file), **ctx_overrides)
    ctx.subscribe(ev.INVOICE_POSTING_REJECTED, matching.on_posting_rejected(ctx))
    subscribe_posting(ctx)
    actors = actor_module.register(broker, ctx, reconcile_limit=settings.reconcile_max_per_sweep)
    ctx.dispatch = ActorDispatcher(actors)
    return App(
        settings=settings,
        db=db,
        ctx=ctx,
        broker=broker,
        actors=actors,
        finance_settings=finance_settings,
    )
