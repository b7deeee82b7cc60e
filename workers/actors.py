"""The dramatiq actors: thin, they take ids, call one service, and are safe to run twice.

Actors are created by ``register`` against an explicit broker and a service context, never at
import time. Business errors (``ProcureError``) are not retried: they are recorded, not looped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import dramatiq

from procure.errors import ProcureError
from procure.services import approvals, inbox, matching, orders, recovery
from procure.services.context import ServiceContext

log = logging.getLogger("procure.workers")

QUEUE = "procure"


@dataclass(frozen=True)
class Actors:
    route_requisitions: dramatiq.Actor[[list[str]], None]
    advance_requisition: dramatiq.Actor[[str], None]
    issue_purchase_order: dramatiq.Actor[[str], None]
    escalate_overdue: dramatiq.Actor[[str | None], None]
    reconcile: dramatiq.Actor[[int], None]
    scan_inbox: dramatiq.Actor[[str], None]
    match_invoice: dramatiq.Actor[[str], None]
    match_invoices: dramatiq.Actor[[list[str]], None]
    rematch_for_order: dramatiq.Actor[[str], None]


def register(
    broker: dramatiq.Broker, ctx: ServiceContext, *, reconcile_limit: int | None = None
) -> Actors:
    """``reconcile_limit``: at most this many items of each kind re-sent per periodic sweep
    (``Settings.reconcile_max_per_sweep``; ``None``: no limit)."""
    options: dict[str, Any] = {"broker": broker, "queue_name": QUEUE, "throws": (ProcureError,)}

    def route_requisitions(ids: list[str]) -> None:
        approvals.route_requisitions(ctx, ids)

    def advance_requisition(requisition_id: str) -> None:
        approvals.advance_requisition(ctx, requisition_id)

    def issue_purchase_order(requisition_id: str) -> None:
        orders.issue_purchase_order(ctx, requisition_id)

    def escalate_overdue(today: str | None = None) -> None:
        approvals.escalate_overdue(ctx, date.fromisoformat(today) if today else None)

    def reconcile(quiet_for_seconds: int = 0) -> None:
        work = recovery.pending_work(
            ctx, quiet_for_seconds=quiet_for_seconds, limit=reconcile_limit
        )
        send_pending(actors, work)

    def scan_inbox(folder: str) -> None:
        inbox.scan_inbox(ctx, Path(folder))

    def match_invoice(invoice_id: str) -> None:
        matching.match_invoice(ctx, invoice_id)

    def match_invoices(ids: list[str]) -> None:
        matching.match_invoices(ctx, ids)

    def rematch_for_order(purchase_order_id: str) -> None:
        matching.rematch_for_order(ctx, purchase_order_id)

    actors = Actors(
        route_requisitions=dramatiq.actor(
            route_requisitions, actor_name="route_requisitions", **options
        ),
        advance_requisition=dramatiq.actor(
            advance_requisition, actor_name="advance_requisition", **options
        ),
        issue_purchase_order=dramatiq.actor(
            issue_purchase_order, actor_name="issue_purchase_order", **options
        ),
        escalate_overdue=dramatiq.actor(escalate_overdue, actor_name="escalate_overdue", **options),
        reconcile=dramatiq.actor(reconcile, actor_name="reconcile", **options),
        scan_inbox=dramatiq.actor(scan_inbox, actor_name="scan_inbox", **options),
        match_invoice=dramatiq.actor(match_invoice, actor_name="match_invoice", **options),
        match_invoices=dramatiq.actor(match_invoices, actor_name="match_invoices", **options),
        rematch_for_order=dramatiq.actor(
            rematch_for_order, actor_name="rematch_for_order", **options
        ),
    )
    return actors


ROUTE_BATCH = 500
MATCH_BATCH = matching.MATCH_BATCH


def send_pending(actors: Actors, work: recovery.PendingWork) -> None:
    """Send the pending work again: requisitions to route and invoices to match in batches (as
    the dispatcher sends them), the rest one message per id."""
    for i in range(0, len(work.to_route), ROUTE_BATCH):
        actors.route_requisitions.send(work.to_route[i : i + ROUTE_BATCH])
    for rid in work.to_advance:
        actors.advance_requisition.send(rid)
    for rid in work.to_order:
        actors.issue_purchase_order.send(rid)
    for i in range(0, len(work.to_match), MATCH_BATCH):
        actors.match_invoices.send(work.to_match[i : i + MATCH_BATCH])
    for po_id in work.to_rematch:
        actors.rematch_for_order.send(po_id)
    if work.total:
        log.info(
            "re-sent pending work: %s route, %s advance, %s order, %s match, %s re-match%s",
            len(work.to_route),
            len(work.to_advance),
            len(work.to_order),
            len(work.to_match),
            len(work.to_rematch),
            " (capped: the rest in a later sweep)" if work.capped else "",
        )
