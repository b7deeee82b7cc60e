"""Invoice intake: read, validate, store the original bytes, quarantine or accept, once only.

Every document received is kept: its bytes once per sha256 (``invoice_blob``) and a row in
``invoice_document`` with status ``accepted``, ``rejected`` (the quarantine, with its findings)
or ``duplicate`` (the same file again, or the same supplier and normalised invoice number as an
accepted one; pointing at the first). Each outcome is an event; ``InvoiceAccepted`` is what
matching consumes. Reading (parse + validate) happens before the transaction; a batch is stored
in one transaction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session
from sqlmodel import col

from procure.domain import events as ev
from procure.domain.events import Event
from procure.domain.reference import Organisation, ReferenceData
from procure.einvoice.collector import collector_paused
from procure.einvoice.model import Address, Finding
from procure.einvoice.reader import ReadOutcome
from procure.einvoice.validate import validate
from procure.einvoice.xml_safety import Limits
from procure.matching.numbers import normalise_number
from procure.services.context import ServiceContext
from procure.services.intake_reading import Job, Read, ReaderPool, read_all, summarise
from procure.store import repository as repo
from procure.store import tables as t

EN16931 = "urn:cen.eu:en16931:2017"


@dataclass(frozen=True)
class Received:
    data: bytes
    filename: str | None = None
    source: str = "cli"


@dataclass(frozen=True)
class IntakeResult:
    id: str
    status: str
    filename: str | None
    number: str | None
    supplier_id: str | None
    duplicate_of: str | None
    findings: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "filename": self.filename,
            "number": self.number,
            "supplier_id": self.supplier_id,
            "duplicate_of": self.duplicate_of,
            "findings": list(self.findings),
        }


def read_capped(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a file: enough for intake to refuse an oversize document
    (``too_large``, kept in quarantine with its head) without reading all of it into memory."""
    with path.open("rb") as f:
        return f.read(limit + 1)


def _supplier(
    ref: ReferenceData, vat: str | None, name: str | None
) -> tuple[str | None, str | None]:
    """The supplier a document is from (by VAT number, else by name) and the key its invoice
    numbers are unique under (the supplier, else the VAT number or name as written)."""
    if vat:
        found = ref.supplier_with_vat(vat)
        return (found.id, f"supplier:{found.id}") if found else (None, f"vat:{vat.upper()}")
    name = (name or "").strip().lower()
    named = ref.supplier_named(name)
    if named is not None:
        return named.id, f"supplier:{named.id}"
    return None, f"name:{name}" if name else None


def ingest(
    ctx: ServiceContext,
    data: bytes,
    *,
    filename: str | None = None,
    source: str = "cli",
    limits: Limits | None = None,
) -> IntakeResult:
    [result] = ingest_many(ctx, [Received(data, filename, source)], limits=limits)
    return result


def complete_spreadsheet(
    outcome: ReadOutcome, ref: ReferenceData, council: Organisation
) -> ReadOutcome:
    """A supplier's own Excel layout carries less than EN 16931 needs. What we know for certain
    is completed from our records (the supplier's address from its record, matched by VAT
    number; the buyer, which is the council itself) and said in an information finding; then the
    document is validated again. Nothing is completed for XML documents."""
    doc = outcome.document
    if doc is None or outcome.syntax != "xlsx":
        return outcome
    notes: list[Finding] = []
    update: dict[str, Any] = {}
    if not doc.customization_id:
        update["customization_id"] = EN16931
    supplier_id, _ = _supplier(ref, doc.seller.vat_id, doc.seller.name)
    supplier = ref.suppliers.get(supplier_id or "")
    if supplier and doc.seller.address is None:
        update["seller"] = doc.seller.model_copy(
            update={
                "address": Address(
                    line1=supplier.address_lines[0] if supplier.address_lines else None,
                    line2=supplier.address_lines[1] if len(supplier.address_lines) > 1 else None,
                    postcode=supplier.postcode,
                    country=supplier.country,
                )
            }
        )
        notes.append(
            Finding(
                rule="PROCURE-XLSX-10",
                severity="information",
                message=f"seller address taken from supplier record {supplier.id}",
                location="seller.address (BG-5)",
            )
        )
    if doc.buyer.address is None:
        update["buyer"] = doc.buyer.model_copy(
            update={
                "name": doc.buyer.name or council.name,
                "vat_id": doc.buyer.vat_id or council.vat_number,
                "address": Address(
                    line1=council.address_line,
                    city=council.city,
                    postcode=council.postcode,
                    country=council.country,
                ),
            }
        )
        notes.append(
            Finding(
                rule="PROCURE-XLSX-11",
                severity="information",
                message=f"buyer completed as {council.name} (the council)",
                location="buyer (BG-7)",
            )
        )
    if not update:
        return outcome
    own = tuple(f for f in doc.findings if f.rule.startswith("PROCURE-"))
    checked = validate(doc.model_copy(update={**update, "findings": own + tuple(notes)}))
    return replace(outcome, document=checked, findings=checked.findings)


