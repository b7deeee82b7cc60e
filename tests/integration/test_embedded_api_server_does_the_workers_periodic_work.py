"""On the embedded default the API server is the only process: it escalates overdue approval
tasks, re-sends quiet pending work and takes in the inbox folder itself, as ``procure worker``
does with RabbitMQ."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrypoints.api import Runtime, create_app
from entrypoints.api_periodic import periodic_work
from procure.services import queries, requisitions
from tests.conftest import CORPUS, draft, require

BASE = CORPUS / "peppol-bis3" / "rules" / "examples" / "base-example.xml"


def test_an_overdue_task_is_escalated_by_the_servers_own_sweep(app: Any, clock: Any) -> None:
    clock.set(datetime(2026, 12, 18, 9, 0, tzinfo=UTC))  # a Friday
    requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", "SUP-0002"))
    app.drain(fail_fast=True)
    [task] = queries.inbox(app.ctx, "e.walsh")
    settle = Runtime(app, threading.Lock()).settle

    clock.set(datetime(2026, 12, 22, 9, 0, tzinfo=UTC))  # two working days on
    periodic_work(app, sweep=True, settle=settle)
    assert [t["task_id"] for t in queries.inbox(app.ctx, "e.walsh")] == [task["task_id"]]

    clock.set(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))  # three: the sweep escalates it
    periodic_work(app, sweep=True, settle=settle)
    assert queries.inbox(app.ctx, "e.walsh") == []


def test_a_round_without_the_sweep_leaves_overdue_tasks_alone(app: Any, clock: Any) -> None:
    clock.set(datetime(2026, 12, 18, 9, 0, tzinfo=UTC))
    requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", "SUP-0002"))
    app.drain(fail_fast=True)
    clock.set(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    periodic_work(app, sweep=False, settle=Runtime(app, threading.Lock()).settle)
    assert len(queries.inbox(app.ctx, "e.walsh")) == 1


def test_the_running_server_takes_in_the_inbox_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("the conformance corpus", BASE.exists(), str(BASE))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("PROCURE_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("PROCURE_BROKER_URL", "embedded")
    monkeypatch.setenv("PROCURE_INBOX_DIR", str(inbox))
    monkeypatch.setenv("PROCURE_INBOX_SCAN_SECONDS", "1")
    with TestClient(create_app()) as client:  # the lifespan bootstraps and starts the rounds
        assert client.get("/health").status_code == 200
        dropped = inbox / "supplier.xml"
        dropped.write_bytes(BASE.read_bytes())
        old = time.time() - 60  # written a minute ago: settled
        os.utime(dropped, (old, old))
        deadline = time.monotonic() + 20
        while dropped.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not dropped.exists(), "the server never scanned its inbox"
    assert [p.name for p in (inbox / "processed").iterdir()] == ["supplier.xml"]
