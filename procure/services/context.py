"""What every service needs: the database, a clock, ids, the policy, and the event dispatcher.

Built once by the composition root and passed in; never a global.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from procure.domain.calendar import WorkingCalendar, england_and_wales_calendar
from procure.domain.events import Event
from procure.domain.policy import ApprovalPolicy
from procure.domain.reference import Organisation, ReferenceData
from procure.einvoice.schematron import OfficialSchematron
from procure.matching.policy import MatchPolicy, default_match_policy
from procure.ports import Clock, EventDispatcher, IdFactory, NullDispatcher
from procure.store import repository as repo
from procure.store.database import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass
class UnitOfWork:
    """One transaction: events collected here are written to the audit trail on commit."""

    session: Session
    events: list[Event] = field(default_factory=list)

    def record(self, *sources: object) -> None:
        """Take the pending events of domain objects (or lists of events) into this unit."""
        for src in sources:
            if isinstance(src, Event):
                self.events.append(src)
            elif isinstance(src, list):
                self.events.extend(src)
            else:
                pending = getattr(src, "pending_events")  # noqa: B009
                self.events.extend(pending)
                pending.clear()


InTransactionHandler = Callable[["UnitOfWork", Event], None]
"""Runs inside the transaction that recorded the event, before commit: its writes commit or roll
back with the change that caused them (e.g. the posting + outbox rows of a matched invoice)."""


@dataclass
class ServiceContext:
    db: Database
    policy: ApprovalPolicy
    clock: Clock = utc_now
    new_id: IdFactory = new_uuid
    dispatch: EventDispatcher = field(default_factory=NullDispatcher)
    council: Organisation = field(default_factory=Organisation)
    max_document_bytes: int = 20 * 1024 * 1024
    schematron: OfficialSchematron | None = None
    """Strict mode for invoice intake (``PROCURE_SCHEMATRON_DIR``): the official Schematron too."""
    calendar: WorkingCalendar = field(
        default_factory=lambda: england_and_wales_calendar(range(2020, 2041))
    )

    match_policy: MatchPolicy = field(default_factory=default_match_policy)
    """Tolerances and other matching settings (the ``[matching]`` section of the policy file)."""

    handlers: dict[str, list[InTransactionHandler]] = field(default_factory=dict)

    _reference: tuple[int | None, ReferenceData] | None = field(default=None, repr=False)

    def subscribe(self, event_name: str, handler: InTransactionHandler) -> None:
        """Call ``handler(uow, event)`` in the same transaction whenever ``event_name`` is recorded."""
        self.handlers.setdefault(event_name, []).append(handler)

    def reference(self, session: Session) -> ReferenceData:
        """Reference data, cached until a new ReferenceDataLoaded event (one indexed read)."""
        stamp = repo.reference_stamp(session)
        cached = self._reference
        if cached is not None and cached[0] == stamp and stamp is not None:
            return cached[1]
        ref = repo.load_reference(session)
        self._reference = (stamp, ref)
        return ref

    @contextmanager
    def unit(self) -> Iterator[UnitOfWork]:
        """A transaction whose events are appended to the audit trail, then dispatched."""
        with self.db.transaction() as session:
            uow = UnitOfWork(session)
            yield uow
            self._run_handlers(uow)
            repo.append_events(session, uow.events)
        if uow.events:
            self.dispatch(uow.events)

    def _run_handlers(self, uow: UnitOfWork) -> None:
        # Handlers may record further events; those are handled too, in order, in this transaction.
        i = 0
        while i < len(uow.events):
            event = uow.events[i]
            for handler in self.handlers.get(event.name, ()):
                handler(uow, event)
            i += 1