def ingest_many(
    ctx: ServiceContext,
    received: Sequence[Received],
    *,
    limits: Limits | None = None,
    reads: Sequence[Read] | None = None,
) -> list[IntakeResult]:
    """Read every document (unless ``reads`` has them, read elsewhere, e.g. by a
    ``ReaderPool``), then store the batch in one transaction with two lookups (the cached
    reference data's stamp; known files and numbers) and bulk writes (COPY on PostgreSQL),
    whatever the batch size. The cyclic collector is paused for the batch, not document by
    document: each resumption made it walk what the last document had left."""
    with collector_paused():
        if reads is None:
            jobs = ((r.data, r.filename) for r in received)
            reads = read_all(jobs, limits or Limits(max_bytes=ctx.max_document_bytes), ctx.schematron)  # fmt: skip
        return _store_batch(ctx, received, reads)


def ingest_stream(
    ctx: ServiceContext,
    batches: Iterable[Sequence[Received]],
    *,
    workers: int = 1,
    limits: Limits | None = None,
    pool: ReaderPool | None = None,
) -> Iterator[list[IntakeResult]]:
    """``ingest_many`` batch after batch; with ``workers`` > 1 the documents are read in that
    many worker processes, the next batch while this one is stored (a bulk intake on a
    machine with several cores), or in ``pool``'s, which is left open. Results come in the
    batches' order."""
    limits = limits or Limits(max_bytes=ctx.max_document_bytes)
    if pool is None and workers <= 1:
        for batch in batches:
            yield ingest_many(ctx, batch, limits=limits)
        return
    held: deque[Sequence[Received]] = deque()

    def jobs() -> Iterator[list[Job]]:
        for batch in batches:
            held.append(batch)
            yield [(r.data, r.filename) for r in batch]

    with ExitStack() as stack:
        if pool is None:
            pool = stack.enter_context(ReaderPool(workers, limits, ctx.schematron))
        for reads in pool.read_ahead(jobs()):
            yield ingest_many(ctx, held.popleft(), limits=limits, reads=reads)


def _store_batch(
    ctx: ServiceContext, received: Sequence[Received], reads: Sequence[Read]
) -> list[IntakeResult]:
    if len(reads) != len(received):
        raise ValueError(f"{len(received)} documents received but {len(reads)} read")
    with ctx.unit() as u:
        ref = ctx.reference(u.session)
        reads = [_completed(r, ref, ctx.council) for r in reads]
        prepared = [_prepare(ref, r) for r in reads]
        seen_files, numbers = _known(
            u.session,
            {r.sha256 for r in reads},
            {(p.supplier_key, p.normalised) for p in prepared if p.keyed},
        )
        stored_blobs = set(seen_files)
        batch = _Batch()
        results = [
            _decide(ctx, batch, r, read, p, seen_files, stored_blobs, numbers)
            for r, read, p in zip(received, reads, prepared, strict=True)
        ]
        repo.bulk_insert(u.session, t.InvoiceBlobRow, batch.blobs)
        repo.bulk_insert(u.session, t.InvoiceDocumentRow, batch.documents)
        u.record(batch.events)
    return results


