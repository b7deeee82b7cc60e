"""The dramatiq actors: thin, they take ids, call one service, and are safe to run twice.

Actors are created by ``register`` against an explicit broker and a service context, never at
import time. Business errors (``ProcureError``) are not retried: they are recorded, not looped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ParamSpec

import dramatiq

from procure.errors import ProcureError
from procure.services import approvals, inbox, matching, orders, recovery
from procure.services.context import ServiceContext

log = logging.getLogger("procure.workers")

QUEUE = "procure"

P = ParamSpec("P")


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

    # The keyword form (``actor(**options)(fn)``) is the one dramatiq's overloads type; it
    # builds the same actor as ``actor(fn, **options)``.
    def actor(fn: Callable[P, None], name: str) -> dramatiq.Actor[P, None]:
        return dramatiq.actor(actor_name=name, **options)(fn)

    actors = Actors(
        route_requisitions=actor(route_requisitions, "route_requisitions"),
        advance_requisition=actor(advance_requisition, "advance_requisition"),
        issue_purchase_order=actor(issue_purchase_order, "issue_purchase_order"),
        escalate_overdue=actor(escalate_overdue, "escalate_overdue"),
        reconcile=actor(reconcile, "reconcile"),
        scan_inbox=actor(scan_inbox, "scan_inbox"),
        match_invoice=actor(match_invoice, "match_invoice"),
        match_invoices=actor(match_invoices, "match_invoices"),
        rematch_for_order=actor(rematch_for_order, "rematch_for_order"),
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
