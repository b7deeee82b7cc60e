"""What ``procure chaos`` drives through the pipeline: a book of orders and the suppliers' documents.

``prepare`` (before the faults, not measured): a fresh pipeline database with purchase orders and
their goods receipts written in bulk (the matching DB bench's book: five goods lines each, fully
received), and N supplier documents rendered as UBL files in a folder with a manifest: one
invoice per order billing it in full, and every ``credit_every``-th document a credit note for
the invoice before it (line 1 in full, BT-25 naming that invoice), so every document matches
cleanly and differs from the others in amount (no duplicate layer fires).

``feed`` (a process under the faults, ``python -m entrypoints.chaos_feed``): takes the documents
in through intake, a batch at a time, with the real dispatcher, so each ``InvoiceAccepted`` is a
``match_invoices`` message on RabbitMQ for ``procure worker``. A batch whose commit is not known
(killed, PostgreSQL restarting) is sent again minus the documents already received; a message
lost after the commit (RabbitMQ stopped) is the worker's to re-send from the database (its
reconcile sweep). A credit note is sent only once the invoice it credits has matched, as a
supplier would issue it after being paid for the goods.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from dramatiq.errors import BrokerError
from pika.exceptions import AMQPError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

ISSUED = date(2026, 11, 20)  # after the book's receipts (2026-11-10): no invoice_before_receipt
PREFIX = "CHAOS"


@dataclass(frozen=True)
class Document:
    file: str
    number: str
    credits: str | None  # the invoice number a credit note credits


def documents_plan(count: int, credit_every: int) -> tuple[int, list[tuple[int, str, int | None]]]:
    """(orders, [(order index, number, credited order index or None)]) for ``count`` documents."""
    plan: list[tuple[int, str, int | None]] = []
    order = 0
    for k in range(count):
        if credit_every > 0 and k % credit_every == credit_every - 1 and order > 0:
            plan.append((order - 1, f"{PREFIX}-CN-{order:06d}", order - 1))
        else:
            plan.append((order, f"{PREFIX}-{order + 1:06d}", None))
            order += 1
    return order, plan


def prepare_documents(app: Any, count: int, credit_every: int, folder: Path) -> list[Document]:
    """The book of orders (rows) and ``count`` UBL documents for it in ``folder``."""
    from benchmarks.matching_db import book_of_orders
    from entrypoints.demo_invoices import invoice_for_order
    from procure.einvoice.ubl_writer import render_ubl
    from procure.services.admin import reference_data

    orders, plan = documents_plan(count, credit_every)
    views = book_of_orders(app, orders, short_every=0)
    ref = reference_data(app.ctx)
    docs: list[Document] = []
    for order, number, credited in plan:
        view = views[order]
        if credited is None:
            doc = invoice_for_order(view, ref, number=number, issued=ISSUED)
            credits = None
        else:
            credits = f"{PREFIX}-{credited + 1:06d}"
            line1 = Decimal(view["lines"][0]["quantity"])
            doc = invoice_for_order(
                view, ref, number=number, issued=ISSUED, credit_note_for=credits,
                lines=[(1, line1)],
            )  # fmt: skip
        name = f"{number}.xml"
        (folder / name).write_bytes(render_ubl(doc))
        docs.append(Document(name, number, credits))
    (folder / "manifest.json").write_text(json.dumps([d.__dict__ for d in docs]))
    return docs


def _known(app: Any, numbers: list[str]) -> set[str]:
    q = text("SELECT number FROM invoice_document WHERE number = ANY(:n)")
    with app.db.reading() as s:
        return {str(x) for x in s.scalars(q, {"n": numbers})}


def _matched(app: Any, numbers: list[str]) -> set[str]:
    q = text(
        "SELECT d.number FROM invoice_document d JOIN invoice_match m ON m.invoice_id = d.id "
        "WHERE m.state = 'matched' AND d.number = ANY(:n)"
    )
    with app.db.reading() as s:
        return {str(x) for x in s.scalars(q, {"n": numbers})}


UNMATCHED = text(
    "SELECT count(*) FROM invoice_document d WHERE d.status = 'accepted' AND NOT EXISTS "
    "(SELECT 1 FROM invoice_match m WHERE m.invoice_id = d.id)"
)


def feed(folder: Path, batch: int, pause: float, backlog: int) -> None:
    """Take the folder's documents in through intake until all are received (then exit 0),
    pausing while more than ``backlog`` accepted documents wait for matching: the run is about
    faults, not overload (and the worker's reconcile sweep re-sends matches left undone longer
    than its ``reconcile_after_seconds``, up to ``reconcile_max_per_sweep`` a sweep, so a
    backlog beyond what it matches in that time adds duplicate messages to the queue)."""
    from procure.services.intake import Received, ingest_many
    from workers.bootstrap import bootstrap

    docs = [Document(**d) for d in json.loads((folder / "manifest.json").read_text())]
    app = bootstrap()  # PROCURE_DATABASE_URL / PROCURE_BROKER_URL: the real dispatcher
    invoices = [d for d in docs if d.credits is None]
    credits = [d for d in docs if d.credits is not None]
    sent = 0
    while True:
        try:
            with app.db.reading() as s:
                if int(s.scalar(UNMATCHED) or 0) > backlog:
                    time.sleep(pause)
                    continue
            ready = _matched(app, [d.credits for d in credits[:batch] if d.credits])
            todo = invoices[sent : sent + batch] + [
                d for d in credits[:batch] if d.credits in ready
            ]
            known = _known(app, [d.number for d in todo])
            fresh = [d for d in todo if d.number not in known]
            if fresh:
                received = [
                    Received((folder / d.file).read_bytes(), d.file, "chaos") for d in fresh
                ]
                results = ingest_many(app.ctx, received)
                bad = [r for r in results if r.status != "accepted"]
                if bad:
                    raise SystemExit(f"chaos feed: not accepted: {bad[0]}")
            sent = min(len(invoices), sent + batch)
            done = {d.number for d in todo}
            credits = [d for d in credits if d.number not in done]
            if sent >= len(invoices) and not credits:
                break
        except (DBAPIError, OSError, BrokerError, AMQPError) as exc:  # see the docstring
            print(f"chaos feed: {type(exc).__name__}; again", file=sys.stderr, flush=True)
        time.sleep(pause)
    app.close()
    print(f"chaos feed: {len(docs)} documents received", file=sys.stderr, flush=True)


if __name__ == "__main__":  # folder batch pause backlog
    feed(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
