"""Settings of a procure process, read from the environment (``PROCURE_*``) or a ``.env`` file.

Imports: pydantic-settings. Nothing reads settings at import time: the composition root
(``workers.bootstrap``) builds ``Settings()`` once and passes what each part needs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED = "embedded"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROCURE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///procure.db",
        description="SQLAlchemy URL. Default: a SQLite file in the working directory.",
    )
    broker_url: str = Field(
        default=EMBEDDED,
        description="'embedded' (in-process broker) or an amqp:// URL for RabbitMQ.",
    )
    policy_file: Path | None = Field(
        default=None, description="Approval policy TOML; default: the packaged council policy."
    )
    worker_threads: int = Field(default=4, ge=1, le=64)
    escalation_sweep_seconds: int = Field(default=300, ge=5)
    reconcile_after_seconds: int = Field(
        default=30, ge=0, description="Work left this long without progress is sent again."
    )
    reconcile_max_per_sweep: int = Field(
        default=1000,
        ge=1,
        description="At most this many items of each kind (the oldest first) are sent again by "
        "one periodic sweep; a later sweep sends the rest.",
    )
    sqlite_busy_timeout_ms: int = Field(default=30000, ge=0)
    inbox_dir: Path | None = Field(
        default=None, description="A folder the workers watch for supplier invoice files."
    )
    inbox_scan_seconds: int = Field(default=10, ge=1)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    posting_resend_after_seconds: int = Field(
        default=300, ge=1, description="Postings finance has not acknowledged are sent again."
    )
    outbox_retention_days: int = Field(
        default=7, ge=0, description="Acknowledged outbox rows are deleted after this long."
    )
    schematron_dir: Path | None = Field(
        default=None,
        description="Strict mode: the CEN EN 16931 validation artefacts (the en16931-cen folder, "
        "or one holding it); when set, XML invoices are also checked by the official compiled "
        "Schematron with saxonche (pip install 'procure[strict]').",
    )

    @field_validator("schematron_dir", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        """``PROCURE_SCHEMATRON_DIR=`` (empty) switches strict mode off, as unset does."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite", "postgresql+psycopg://")):
            raise ValueError("PROCURE_DATABASE_URL must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("broker_url")
    @classmethod
    def _check_broker_url(cls, value: str) -> str:
        value = value.strip()
        if value != EMBEDDED and not value.startswith(("amqp://", "amqps://")):
            raise ValueError("PROCURE_BROKER_URL must be 'embedded' or an amqp:// URL")
        return value

    @property
    def uses_rabbitmq(self) -> bool:
        return self.broker_url != EMBEDDED

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")
