"""Matched invoices and a credit note reach finance's ledger as balanced journals, once each,
even when the same posting is delivered again; finance refuses a supplier it has no account
for, and the pipeline records the refusal on the invoice."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select, update

from benchmarks.matching_standin import (
    ingest_invoices_for,
    record_matched_standin,
    stationery_order,
)
from connectors.finance.export import ExportAdapter, export_schema
from connectors.finance.ledger import ReferenceLedger, trial_balance
from connectors.finance.receiver import Receiver
from connectors.finance.store import FinanceStore, inbox, journal, journal_line
from procure.domain import events as ev
from procure.services.outbox import outbox_counts
from procure.services.posting import posting_of
from procure.store import tables as t


def test_matched_invoices_are_posted_once_as_balanced_journals(
    make_app: Any, database_url: str
) -> None:
    finance_url = database_url if database_url.startswith("postgres") else None
    app = make_app(database_url, finance_url=finance_url)
    po = stationery_order(app)
    ids = ingest_invoices_for(app, po, 6, credit_every=3)
    record_matched_standin(app.ctx, ids)
    app.drain()

    postings = [posting_of(app.ctx, i) for i in ids]
    assert [p["state"] for p in postings if p] == ["posted"] * 6
    numbers = [p["finance_document_number"] for p in postings if p]
    assert len(set(numbers)) == 6 and all(n.startswith("AP") for n in numbers)
    assert outbox_counts(app.ctx) == {"due": 0, "unacknowledged": 0, "acknowledged": 6}

    store = app.in_process_finance().receiver.store
    tb = trial_balance(store)
    assert tb.balanced and tb.journals == 6
    rows = {a: (d, c) for a, d, c in tb.rows}
    # 4 invoices of 477.98 and 2 credit notes of 21.50 + 4.30 VAT on the creditors control.
    assert rows["2100"] == (Decimal("51.60"), Decimal("1911.92"))
    assert rows["2200"] == (Decimal("252.00"), Decimal("8.60"))

    # The relay is told to send everything again (a lost confirm): finance answers from its
    # inbox, with no second journal.
    with app.db.transaction() as s:
        s.execute(update(t.OutboxRow).values(published_at=None, acknowledged_at=None))
    app.drain()
    assert trial_balance(store).journals == 6
    with store.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(inbox)).scalar_one() == 6


def test_finance_refuses_a_supplier_without_an_account_and_the_invoice_says_why(
    make_app: Any, sqlite_url: str
) -> None:
    app = make_app(sqlite_url)
    po = stationery_order(app)
    [invoice] = ingest_invoices_for(app, po, 1)
    with app.db.transaction() as s:
        s.execute(update(t.SupplierRow).values(finance_ref=None))
        app.ctx._reference = None  # the test changed reference data behind the cache's back
    record_matched_standin(app.ctx, [invoice])
    app.drain()

    posting = posting_of(app.ctx, invoice)
    assert posting is not None and posting["state"] == "rejected"
    assert "has no account in finance" in posting["reason"]
    with app.db.reading() as s:
        names = list(
            s.scalars(
                select(t.AuditEventRow.event_name).where(t.AuditEventRow.entity_id == invoice)
            )
        )
    assert names[-1] == ev.INVOICE_POSTING_REJECTED
    assert trial_balance(app.in_process_finance().receiver.store).journals == 0

    # Finance sets the supplier up; the invoice is released again (a new match version) and
    # this time it is posted. (An invoice whose posting is live is never posted twice.)
    with app.db.transaction() as s:
        s.execute(update(t.SupplierRow).values(finance_ref="V10041"))
        app.ctx._reference = None
    record_matched_standin(app.ctx, [invoice], version=2)
    app.drain()
    posting = posting_of(app.ctx, invoice)
    assert posting is not None and (posting["version"], posting["state"]) == (2, "posted")
    assert trial_balance(app.in_process_finance().receiver.store).journals == 1


def test_the_export_adapter_writes_csv_and_schema_valid_xml_on_its_own(
    make_app: Any, sqlite_url: str, tmp_path: Path
) -> None:
    app = make_app(sqlite_url)
    po = stationery_order(app)
    ids = ingest_invoices_for(app, po, 2, credit_every=2)
    record_matched_standin(app.ctx, ids)
    store = FinanceStore.from_url(f"sqlite:///{tmp_path / 'export-only.db'}")
    store.create()
    receiver = Receiver(store, [ExportAdapter(tmp_path / "out")])
    with app.db.reading() as s:
        payloads = [r.payload.encode() for r in s.scalars(select(t.OutboxRow))]
    outcomes = receiver.receive(payloads)
    assert [o.ack.body.status for o in outcomes if o.ack] == ["posted", "posted"]

    csv_files = sorted((tmp_path / "out").glob("*.csv"))
    xml_files = sorted((tmp_path / "out").glob("*.xml"))
    assert len(csv_files) == len(xml_files) == 2
    schema = export_schema()
    for f in xml_files:
        assert schema.validate(etree.parse(str(f))), schema.error_log
    header, *lines = csv_files[0].read_text().splitlines()
    assert header.startswith("document_number,document_type,supplier_reference")
    assert all(",V10041," in ln for ln in lines)
    # Independent: no ledger journal was written by the export adapter.
    with store.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(journal)).scalar_one() == 0
    # And the ledger alone gives the same document the same balanced entries.
    ledger_store = FinanceStore.from_url(f"sqlite:///{tmp_path / 'ledger-only.db'}")
    ledger_store.create()
    Receiver(ledger_store, [ReferenceLedger()]).receive(payloads)
    with ledger_store.engine.connect() as c:
        lines_written = c.execute(select(func.count()).select_from(journal_line)).scalar_one()
    assert lines_written > 0 and trial_balance(ledger_store).balanced
