"""Finance's morning post arrives together: the workers decide a batch of invoices in one
transaction, and every invoice gets the decision it would have got matched on its own, one after
the other. The same book and post are set up twice, on two databases; one is matched as a batch,
the other one by one, and the decisions, reasons, figures and ledger rows are compared."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from entrypoints.demo_invoices import invoice_for_order
from procure.einvoice.ubl_writer import render_ubl
from procure.ports import NullDispatcher
from procure.services import intake, matching, orders
from procure.services.admin import reference_data
from procure.store import tables as t
from tests.conftest import line, reset_postgres
from tests.scenarios.invoicing import ordered


def _second_database(url: str, tmp_path: Any) -> str:
    """A second, empty database beside ``url`` (SQLite: another file; PostgreSQL: ``<db>_batch``)."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.db'}"
    u = make_url(url)
    name = f"{u.database}_batch"
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if not c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    second = u.set(database=name).render_as_string(hide_password=False)
    reset_postgres(second)
    return second


def _ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


def _book_and_post(app: Any) -> list[str]:
    """Three orders (one fully delivered, one part delivered, one not yet), then the post: taken
    in by intake but not matched yet. Returns the invoices' ids in the order they came."""
    po1 = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    po2 = ordered(
        app, "s.jones", "CC-FAC", "SUP-0002",
        line(quantity="8", unit_price="12.00"), line("Toner cartridge", "4", "40.00"),
    )  # fmt: skip
    po3 = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="5", unit_price="21.50"))
    orders.record_receipt(app.ctx, po1["number"], [(1, "10")], by="s.jones")
    orders.record_receipt(app.ctx, po2["number"], [(1, "5"), (2, "4")], by="s.jones")
    app.drain(fail_fast=True)
    app.ctx.dispatch = NullDispatcher()  # the post waits for the batch (or the one-by-one run)
    ref, today = reference_data(app.ctx), app.ctx.clock().date()
    post: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
        (po1, "COS-B1", {"lines": [(1, Decimal(6))]}),  # matched
        (po1, "COS-B2", {"lines": [(1, Decimal(6))]}),  # 12 > 10 received, after COS-B1
        (po1, "COS-B9", {"lines": [(1, Decimal(6))]}),  # COS-B1 again, renumbered: a duplicate
        (po1, "COS-CN1", {"lines": [(1, Decimal(2))], "credit_note_for": "COS-B1"}),
        (po1, "COS-B3", {"lines": [(1, Decimal(4))], "prices": {1: Decimal("21.60")}}),
        (po2, "COS-B4", {}),  # line 1 billed 8, 5 received
        (po2, "COS-B5", {"lines": [(2, Decimal(4))]}),
        (po2, "COS-B6", {"lines": [(2, Decimal(1))]}),  # line 2 billed in full before
        (po3, "COS-B7", {"lines": [(1, Decimal(2))]}),  # nothing received yet
        (po1, "COS-B8", {"lines": [(1, Decimal(1))], "account": "GB33BUKB20201555555555"}),
    ]
    ids = []
    for order, number, changes in post:
        doc = invoice_for_order(order, ref, number=number, issued=today, **changes)
        result = intake.ingest(app.ctx, render_ubl(doc), filename=f"{number}.xml")
        assert result.status == "accepted", result.findings
        ids.append(result.id)
    return ids


def _outcome(app: Any, ids: list[str]) -> list[dict[str, Any]]:
    """Per invoice (by its place in the post): state, decision and ledger rows, ids replaced by
    places so that the two databases compare."""
    place = {invoice_id: f"#{i}" for i, invoice_id in enumerate(ids)}
    out = []
    with app.db.reading() as s:
        for invoice_id in ids:
            state = s.get(t.InvoiceMatchRow, invoice_id)
            decisions = (
                s.query(t.MatchDecisionRow)
                .filter(t.MatchDecisionRow.invoice_id == invoice_id)  # type: ignore[arg-type]
                .all()
            )
            ledger = (
                s.query(t.MatchLedgerRow)
                .filter(t.MatchLedgerRow.invoice_id == invoice_id)  # type: ignore[arg-type]
                .order_by(t.MatchLedgerRow.seq)  # type: ignore[arg-type]
                .all()
            )
            exceptions = (
                s.query(t.MatchExceptionRow)
                .filter(t.MatchExceptionRow.invoice_id == invoice_id)  # type: ignore[arg-type]
                .all()
            )
            record = {
                "state": state.state if state else None,
                "reasons": list(state.reason_codes) if state else None,
                "decisions": [
                    (d.version, d.outcome, d.action, d.po_numbers, d.reason_codes, d.detail)
                    for d in decisions
                ],
                "ledger": [
                    (
                        r.po_number,
                        r.po_line_no,
                        str(r.quantity),
                        str(r.amount),
                        str(r.price_variance),
                        r.receipts,
                        r.reverses,
                    )
                    for r in ledger
                ],
                "exceptions": [(x.state, x.reason_codes, x.summary) for x in exceptions],
            }
            text_ = json.dumps(record, default=str, sort_keys=True)
            for invoice_id_, p in place.items():
                text_ = text_.replace(invoice_id_, p)
            out.append(json.loads(text_))
    return out


def test_a_batch_gets_the_decisions_of_one_by_one_matching(make_app, database_url, tmp_path):
    one_app = make_app(database_url)
    batch_app = make_app(_second_database(database_url, tmp_path))
    for app in (one_app, batch_app):  # the same ids on both sides (duplicates sort by id)
        app.ctx.new_id = _ids()
    one_ids = _book_and_post(one_app)
    batch_ids = _book_and_post(batch_app)

    for invoice_id in one_ids:
        matching.match_invoice(one_app.ctx, invoice_id)
    results = matching.match_invoices(batch_app.ctx, batch_ids)

    assert [r.invoice_id for r in results] == batch_ids
    one, batch = _outcome(one_app, one_ids), _outcome(batch_app, batch_ids)
    assert batch == one
    states = [x["state"] for x in one]  # the post exercises what a batch must carry forward
    assert states.count("matched") >= 3 and states.count("held") >= 3, states
    reasons = {code for x in one for code in x["reasons"]}
    assert {"duplicate_invoice", "quantity_over_received", "bank_details_changed"} <= reasons
    assert any(row[2].startswith("-") for x in one for row in x["ledger"])  # the credit note

    again = matching.match_invoices(batch_app.ctx, batch_ids)  # safe to run twice
    assert [r.changed for r in again] == [False] * len(batch_ids)
    assert _outcome(batch_app, batch_ids) == batch
