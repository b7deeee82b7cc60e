"""Reading received documents into what intake stores, in this process or in worker processes.

Reading (parse, map, validate) is almost all of intake's work and needs nothing but the bytes,
so a bulk intake (a supplier backlog, a folder of thousands of files) reads in a pool of worker
processes, one per core, while this process stores the batch read before: ``ReaderPool``.

What crosses between processes is a ``Read``: the facts storing needs, the canonical JSON and
the findings, a few kilobytes of plain values. Not the canonical ``Invoice`` itself: pickling a
pydantic model tree costs about as much as reading the document again. A spreadsheet is the
exception: it is completed from our supplier records before it is stored
(``complete_spreadsheet``), so its full outcome comes back with it (spreadsheets are few).

Imports: the standard library, the einvoice reader and the canonical model.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from procure.einvoice.reader import ReadOutcome, read_document
from procure.einvoice.xml_safety import Limits

if TYPE_CHECKING:
    from procure.einvoice.schematron import OfficialSchematron

__all__ = ["Read", "ReaderPool", "Reading", "read_all", "summarise"]


@dataclass(frozen=True)
class Read:
    """One received document as intake stores it."""

    sha256: str
    size: int
    syntax: str | None
    accepted: bool
    kind: str | None
    seller_vat_id: str | None
    seller_name: str | None
    number: str | None
    issue_date: date | None
    currency: str | None
    payable: Decimal | None
    order_reference: str | None
    canonical: str | None
    """The canonical document as JSON (``Invoice.model_dump_json``), ``None`` when unreadable."""
    findings: tuple[dict[str, Any], ...]
    outcome: ReadOutcome | None = None
    """The full outcome, kept for a spreadsheet (see the module docstring)."""


def summarise(outcome: ReadOutcome) -> Read:
    doc = outcome.document
    return Read(
        sha256=outcome.sha256,
        size=outcome.size,
        syntax=outcome.syntax,
        accepted=outcome.accepted,
        kind=doc.kind if doc else None,
        seller_vat_id=doc.seller.vat_id if doc else None,
        seller_name=doc.seller.name if doc else None,
        number=doc.number if doc else None,
        issue_date=doc.issue_date if doc else None,
        currency=doc.currency if doc else None,
        payable=doc.totals.payable if doc else None,
        order_reference=doc.order_reference if doc else None,
        canonical=doc.model_dump_json() if doc else None,
        findings=tuple(f.model_dump() for f in outcome.findings),
        outcome=outcome if outcome.syntax == "xlsx" else None,
    )


Job = tuple[bytes, str | None]
"""The bytes of one document and its file name."""


def read_all(
    jobs: Iterable[Job], limits: Limits, strict: OfficialSchematron | None = None
) -> list[Read]:
    """Read each document here, in order; ``strict``: also run the official Schematron (see
    ``procure.einvoice.schematron``)."""
    return [
        summarise(read_document(data, filename=name, limits=limits, strict=strict))
        for data, name in jobs
    ]


@dataclass(frozen=True)
class Reading:
    """A batch being read by a pool, chunk by chunk."""

    chunks: list[Future[list[Read]]]

    def result(self) -> list[Read]:
        """The batch's reads in its order, once every chunk is read (a worker's failure is
        raised here)."""
        return [read for chunk in self.chunks for read in chunk.result()]


class ReaderPool:
    """Worker processes that read batches of documents while the caller stores earlier ones.

    ``submit(batch)`` splits the batch into one chunk per worker and returns at once; the
    reads come back in the batch's order. Workers start from a fork server (not a fork of this
    process, whose database connections and threads they must not share) with the reader
    already imported."""

    def __init__(
        self, workers: int, limits: Limits, strict: OfficialSchematron | None = None
    ) -> None:
        if workers < 1:
            raise ValueError("a reader pool needs at least one worker")
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["procure.services.intake_reading"])
        self.workers = workers
        self._limits, self._strict = limits, strict
        self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)

    def submit(self, batch: Sequence[Job]) -> Reading:
        size = -(-len(batch) // self.workers) or 1
        return Reading(
            [
                self._executor.submit(read_all, batch[i : i + size], self._limits, self._strict)
                for i in range(0, len(batch), size)
            ]
        )

    def read_ahead(self, batches: Iterable[Sequence[Job]]) -> Iterator[list[Read]]:
        """Each batch's reads in order, the next batch already being read while the caller
        handles this one."""
        pending: list[Reading] = []
        for batch in batches:
            pending.append(self.submit(batch))
            if len(pending) > 1:
                yield pending.pop(0).result()
        for reading in pending:
            yield reading.result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
