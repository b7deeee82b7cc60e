"""Three workers (three processes' worth of apps on one PostgreSQL database) decide batches of
invoices for the same purchase order at the same moment: the invoice rows and the order are
locked in a fixed order, so nothing deadlocks, every invoice is decided once, and the order is
never billed beyond what was received."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from entrypoints.demo_invoices import invoice_for_order
from procure.einvoice.ubl_writer import render_ubl
from procure.ports import NullDispatcher
from procure.services import intake, matching, matching_views, orders
from procure.services.admin import reference_data
from procure.store import tables as t
from tests.conftest import line, reset_postgres
from tests.scenarios.invoicing import ordered

QUANTITIES = list(range(1, 16))  # 120 billed in all, against 60 received; each amount distinct


def test_workers_matching_batches_of_one_order_at_once_never_over_bill(make_app, postgres_url):
    reset_postgres(postgres_url)
    app = make_app(postgres_url)
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="100", unit_price="2.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "60")], by="s.jones")
    app.drain(fail_fast=True)
    app.ctx.dispatch = NullDispatcher()
    ref, today = reference_data(app.ctx), app.ctx.clock().date()
    ids = []
    for i, qty in enumerate(QUANTITIES):
        doc = invoice_for_order(
            po, ref, number=f"COS-C{i}", issued=today, lines=[(1, Decimal(qty))]
        )
        result = intake.ingest(app.ctx, render_ubl(doc), filename=f"COS-C{i}.xml")
        assert result.status == "accepted", result.findings
        ids.append(result.id)
    apps = [app, make_app(postgres_url), make_app(postgres_url)]
    for a in apps:
        a.ctx.dispatch = NullDispatcher()
    # Two batches share no invoice (only the order's lock keeps them apart); a third overlaps both.
    batches = list(zip(apps, [ids[0::2], list(reversed(ids[1::2])), ids[4:11]], strict=True))
    start, failures = threading.Barrier(len(batches)), []

    def worker(a: Any, batch: list[str]) -> None:
        try:
            start.wait()
            matching.match_invoices(a.ctx, batch)
        except Exception as exc:  # reported below: the test must see every failure
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=item) for item in batches]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not failures, failures

    states = [matching_views.match_view(app.ctx, i)["state"] for i in ids]
    assert set(states) <= {"matched", "held"} and "held" in states and "matched" in states
    [position] = matching_views.order_positions(app.ctx, po["number"])
    assert Decimal(position["billed"]) <= Decimal(60)
    with app.db.reading() as s:
        decisions = s.query(t.MatchDecisionRow).all()
        ledger = s.query(t.MatchLedgerRow).all()
    assert sorted(d.invoice_id for d in decisions) == sorted(ids)  # each decided once
    billed = {i: Decimal(0) for i in ids}
    for row in ledger:
        billed[row.invoice_id] += row.quantity
    matched = [i for i, s in zip(ids, states, strict=True) if s == "matched"]
    assert sum(billed.values()) == Decimal(position["billed"])
    assert {i for i, q in billed.items() if q} == set(matched)
