"""The receiver finance runs: posting messages in, effects and acknowledgements out, once each.

Imports: sqlalchemy, ``procure.messages`` (the contract) and this package. Transport-free: the
RabbitMQ consumer (``connectors.finance.consumer``) and the embedded in-process drain both call
``Receiver.receive(bodies)`` and act on each ``Outcome``:

- ``Outcome.ack`` set: the effect (or the decision to refuse it) is committed; send the ack on
  the reply queue, then acknowledge the delivery.
- ``Outcome.refused`` set: the message can never be processed (not JSON, unknown schema
  version, schema violation): dead-letter it, do not requeue.
- ``Outcome.failed`` set: the effect failed (database down, adapter error): requeue; the queue's
  delivery limit dead-letters a message that always fails.

Each idempotency key is recorded in ``finance_inbox`` in the same transaction as its effect; a
key seen before is answered from the inbox with no second effect ("repeat = done"). A batch is
one transaction; if it fails, each message is tried alone so one bad message cannot hold up the
others. Business refusals are acknowledged ``rejected`` with a reason: a supplier with no
finance account, a currency the ledger does not keep, control totals that do not agree.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from connectors.finance.store import FinanceStore, counter, inbox
from procure.messages import (
    AckBody,
    Acknowledgement,
    MessageRefused,
    PostingMessage,
    parse_posting,
)

log = logging.getLogger("procure.finance.receiver")


class Adapter(Protocol):
    """One effect of a posting in finance (a ledger journal, an import file…). Adapters are
    independent of each other; each is called inside the receiver's transaction."""

    name: str

    def apply(self, conn: Connection, postings: Sequence[tuple[PostingMessage, str]]) -> None:
        """Apply each (message, finance document number); raise to roll the batch back."""
        ...


@dataclass(frozen=True)
class Outcome:
    ack: Acknowledgement | None = None
    refused: str | None = None
    failed: str | None = None
    repeat: bool = False
    transient: bool = False
    """Failed because the finance database was unreachable: try again, it is not the message."""


