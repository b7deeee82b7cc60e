"""Ports: what the core needs from the outside world, as Protocols the runtime implements.

Imports: the standard library and ``procure.domain``. The composition root (``workers.bootstrap``)
plugs in a dispatcher that sends dramatiq messages; tests plug in fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from procure.domain.events import Event


class EventDispatcher(Protocol):
    """Hands committed events to whatever reacts to them (workers). Called after commit only."""

    def __call__(self, events: Sequence[Event]) -> None: ...


Clock = Callable[[], datetime]
IdFactory = Callable[[], str]


class NullDispatcher:
    """Dispatch nothing (a CLI process with no workers; the recovery sweep catches up later)."""

    def __call__(self, events: Sequence[Event]) -> None:
        return None


class OutboundMessage(Protocol):
    """What a publisher needs of an outbox row: read only, so a frozen dataclass (the finance
    receiver's acknowledgements) satisfies it as well as a table row."""

    @property
    def message_id(self) -> str: ...
    @property
    def idempotency_key(self) -> str: ...
    @property
    def message_type(self) -> str: ...
    @property
    def routing_key(self) -> str: ...
    @property
    def payload(self) -> str: ...


class Publisher(Protocol):
    """Sends outbox messages and returns, per message, None when the far side has it (a
    publisher confirm, or the in-process receiver's commit) or the error that stopped it."""

    def publish(self, messages: Sequence[OutboundMessage]) -> list[str | None]: ...