def _completed(read: Read, ref: ReferenceData, council: Organisation) -> Read:
    if read.outcome is None or read.syntax != "xlsx":
        return read
    return summarise(complete_spreadsheet(read.outcome, ref, council))


@dataclass(frozen=True)
class _Prepared:
    supplier_id: str | None
    supplier_key: str | None
    number: str | None
    normalised: str | None

    @property
    def keyed(self) -> bool:
        return bool(self.supplier_key and self.normalised)


@dataclass
class _Batch:
    blobs: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def _prepare(ref: ReferenceData, read: Read) -> _Prepared:
    supplier_id, supplier_key = _supplier(ref, read.seller_vat_id, read.seller_name)
    return _Prepared(supplier_id, supplier_key, read.number, normalise_number(read.number))


def _known(
    session: Session, digests: set[str], keys: set[tuple[str | None, str | None]]
) -> tuple[dict[str, str], dict[tuple[str | None, str | None], str]]:
    """One statement for the batch: the document first stored with each of these sha256 (the
    one the file's bytes were kept for, which may itself be a duplicate by number), and
    accepted documents under any of these (supplier, normalised number). The numbers are looked
    up as ``supplier IN (...) AND number IN (...)`` on their index and the pairs picked here: a
    row-value ``IN`` of 100 pairs took the planner tens of milliseconds and read every accepted
    document."""
    doc = t.InvoiceDocumentRow
    files: Any = select(
        literal("file").label("kind"),
        col(doc.sha256).label("a"),
        col(doc.duplicate_of).label("b"),
        col(doc.id).label("id"),
    ).where(col(doc.sha256).in_(sorted(digests)))
    pairs = {(key, number) for key, number in keys if key is not None and number is not None}
    stmt: Any = files
    if pairs:
        numbers = select(
            literal("number"),
            col(doc.supplier_key),
            col(doc.normalised_number),
            col(doc.id),
        ).where(
            col(doc.supplier_key).in_(sorted({key for key, _ in pairs})),
            col(doc.normalised_number).in_(sorted({number for _, number in pairs})),
            col(doc.status) == "accepted",
        )
        stmt = union_all(files, numbers)
    by_file: dict[str, dict[str, str | None]] = {}
    accepted: dict[tuple[str | None, str | None], str] = {}
    for kind, a, b, doc_id in session.execute(stmt).all():
        if kind == "file":
            by_file.setdefault(a, {})[doc_id] = b
        elif (a, b) in pairs:
            accepted[(a, b)] = doc_id
    # Later copies of a file point at the first; the first points elsewhere or nowhere.
    seen_files = {
        sha: min(i for i, of in docs.items() if of is None or of not in docs)
        for sha, docs in by_file.items()
    }
    return seen_files, accepted


