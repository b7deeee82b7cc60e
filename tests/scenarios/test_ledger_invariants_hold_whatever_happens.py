"""Deliveries, invoices, credit notes and finance's decisions come in any order: whatever happens,
the match ledger never bills goods beyond what was received, never below zero, and never bills
one invoice line twice (checked over the whole ledger after every step)."""

from __future__ import annotations

import contextlib
import random
from decimal import Decimal

from procure.domain.invoice_match import Resolution
from procure.errors import ProcureError
from procure.matching import check_ledger, positions
from procure.services import matching, matching_views, orders
from procure.services.matching_inputs import ledger_for, load_inputs
from procure.store import tables as t
from tests.conftest import line
from tests.scenarios.invoicing import ordered, send_invoice


def _check_ledger(app, po_number: str) -> None:
    with app.db.reading() as s:
        row = s.query(t.InvoiceDocumentRow).first()
        if row is None:
            return  # nothing invoiced yet, so nothing billed
        inputs = load_inputs(s, row, app.ctx.reference(s), app.ctx.match_policy)
        ledger = ledger_for(s, [po_number])
    the_order = [o for o in inputs.orders if o.number == po_number]
    assert check_ledger(ledger, orders=the_order, receipts=inputs.receipts) == ()
    for p in positions(the_order, inputs.receipts, ledger).values():
        assert Decimal(0) <= p.billed <= p.received


def test_random_deliveries_invoices_credits_and_resolutions_keep_the_ledger_sound(app):
    rnd = random.Random(20261201)
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="20", unit_price="21.50"))
    received, matched_numbers = Decimal(0), []
    for step in range(40):
        op = rnd.choice(["receive", "invoice", "invoice", "credit", "resolve", "resolve"])
        if op == "receive" and received < 20:
            qty = min(Decimal(rnd.randint(1, 4)), Decimal(20) - received)
            orders.record_receipt(app.ctx, po["number"], [(1, str(qty))], by="s.jones")
            received += qty
            app.drain(fail_fast=True)
        elif op == "invoice":
            number = f"COS-P{step}"
            invoice_id = send_invoice(app, po, number, [(1, str(rnd.randint(1, 4)))])
            if matching_views.match_view(app.ctx, invoice_id)["state"] == "matched":
                matched_numbers.append(number)
        elif op == "credit" and matched_numbers:
            send_invoice(
                app, po, f"COS-CN-P{step}", [(1, "1")], credit_note_for=rnd.choice(matched_numbers)
            )
        elif op == "resolve":
            # Sorted, so that the seeded choice is the same on every database (ties in the
            # queue's order would otherwise make the sequence differ between runs).
            queue = sorted(
                matching_views.exception_queue(app.ctx), key=lambda x: x["invoice_number"]
            )
            if queue:
                task = rnd.choice(queue)
                resolution = rnd.choice(list(Resolution))
                # A release beyond what was received is refused (ProcureError), nothing written.
                with contextlib.suppress(ProcureError):
                    matching.resolve_exception(
                        app.ctx, task["id"], by="n.shah", resolution=resolution, reason="test"
                    )
                app.drain(fail_fast=True)
        _check_ledger(app, po["number"])
    with app.db.reading() as s:  # the sequence did bill, credit and reverse something
        rows = s.query(t.MatchLedgerRow).all()
    assert any(r.quantity > 0 and r.reverses is None for r in rows)
    assert any(r.quantity < 0 and r.reverses is None for r in rows)  # a credit note
    states = {matching_views.match_view(app.ctx, r.invoice_id)["how"] for r in rows}
    assert "released" in states
