"""Shared fixtures: a controllable clock, SQLite and the real PostgreSQL and RabbitMQ.

Tests that need PostgreSQL or RabbitMQ skip when the service is missing on a developer's
machine, and FAIL when CI=true (``.ci/run`` starts both first).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from procure.domain.requisition import RequisitionDraft, RequisitionLine
from procure.settings import Settings

PG_URL = os.environ.get(
    "PROCURE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AMQP_URL = os.environ.get("PROCURE_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def require(service: str, available: bool, why: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{service} is required in CI but unavailable: {why}")
    pytest.skip(f"{service} unavailable: {why}")


@dataclass
class FakeClock:
    """A clock the test moves by hand. Starts on Tuesday 1 December 2026, 09:00 UTC."""

    now: datetime = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

    def set(self, when: datetime) -> None:
        self.now = when

    @property
    def today(self) -> date:
        return self.now.date()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    from sqlalchemy import create_engine

    try:
        engine = create_engine(PG_URL)
        with engine.connect() as c:
            c.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        require("PostgreSQL", False, f"{PG_URL}: {exc}")
    return PG_URL


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            pass
    except OSError as exc:
        require("RabbitMQ", False, f"127.0.0.1:5672: {exc}")
    return AMQP_URL


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'procure.db'}"
    url: str = request.getfixturevalue("postgres_url")
    reset_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'procure.db'}"


AppFactory = Callable[..., Any]


@pytest.fixture
def make_app(clock: FakeClock, tmp_path: Path) -> Iterator[AppFactory]:
    """Build the real app (composition root) on a database and broker, with the fake clock."""
    from procure.reference.council_file import load_council
    from procure.services.admin import load_reference_data
    from procure.store import migrate
    from workers.bootstrap import bootstrap

    apps: list[Any] = []

    from connectors.finance.settings import FinanceSettings

    def factory(
        database_url: str,
        broker_url: str = "embedded",
        finance_url: str | None = None,
        **overrides: Any,
    ) -> Any:
        settings = Settings(database_url=database_url, broker_url=broker_url, **overrides)
        finance = FinanceSettings(
            database_url=finance_url or f"sqlite:///{tmp_path / f'finance-{len(apps)}.db'}"
        )
        app = bootstrap(settings, migrate_schema=False, clock=clock, finance_settings=finance)
        migrate.upgrade(app.db.engine)
        load_reference_data(app.ctx, load_council(None), source="sample")
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


@pytest.fixture
def app(make_app: AppFactory, sqlite_url: str) -> Any:
    """The embedded default (SQLite + in-process broker) with the sample council loaded."""
    return make_app(sqlite_url)


def line(
    description: str = "A4 copier paper, 80gsm, box of 5 reams",
    quantity: str = "10",
    unit_price: str = "21.50",
    *,
    unit_code: str = "XBX",
    vat_code: str = "S",
    gl_code: str = "4010",
    category: str = "STATIONERY",
) -> RequisitionLine:
    return RequisitionLine(
        line_no=1,
        description=description,
        quantity=Decimal(quantity),
        unit_code=unit_code,
        unit_price=Decimal(unit_price),
        vat_code=vat_code,
        gl_code=gl_code,
        category=category,
    )


def draft(
    requester: str,
    cost_centre: str,
    supplier: str | None,
    *lines: RequisitionLine,
    need_by: date = date(2027, 1, 29),
    justification: str = "Needed for the service to run",
    quotes: int = 0,
) -> RequisitionDraft:
    numbered = tuple(
        RequisitionLine(**{**ln.__dict__, "line_no": i}) for i, ln in enumerate(lines, start=1)
    )
    return RequisitionDraft(
        requester_id=requester,
        cost_centre=cost_centre,
        need_by=need_by,
        justification=justification,
        lines=numbered or (line(),),
        supplier_id=supplier,
        quotes_attached=quotes,
    )
