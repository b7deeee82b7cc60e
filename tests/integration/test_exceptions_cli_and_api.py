"""Finance works the exception queue from the command line and over HTTP: sees why each invoice
is held, the decision line by line, resolves one, and exports the queue to Excel safely."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from entrypoints.api import create_app
from entrypoints.cli import app as cli
from procure.services import matching_views, orders
from procure.services.admin import issue_token
from tests.conftest import line
from tests.scenarios.invoicing import matching_of, ordered, send_invoice


@pytest.fixture
def held(app: Any) -> tuple[Any, str]:
    po = ordered(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="10", unit_price="21.50"))
    orders.record_receipt(app.ctx, po["number"], [(1, "6")], by="s.jones")
    return app, send_invoice(app, po, "=SUM(A1:A9)")


@pytest.fixture
def run(held: tuple[Any, str], sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PROCURE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PROCURE_BROKER_URL", "embedded")
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_the_queue_the_decision_and_a_resolution_from_the_command_line(held, run, tmp_path: Path):
    app, invoice_id = held

    listed = run("exceptions", "--json")
    [task] = json.loads(listed.stdout)
    assert task["reasons"] == ["quantity_over_received"]
    assert "quantity_over_received" in run("exceptions").stdout

    shown = run("invoice", "show", invoice_id)
    assert shown.exit_code == 0, shown.stdout
    assert "quantity_over_received" in shown.stdout and "line 1:" in shown.stdout
    assert "received 6" in shown.stdout
    as_json = json.loads(run("invoice", "show", invoice_id, "--json").stdout)
    assert as_json["matching"]["state"] == "held"

    out = tmp_path / "queue.xlsx"
    assert run("exceptions", "export", str(out)).exit_code == 0
    sheet = load_workbook(out).active
    header = [c.value for c in sheet[1]]
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    assert row["Invoice"] == "'=SUM(A1:A9)"  # never a live formula
    assert row["Reasons"] == "quantity_over_received"

    refused = run("exceptions", "resolve", task["id"], "--as", "n.shah", "--reason", "x")
    assert refused.exit_code == 2  # no resolution chosen
    done = run(
        "exceptions", "resolve", task["id"], "--wait", "--as", "n.shah", "--reason", "rest due"
    )
    assert done.exit_code == 0, done.stdout
    assert matching_of(app, invoice_id)["state"] == "waiting"
    assert json.loads(run("exceptions", "--json").stdout) == []
    po = json.loads(run("po", "show", "PO-2026-000001", "--json").stdout)
    assert po["lines"][0]["matched"] == "3-way"
    assert Decimal(po["lines"][0]["billed_quantity"]) == 0  # held and waiting: nothing billed


@pytest.fixture
def client(held: tuple[Any, str]) -> Iterator[TestClient]:
    with TestClient(create_app(held[0])) as c:
        yield c


def test_finance_resolves_an_exception_over_http(held, client: TestClient):
    app, invoice_id = held
    auth = {"Authorization": f"Bearer {issue_token(app.ctx, 'n.shah')}"}
    other = {"Authorization": f"Bearer {issue_token(app.ctx, 's.jones')}"}

    assert client.get("/exceptions", headers=other).status_code == 403
    [task] = client.get("/exceptions", headers=auth).json()
    one = client.get(f"/exceptions/{task['id']}", headers=auth).json()
    assert one["invoice_id"] == invoice_id and one["state"] == "open"
    assert client.get("/exceptions/nope", headers=auth).status_code == 404
    shown = client.get(f"/invoices/{invoice_id}", headers=auth).json()
    assert shown["matching"]["decision"]["reasons"][0]["code"] == "quantity_over_received"

    missing = client.post(f"/exceptions/{task['id']}/resolve", json={"resolution": "reject"},
                          headers=auth)  # fmt: skip
    assert missing.status_code == 422
    answer = client.post(
        f"/exceptions/{task['id']}/resolve",
        json={"resolution": "reject", "reason": "we never ordered ten"},
        headers=auth,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "rejected"
    again = client.post(
        f"/exceptions/{task['id']}/resolve",
        json={"resolution": "release", "reason": "changed my mind"},
        headers=auth,
    )
    assert again.status_code == 409
    assert matching_views.exception_queue(app.ctx) == []
    [done] = client.get("/exceptions?state=resolved", headers=auth).json()
    assert done["resolution"] == "reject" and done["resolved_by"] == "n.shah"
    matching = client.get(f"/invoices/{invoice_id}/matching", headers=auth).json()
    assert matching["state"] == "rejected"
