"""Settings of the finance side (``PROCURE_FINANCE_*``), read once by whoever runs it.

Imports: pydantic-settings. Finance keeps its own database: ``PROCURE_FINANCE_DATABASE_URL``
(default a SQLite file ``finance.db``; PostgreSQL for real use and in the tests).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FinanceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PROCURE_FINANCE_", env_file=".env", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///finance.db", description="The finance side's own database."
    )
    broker_url: str | None = Field(
        default=None,
        description="RabbitMQ the receiver consumes from; default: PROCURE_BROKER_URL.",
    )
    adapters: list[str] = Field(
        default=["ledger"], description="Effects of a posting: 'ledger', 'export' or both."
    )
    export_dir: Path = Field(default=Path("finance-export"), description="For 'export'.")
    prefetch: int = Field(default=200, ge=1, le=5000)
    batch: int = Field(default=100, ge=1, le=5000, description="Postings per transaction.")
    currencies: list[str] = Field(default=["GBP"])