def _decide(
    ctx: ServiceContext,
    batch: _Batch,
    r: Received,
    read: Read,
    p: _Prepared,
    seen_files: dict[str, str],
    stored_blobs: set[str],
    numbers: dict[tuple[str | None, str | None], str],
) -> IntakeResult:
    now = ctx.clock()
    duplicate_of = seen_files.get(read.sha256)
    why = "the same file was received before" if duplicate_of else None
    if duplicate_of is None and read.accepted and p.keyed:
        duplicate_of = numbers.get((p.supplier_key, p.normalised))
        why = f"invoice number {p.number} from this supplier was accepted before"
    status = "duplicate" if duplicate_of else ("accepted" if read.accepted else "rejected")
    doc_id = ctx.new_id()
    if read.sha256 not in stored_blobs:
        batch.blobs.append({"sha256": read.sha256, "content": r.data})
        stored_blobs.add(read.sha256)
    if duplicate_of is None:
        seen_files.setdefault(read.sha256, doc_id)
    if status == "accepted" and p.keyed:
        numbers[(p.supplier_key, p.normalised)] = doc_id
    findings = read.findings
    batch.documents.append(
        {
            "id": doc_id,
            "sha256": read.sha256,
            "filename": r.filename,
            "source": r.source,
            "received_at": now,
            "size": read.size,
            "syntax": read.syntax,
            "kind": read.kind,
            "status": status,
            "duplicate_of": duplicate_of,
            "supplier_id": p.supplier_id,
            "supplier_key": p.supplier_key,
            "seller_vat_id": read.seller_vat_id,
            "number": p.number,
            "normalised_number": p.normalised,
            "issue_date": read.issue_date,
            "currency": read.currency,
            "payable": read.payable,
            "order_reference": read.order_reference,
            "canonical": repo.JsonText(read.canonical) if read.canonical is not None else None,
            "findings": list(findings),
        }
    )
    name = {
        "accepted": ev.INVOICE_ACCEPTED,
        "rejected": ev.INVOICE_QUARANTINED,
        "duplicate": ev.INVOICE_DUPLICATE,
    }[status]
    fatal = [f for f in findings if f["severity"] == "fatal"]
    batch.events.append(
        Event(
            name=name,
            entity_type="invoice",
            entity_id=doc_id,
            occurred_at=now,
            actor_id=None,
            after={"status": status},
            data={
                "filename": r.filename,
                "source": r.source,
                "sha256": read.sha256,
                "number": p.number,
                "supplier_id": p.supplier_id,
                "duplicate_of": duplicate_of,
                "why": why,
                "fatal": [f"{f['rule']}: {f['message']}" for f in fatal[:5]],
            },
        )
    )
    return IntakeResult(doc_id, status, r.filename, p.number, p.supplier_id, duplicate_of, findings)


def invoice_view(ctx: ServiceContext, key: str) -> dict[str, Any]:
    with ctx.db.reading() as s:
        row = s.get(t.InvoiceDocumentRow, key)
        if row is None:
            from procure.errors import NotFound

            raise NotFound(f"no received invoice {key}")
        events = repo.events_for(s, [row.id])
    return {
        "id": row.id,
        "status": row.status,
        "filename": row.filename,
        "source": row.source,
        "received_at": row.received_at.isoformat(timespec="seconds"),
        "sha256": row.sha256,
        "syntax": row.syntax,
        "kind": row.kind,
        "supplier_id": row.supplier_id,
        "number": row.number,
        "issue_date": row.issue_date.isoformat() if row.issue_date else None,
        "currency": row.currency,
        "payable": None if row.payable is None else str(row.payable),
        "order_reference": row.order_reference,
        "duplicate_of": row.duplicate_of,
        "findings": row.findings or [],
        "timeline": [
            {
                "at": e.occurred_at.isoformat(timespec="seconds"),
                "event": e.event_name,
                "data": e.data,
            }
            for e in events
        ],
    }


def quarantine(ctx: ServiceContext, limit: int = 200) -> list[dict[str, Any]]:
    with ctx.db.reading() as s:
        rows = list(
            s.scalars(
                select(t.InvoiceDocumentRow)
                .where(t.InvoiceDocumentRow.status == "rejected")  # type: ignore[arg-type]
                .order_by(t.InvoiceDocumentRow.received_at.desc())  # type: ignore[attr-defined]
                .limit(limit)
            )
        )
    return [
        {
            "id": r.id,
            "filename": r.filename,
            "received_at": r.received_at.isoformat(timespec="seconds"),
            "number": r.number,
            "reasons": [
                f"{f['rule']}: {f['message']}"
                for f in (r.findings or [])
                if f["severity"] == "fatal"
            ],
        }
        for r in rows
    ]


def original_bytes(ctx: ServiceContext, sha256: str) -> bytes | None:
    with ctx.db.reading() as s:
        blob = s.get(t.InvoiceBlobRow, sha256)
        return None if blob is None else bytes(blob.content)