def _failure(exc: Exception) -> Outcome:
    return Outcome(
        failed=f"{type(exc).__name__}: {exc}"[:300],
        transient=isinstance(exc, OperationalError | InterfaceError),
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Receiver:
    store: FinanceStore
    adapters: Sequence[Adapter]
    currencies: frozenset[str] = frozenset({"GBP"})
    clock: Callable[[], datetime] = utc_now
    document_prefix: str = "AP"

    def receive(self, bodies: Sequence[bytes]) -> list[Outcome]:
        parsed: list[PostingMessage | Outcome] = []
        for body in bodies:
            try:
                parsed.append(parse_posting(body))
            except MessageRefused as exc:
                log.warning("refused message: %s", exc.reason)
                parsed.append(Outcome(refused=exc.reason))
        messages = [m for m in parsed if isinstance(m, PostingMessage)]
        if not messages:
            return [p for p in parsed if isinstance(p, Outcome)]
        try:
            done = self._apply(messages)
        except IntegrityError:
            # Another receiver committed one of these keys meanwhile: the inbox now answers it.
            done = self._apply_each(messages)
        except Exception as exc:  # any failed effect: reported per message, never swallowed
            failure = _failure(exc)
            if len(messages) == 1 or failure.transient:
                log.warning("%s posting(s) failed: %s", len(messages), failure.failed)
                done = {m.message_id: failure for m in messages}
            else:
                done = self._apply_each(messages)
        return [p if isinstance(p, Outcome) else done[p.message_id] for p in parsed]

    def _apply_each(self, messages: Sequence[PostingMessage]) -> dict[str, Outcome]:
        """One transaction per message, so that the one that fails is the only one requeued."""
        done: dict[str, Outcome] = {}
        for m in messages:
            try:
                done.update(self._apply([m]))
            except IntegrityError:
                try:
                    done.update(self._apply([m]))
                except Exception as exc:
                    done[m.message_id] = _failure(exc)
            except Exception as exc:
                log.warning("posting %s failed: %s", m.idempotency_key, exc)
                done[m.message_id] = _failure(exc)
        return done

    def _apply(self, messages: Sequence[PostingMessage]) -> dict[str, Outcome]:
        now = self.clock()
        out: dict[str, Outcome] = {}
        with self.store.transaction() as conn:
            keys = sorted({m.idempotency_key for m in messages})
            seen = {
                r.idempotency_key: r
                for r in conn.execute(select(inbox).where(inbox.c.idempotency_key.in_(keys)))
            }
            fresh: list[tuple[PostingMessage, str | None]] = []
            first_of: dict[str, PostingMessage] = {}
            for m in messages:
                row = seen.get(m.idempotency_key)
                if row is not None:
                    out[m.message_id] = Outcome(
                        ack=self._ack(m, row.status, row.document_number, row.reason, now),
                        repeat=True,
                    )
                elif m.idempotency_key in first_of:
                    continue  # the same posting twice in one batch: answered with the first
                else:
                    first_of[m.idempotency_key] = m
                    fresh.append((m, self.refusal(m)))
            numbers = self._numbers(conn, sum(1 for _, why in fresh if why is None))
            postings: list[tuple[PostingMessage, str]] = []
            rows = []
            for m, why in fresh:
                number = None if why else next(numbers)
                if number:
                    postings.append((m, number))
                status = "rejected" if why else "posted"
                rows.append(
                    {
                        "idempotency_key": m.idempotency_key,
                        "message_id": m.message_id,
                        "correlation_id": m.correlation_id,
                        "invoice_id": m.body.invoice_id,
                        "status": status,
                        "document_number": number,
                        "reason": why,
                        "received_at": now,
                    }
                )
                out[m.message_id] = Outcome(ack=self._ack(m, status, number, why, now))
            if rows:
                conn.execute(inbox.insert(), rows)
            for adapter in self.adapters:
                if postings:
                    adapter.apply(conn, postings)
        for m in messages:  # repeats within the batch get the first one's answer
            if m.message_id not in out:
                first = out[first_of[m.idempotency_key].message_id]
                assert first.ack is not None
                out[m.message_id] = Outcome(ack=first.ack, repeat=True)
        return out

    def _numbers(self, conn: Connection, count: int) -> Iterator[str]:
        if count == 0:
            return iter(())
        row = conn.execute(
            select(counter.c.last).where(counter.c.name == "document").with_for_update()
        ).first()
        if row is None:
            conn.execute(counter.insert().values(name="document", last=count))
            last = 0
        else:
            last = int(row.last)
            conn.execute(
                update(counter).where(counter.c.name == "document").values(last=last + count)
            )
        return iter(f"{self.document_prefix}{n:08d}" for n in range(last + 1, last + count + 1))

    def refusal(self, m: PostingMessage) -> str | None:
        """Why finance will not post this (None: it will)."""
        b = m.body
        if not b.supplier.finance_reference:
            return (
                f"supplier {b.supplier.id} ({b.supplier.name}) has no account in finance "
                "(finance_reference missing)"
            )
        if b.currency not in self.currencies:
            return f"currency {b.currency} is not kept by this ledger ({', '.join(sorted(self.currencies))})"
        t = b.control_totals
        net = sum((Decimal(x.net_amount) for x in b.lines), Decimal("0.00"))
        vat = sum((Decimal(x.vat_amount) for x in b.lines), Decimal("0.00"))
        problems = []
        if t.line_count != len(b.lines):
            problems.append(f"line_count {t.line_count} but {len(b.lines)} lines")
        if net != Decimal(t.net_total):
            problems.append(f"lines' net {net} but net_total {t.net_total}")
        if vat != Decimal(t.vat_total):
            problems.append(f"lines' VAT {vat} but vat_total {t.vat_total}")
        if Decimal(t.net_total) + Decimal(t.vat_total) != Decimal(t.gross_total):
            problems.append(f"net_total + vat_total is not gross_total {t.gross_total}")
        return f"control totals do not agree: {'; '.join(problems)}" if problems else None

    def _ack(
        self,
        m: PostingMessage,
        status: str,
        number: str | None,
        reason: str | None,
        now: datetime,
    ) -> Acknowledgement:
        return Acknowledgement(
            message_id=str(uuid.uuid4()),
            idempotency_key=m.idempotency_key,
            correlation_id=m.correlation_id,
            occurred_at=now,
            in_reply_to=m.message_id,
            body=AckBody(
                invoice_id=m.body.invoice_id,
                status="posted" if status == "posted" else "rejected",
                finance_document_number=number,
                reason=reason,
            ),
        )
