"""A watched inbox folder: suppliers' files dropped there are taken in by the workers.

Each scan reads the files at the top of the folder that have not changed for a couple of
seconds (so half-written files wait), ingests them in one batch, and only after the commit moves
each into ``processed/`` or ``quarantine/`` beside them. A crash between the commit and the
move is harmless: the next scan recognises the same file by its sha256 as a duplicate.
"""

from __future__ import annotations

import time
from pathlib import Path

from procure.services.context import ServiceContext
from procure.services.intake import IntakeResult, Received, ingest_many, read_capped

SETTLE_SECONDS = 2.0


def scan_inbox(
    ctx: ServiceContext, inbox: Path, *, settle_seconds: float = SETTLE_SECONDS, batch: int = 100
) -> list[IntakeResult]:
    if not inbox.is_dir():
        return []
    now = time.time()
    ready = sorted(
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and now - p.stat().st_mtime >= settle_seconds
    )[:batch]
    if not ready:
        return []
    received = [Received(read_capped(p, ctx.max_document_bytes), p.name, "inbox") for p in ready]
    results = ingest_many(ctx, received)
    for p, result in zip(ready, results, strict=True):
        target = inbox / ("quarantine" if result.status == "rejected" else "processed")
        target.mkdir(exist_ok=True)
        destination = target / p.name
        if destination.exists():
            destination = target / f"{p.stem}.{result.id[:8]}{p.suffix}"
        p.replace(destination)
    return results
