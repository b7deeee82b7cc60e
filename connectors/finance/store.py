"""The finance side's own database: the inbox, the document number counter and the ledger.

Imports: sqlalchemy. Finance runs the receiver against its own database (a separate URL,
``PROCURE_FINANCE_DATABASE_URL``; a SQLite file by default), never procure's. Its tables live in
their own ``MetaData`` and are created by ``FinanceStore.create()`` (``procure finance receive``
does it at start); they are few and append-only, so there are no migrations yet.

- ``finance_inbox``: one row per idempotency key processed (posted or rejected), written in the
  same transaction as the effect; a repeat finds it and is answered from it.
- ``finance_counter``: the last finance document number handed out.
- ``ledger_journal`` / ``ledger_line``: the reference ledger's double-entry journals.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

from procure.store.types import ExactDecimal

metadata = MetaData()

inbox = Table(
    "finance_inbox",
    metadata,
    Column("idempotency_key", String(120), primary_key=True),
    Column("message_id", String(64), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("invoice_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("document_number", String(32)),
    Column("reason", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

counter = Table(
    "finance_counter",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last", Integer, nullable=False),
)

journal = Table(
    "ledger_journal",
    metadata,
    Column("document_number", String(32), primary_key=True),
    Column("idempotency_key", String(120), nullable=False, unique=True),
    Column("invoice_id", String(64), nullable=False),
    Column("document_type", String(16), nullable=False),
    Column("supplier_reference", String(64), nullable=False),
    Column("invoice_number", String(64), nullable=False),
    Column("posting_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gross_total", ExactDecimal(16, 2), nullable=False),
)

journal_line = Table(
    "ledger_line",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_number", String(32), nullable=False, index=True),
    Column("account", String(32), nullable=False),
    Column("cost_centre", String(32)),
    Column("debit", ExactDecimal(16, 2), nullable=False),
    Column("credit", ExactDecimal(16, 2), nullable=False),
    Column("memo", String(200)),
)


def make_finance_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class FinanceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> FinanceStore:
        return cls(make_finance_engine(url))

    def create(self) -> None:
        metadata.create_all(self.engine)

    def drop(self) -> None:
        metadata.drop_all(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
