"""Finance uploads supplier invoices over HTTP: accepted, quarantined or recognised again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrypoints.api import create_app
from procure.einvoice.synthetic import synthetic_invoice
from procure.einvoice.ubl_writer import render_ubl
from procure.services.admin import issue_token


@pytest.fixture
def procure(make_app: Callable[..., Any], sqlite_url: str) -> Any:
    return make_app(sqlite_url)


@pytest.fixture
def client(procure: Any) -> Iterator[TestClient]:
    with TestClient(create_app(procure)) as c:
        yield c


def headers(procure: Any, person: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {issue_token(procure.ctx, person)}",
        "Content-Type": "application/xml",
    }


def test_finance_uploads_an_invoice_and_sees_it_accepted(procure: Any, client: TestClient):
    data = render_ubl(synthetic_invoice(3, seed=7))
    answer = client.post(
        "/invoices?filename=inv.xml", content=data, headers=headers(procure, "n.shah")
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "accepted"
    shown = client.get(f"/invoices/{body['id']}", headers=headers(procure, "n.shah")).json()
    assert shown["timeline"][0]["event"] == "InvoiceAccepted"

    again = client.post("/invoices", content=data, headers=headers(procure, "n.shah")).json()
    assert again["status"] == "duplicate" and again["duplicate_of"] == body["id"]


def test_a_hostile_upload_is_quarantined_with_its_reason(procure: Any, client: TestClient):
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<Invoice>&e;</Invoice>"
    )
    body = client.post("/invoices", content=xxe, headers=headers(procure, "a.khan")).json()
    assert body["status"] == "rejected"
    assert body["findings"][0]["rule"] == "PROCURE-XML-doctype_refused"
    quarantine = client.get("/invoices/quarantine", headers=headers(procure, "n.shah")).json()
    assert [q["id"] for q in quarantine] == [body["id"]]


def test_only_finance_and_procurement_upload_invoices(procure: Any, client: TestClient):
    answer = client.post("/invoices", content=b"<x/>", headers=headers(procure, "s.jones"))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "role_required"


def test_invoice_uploads_may_exceed_the_json_body_limit_but_not_the_upload_limit(
    procure: Any, client: TestClient
):
    big = render_ubl(synthetic_invoice(2500, seed=3))
    assert len(big) > 1_048_576
    ok = client.post("/invoices", content=big, headers=headers(procure, "n.shah"))
    assert ok.status_code == 201 and ok.json()["status"] == "accepted"
    too_big = client.post(
        "/invoices", content=b" " * (21 * 1024 * 1024), headers=headers(procure, "n.shah")
    )
    assert too_big.status_code == 413
