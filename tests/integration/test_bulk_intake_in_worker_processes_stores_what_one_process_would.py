"""A supplier backlog ingested in worker processes is stored exactly as one process stores it:
the same statuses, duplicates, findings and canonical documents, in the order received."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from procure.einvoice.reader import read_document
from procure.services import intake
from procure.services.intake import Received
from procure.store import tables as t
from tests.conftest import CORPUS, require
from tests.unit.einvoice.test_xlsx_parser import simple

EXAMPLES = CORPUS / "peppol-bis3" / "rules" / "examples"


def backlog() -> list[Received]:
    require("the conformance corpus", EXAMPLES.is_dir(), str(EXAMPLES))
    files = sorted(EXAMPLES.glob("*.xml"))[:12]
    sent = [Received(f.read_bytes(), f.name, "backlog") for f in files]
    sent.append(Received(b"<Invoice><broken", "broken.xml", "backlog"))  # quarantined
    sent.append(Received(files[0].read_bytes(), "again.xml", "backlog"))  # the same file again
    labels = [
        ["Invoice No", "SDS-1001"],
        ["Invoice Date", "2026-11-20"],
        ["Supplier", "Severn Digital Solutions Ltd"],
        ["VAT Reg No", "GB 643 3012 23"],
        ["Currency", "GBP"],
    ]
    sent.append(Received(simple(labels=labels), "supplier.xlsx", "backlog"))  # completed
    return sent


def stored(app: Any) -> list[dict[str, Any]]:
    with app.ctx.db.reading() as s:
        rows = s.scalars(select(t.InvoiceDocumentRow)).all()
        return [
            {
                "filename": r.filename,
                "status": r.status,
                "number": r.number,
                "supplier_key": r.supplier_key,
                "payable": r.payable,
                "findings": r.findings,
                "canonical": r.canonical,
            }
            for r in sorted(rows, key=lambda r: r.filename or "")
        ]


def test_a_backlog_read_in_worker_processes_is_stored_as_one_process_stores_it(
    make_app: Any, postgres_url: str, tmp_path: Path
) -> None:
    from tests.conftest import reset_postgres

    sent = backlog()
    batches = [sent[i : i + 4] for i in range(0, len(sent), 4)]

    one = make_app(f"sqlite:///{tmp_path / 'one.db'}")
    alone = [r for b in intake.ingest_stream(one.ctx, batches, workers=1) for r in b]

    reset_postgres(postgres_url)
    pooled_app = make_app(postgres_url)
    pooled = [r for b in intake.ingest_stream(pooled_app.ctx, batches, workers=2) for r in b]

    assert [r.filename for r in pooled] == [r.filename for r in sent]
    assert [(r.status, r.number, r.findings) for r in pooled] == [
        (r.status, r.number, r.findings) for r in alone
    ]
    statuses = {r.filename: r.status for r in pooled}
    assert statuses["broken.xml"] == "rejected"
    assert statuses["again.xml"] == "duplicate"
    assert statuses["supplier.xlsx"] == "accepted", pooled[-1].findings
    completed = {f["rule"] for f in pooled[-1].findings}
    assert {"PROCURE-XLSX-10", "PROCURE-XLSX-11"} <= completed  # from our records
    assert stored(pooled_app) == stored(one)
    # what was stored is the canonical document the reader makes of those bytes
    first = read_document(sent[0].data).document
    assert first is not None
    row = next(r for r in stored(pooled_app) if r["filename"] == sent[0].filename)
    assert row["canonical"] == json.loads(first.model_dump_json())


def test_a_reader_pool_gives_each_batch_back_in_order() -> None:
    from procure.einvoice.xml_safety import Limits
    from procure.services.intake_reading import ReaderPool

    sent = backlog()
    jobs = [[(r.data, r.filename) for r in sent[i : i + 5]] for i in range(0, len(sent), 5)]
    with ReaderPool(2, Limits()) as pool:
        reads = list(pool.read_ahead(iter(jobs)))
    assert [len(b) for b in reads] == [len(b) for b in jobs]
    expected = [read_document(d, filename=n) for b in jobs for d, n in b]
    assert [r.sha256 for b in reads for r in b] == [o.sha256 for o in expected]
    assert [r.accepted for b in reads for r in b] == [o.accepted for o in expected]


@pytest.mark.parametrize("workers", [0, -1])
def test_a_pool_without_workers_is_refused(workers: int) -> None:
    from procure.einvoice.xml_safety import Limits
    from procure.services.intake_reading import ReaderPool

    with pytest.raises(ValueError, match="at least one worker"):
        ReaderPool(workers, Limits())
