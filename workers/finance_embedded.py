"""The embedded default's finance: the outbox drained in-process into the finance receiver.

With no RabbitMQ configured, the same outbox rows that the relay would publish are handed to
the same ``Receiver`` (and so the same reference ledger) in this process, and its
acknowledgements are recorded the same way the ack consumer records them. Nothing is skipped:
rows are claimed, "published", acknowledged and cleaned up exactly as with RabbitMQ.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from connectors.finance.receiver import Receiver
from procure.messages import Acknowledgement
from procure.ports import OutboundMessage
from procure.services.context import ServiceContext
from procure.services.outbox import relay_once
from procure.services.posting import record_acknowledgements

log = logging.getLogger("procure.acks")


@dataclass
class InProcessFinance:
    """A ``Publisher`` whose far side is the receiver itself: "confirmed" once finance committed."""

    receiver: Receiver
    acks: list[Acknowledgement] = field(default_factory=list)

    def publish(self, messages: Sequence[OutboundMessage]) -> list[str | None]:
        outcomes = self.receiver.receive([m.payload.encode() for m in messages])
        errors: list[str | None] = []
        for o in outcomes:
            if o.ack is not None:
                self.acks.append(o.ack)
                errors.append(None)
            else:
                errors.append(o.refused or o.failed or "not processed")
        return errors

    def take_acks(self) -> list[Acknowledgement]:
        acks, self.acks = self.acks, []
        return acks


def drain_outbox(ctx: ServiceContext, finance: InProcessFinance, *, batch: int = 500) -> int:
    """Post every due outbox row in-process and record the answers; returns how many."""
    total = 0
    while True:
        result = relay_once(ctx, finance, batch=batch)
        # Answers are recorded after the relay's transaction: SQLite has one writer at a time.
        recorded = record_acknowledgements(ctx, finance.take_acks())
        for key in sorted(recorded.unknown):  # cannot happen in-process: the answer is to our row
            log.warning("acknowledgement for unknown posting %s (not recorded)", key)
        total += result.published
        if result.published == 0:
            return total
