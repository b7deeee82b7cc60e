"""The outbox relay's steps: claim due rows, publish them, back off on failure, sweep, clean up.

The publisher is a port (``procure.ports.Publisher``): pika with publisher confirms in
``workers.relay``, or the in-process finance receiver in the embedded default. Rows are claimed
with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite takes the write lock at BEGIN), in
id order but never by "id > last seen": a row committed late by a slower transaction, or one that
failed and backs off, is still found. The claim stays locked until the publish is confirmed and
the row is marked, in the same transaction; a relay that dies in between leaves the rows
unmarked, so they are published again (the receiver's inbox makes that harmless).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlmodel import col

from procure.domain import posting as rules
from procure.messages import POSTING_TYPE, MessageRefused, parse_posting
from procure.ports import Publisher
from procure.services.context import ServiceContext
from procure.store import tables as t

log = logging.getLogger("procure.outbox")

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 300.0


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … up to 5 minutes after the n-th failed attempt."""
    return timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1)))


@dataclass(frozen=True)
class RelayResult:
    published: int
    failed: int

    @property
    def claimed(self) -> int:
        return self.published + self.failed


def relay_once(ctx: ServiceContext, publisher: Publisher, *, batch: int = 500) -> RelayResult:
    """Publish up to ``batch`` due outbox rows; returns how many went out and how many failed."""
    out = t.OutboxRow
    with ctx.db.transaction() as s:
        now = ctx.clock()
        stmt = (
            select(out)
            .where(
                col(out.published_at).is_(None),
                col(out.acknowledged_at).is_(None),
                col(out.next_attempt_at) <= now,
            )
            .order_by(col(out.id))
            .limit(batch)
        )
        if s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(s.scalars(stmt))
        if not rows:
            return RelayResult(0, 0)
        errors = _publish_valid(publisher, rows)
        now = ctx.clock()
        ok = [r for r, e in zip(rows, errors, strict=True) if e is None]
        for r, e in zip(rows, errors, strict=True):
            r.attempts += 1
            if e is None:
                r.published_at, r.last_error = now, None
            else:
                r.next_attempt_at, r.last_error = now + backoff(r.attempts), e[:500]
        if ok:
            s.execute(
                update(t.PostingRow)
                .where(
                    col(t.PostingRow.idempotency_key).in_([r.idempotency_key for r in ok]),
                    col(t.PostingRow.state) == rules.PENDING,
                )
                .values(state=rules.PUBLISHED, updated_at=now)
            )
        failed = len(rows) - len(ok)
        if failed:
            log.warning("outbox: %s of %s not published: %s", failed, len(rows), errors[0])
        return RelayResult(len(ok), failed)


def _publish_valid(publisher: Publisher, rows: list[t.OutboxRow]) -> list[str | None]:
    """Validate each message against its schema before it leaves; an invalid one is never sent
    (it stays in the outbox with the reason, backing off, for someone to look at)."""
    invalid: dict[int, str] = {}
    for i, r in enumerate(rows):
        if r.message_type == POSTING_TYPE:
            try:
                parse_posting(r.payload.encode())
            except MessageRefused as exc:
                invalid[i] = f"invalid message, not published: {exc.reason}"
    valid = [r for i, r in enumerate(rows) if i not in invalid]
    sent = iter(publisher.publish(valid) if valid else [])
    return [invalid[i] if i in invalid else next(sent) for i in range(len(rows))]


def sweep_unacknowledged(ctx: ServiceContext, *, older_than: timedelta) -> int:
    """Rows published ``older_than`` ago and still not acknowledged are made due again."""
    out = t.OutboxRow
    now = ctx.clock()
    with ctx.db.transaction() as s:
        result = s.execute(
            update(out)
            .where(
                col(out.published_at).is_not(None),
                col(out.published_at) < now - older_than,
                col(out.acknowledged_at).is_(None),
            )
            .values(published_at=None, next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def clean_up(ctx: ServiceContext, *, retention: timedelta) -> int:
    """Delete outbox rows acknowledged more than ``retention`` ago (the posting row stays)."""
    out = t.OutboxRow
    with ctx.db.transaction() as s:
        result = s.execute(delete(out).where(col(out.acknowledged_at) < ctx.clock() - retention))
        return int(getattr(result, "rowcount", 0) or 0)


def outbox_counts(ctx: ServiceContext) -> dict[str, int]:
    out = t.OutboxRow
    with ctx.db.reading() as s:
        rows = list(s.execute(select(col(out.published_at), col(out.acknowledged_at))).all())
    return {
        "due": sum(1 for p, _ in rows if p is None),
        "unacknowledged": sum(1 for p, a in rows if p is not None and a is None),
        "acknowledged": sum(1 for _, a in rows if a is not None),
    }


def has_due_outbox(ctx: ServiceContext) -> bool:
    out = t.OutboxRow
    with ctx.db.reading() as s:
        stmt = (
            select(col(out.id))
            .where(
                col(out.published_at).is_(None),
                col(out.acknowledged_at).is_(None),
                col(out.next_attempt_at) <= ctx.clock(),
            )
            .limit(1)
        )
        return s.scalar(stmt) is not None
