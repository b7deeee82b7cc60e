"""Castle Office Supplies invoices Sarah's stationery order; when the invoice is matched, a
posting to finance is queued in the same transaction (its outbox row beside it), with its VAT
spread over the GL lines to the penny. If the match rolls back, nothing is queued."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from benchmarks.matching_standin import (
    ingest_invoices_for,
    record_matched_standin,
    stationery_order,
)
from procure.domain import events as ev
from procure.domain.events import Event
from procure.messages import parse_posting
from procure.services.posting import posting_of
from procure.store import tables as t


def outbox(app: Any) -> list[t.OutboxRow]:
    with app.db.reading() as s:
        return list(s.scalars(select(t.OutboxRow).order_by(t.OutboxRow.id)))


def test_a_matched_invoice_is_queued_for_finance_in_the_match_transaction(
    make_app: Any, database_url: str
) -> None:
    app = make_app(database_url)
    po = stationery_order(app)
    [invoice, credit] = ingest_invoices_for(app, po, 2, credit_every=2)

    assert record_matched_standin(app.ctx, [invoice, credit]) == 2

    posting = posting_of(app.ctx, invoice)
    assert posting is not None and posting["state"] == "pending"
    assert posting["idempotency_key"] == f"ap.post:{invoice}:1"
    rows = outbox(app)
    assert [r.idempotency_key for r in rows] == [
        f"ap.post:{invoice}:1",
        f"ap.post:{credit}:1",
    ]
    msg = parse_posting(rows[0].payload.encode())
    body = msg.body
    assert body.supplier.finance_reference == "V10041"
    assert body.purchase_orders == [po]
    assert body.document_type == "invoice"
    # 10 x 21.50 + 3 x 33.33 at 20% and 99.99 at zero rate: VAT 63.00 all on the S lines.
    assert [(ln.gl_code, ln.vat_code, ln.net_amount, ln.vat_amount) for ln in body.lines] == [
        ("4010", "S", "215.00", "43.00"),
        ("4010", "S", "99.99", "20.00"),
        ("4020", "Z", "99.99", "0.00"),
    ]
    totals = body.control_totals
    assert (totals.net_total, totals.vat_total, totals.gross_total) == (
        "414.98",
        "63.00",
        "477.98",
    )
    assert sum(Decimal(ln.vat_amount) for ln in body.lines) == Decimal(totals.vat_total)
    credit_msg = parse_posting(rows[1].payload.encode()).body
    assert credit_msg.document_type == "credit_note"
    assert credit_msg.preceding_invoice == "COS-0"

    # The same match recorded again queues nothing new: one posting per invoice and version;
    # and a later match version does not post an invoice whose posting is live.
    record_matched_standin(app.ctx, [invoice])
    with app.ctx.unit() as u:
        u.record(
            Event(
                ev.INVOICE_MATCHED,
                "invoice",
                invoice,
                app.ctx.clock(),
                data={"version": 2, "distribution": []},
            )
        )
    assert len(outbox(app)) == 2


def test_a_match_that_rolls_back_queues_no_posting(make_app: Any, sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    po = stationery_order(app)
    [invoice] = ingest_invoices_for(app, po, 1)
    with pytest.raises(RuntimeError), app.ctx.unit() as u:
        u.record(
            Event(
                ev.INVOICE_MATCHED,
                "invoice",
                invoice,
                app.ctx.clock(),
                data={
                    "version": 1,
                    "how": "automatic",
                    "purchase_orders": [po],
                    "distribution": [],
                },
            )
        )
        raise RuntimeError("matching failed after deciding")
    with app.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(t.PostingRow)) == 0
        assert s.scalar(select(func.count()).select_from(t.OutboxRow)) == 0


def record_matched(app: Any, invoice: str, distribution: list[dict[str, Any]]) -> None:
    """Matching's decision for ``invoice`` with this distribution, committed as matching does."""
    with app.ctx.unit() as u:
        u.record(
            Event(
                ev.INVOICE_MATCHED,
                "invoice",
                invoice,
                app.ctx.clock(),
                data={"version": 1, "distribution": distribution},
            )
        )


def event_names(app: Any, invoice: str) -> list[str]:
    with app.db.reading() as s:
        return list(
            s.scalars(
                select(t.AuditEventRow.event_name).where(t.AuditEventRow.entity_id == invoice)
            )
        )


def test_a_match_without_a_distribution_is_a_posting_rejection_not_a_lost_invoice(
    make_app: Any, sqlite_url: str
) -> None:
    app = make_app(sqlite_url)
    po = stationery_order(app)
    [invoice] = ingest_invoices_for(app, po, 1)
    record_matched(app, invoice, [])
    posting = posting_of(app.ctx, invoice)
    assert posting is not None and posting["state"] == "rejected"
    assert "no distribution lines" in posting["reason"]
    names = event_names(app, invoice)
    assert ev.INVOICE_POSTING_REJECTED in names


def test_a_match_whose_distribution_cannot_be_posted_is_rejected_with_the_reason(
    make_app: Any, database_url: str
) -> None:
    app = make_app(database_url)
    po = stationery_order(app)
    [invoice] = ingest_invoices_for(app, po, 1)
    broken = {
        "invoice_line_id": "1", "po_number": po, "po_line_no": 1, "cost_centre": "CC-FAC",
        "gl_code": "4010", "vat_code": "S", "vat_category": "S", "vat_rate": "20",
        "net_amount": "two hundred", "description": "paper",
    }  # fmt: skip
    record_matched(app, invoice, [broken])  # the match commits; the posting is refused
    posting = posting_of(app.ctx, invoice)
    assert posting is not None and posting["state"] == "rejected"
    assert posting["reason"].startswith("cannot post:")
    assert outbox(app) == []
    names = event_names(app, invoice)
    assert ev.INVOICE_MATCHED in names and ev.INVOICE_POSTING_REJECTED in names
