"""The HTTP API end to end: bearer tokens, the requisition-to-receipt flow, and the error shapes.

Runs over ``create_app(make_app(...))`` with the embedded broker; the main flow runs on SQLite and
on the real PostgreSQL. The fake clock starts on Tuesday 1 December 2026.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from entrypoints.api import create_app
from procure.services.admin import issue_token

Headers = dict[str, str]


def paper_line(**overrides: Any) -> dict[str, Any]:
    return {
        "description": "A4 copier paper, 80gsm, box of 5 reams",
        "quantity": "10",
        "unit_code": "XBX",
        "unit_price": "21.50",
        "vat_code": "S",
        "gl_code": "4010",
        "category": "STATIONERY",
        **overrides,
    }


def requisition_body(*lines: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "cost_centre": "CC-FAC",
        "supplier": "SUP-0002",
        "need_by": "2027-01-29",
        "justification": "Paper for the print room this quarter",
        "lines": list(lines) or [paper_line()],
        **overrides,
    }


def problems(response: Any) -> dict[str, str]:
    """field → code of a 422 answer."""
    return {p["field"]: p["code"] for p in response.json()["error"]["problems"]}


@pytest.fixture
def procure(make_app: Callable[..., Any], sqlite_url: str) -> Any:
    return make_app(sqlite_url)


@pytest.fixture
def client(procure: Any) -> Iterator[TestClient]:
    with TestClient(create_app(procure)) as c:
        yield c


@pytest.fixture
def as_(procure: Any) -> Callable[[str], Headers]:
    """Headers carrying a freshly issued token for a person."""

    def headers(person: str) -> Headers:
        return {"Authorization": f"Bearer {issue_token(procure.ctx, person, label='test')}"}

    return headers


def submit(client: TestClient, headers: Headers, body: dict[str, Any] | None = None) -> Any:
    response = client.post("/requisitions", json=body or requisition_body(), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def only_task(client: TestClient, headers: Headers, number: str) -> dict[str, Any]:
    [task] = [t for t in client.get("/tasks", headers=headers).json() if t["requisition"] == number]
    return task


# -- the main flow, on SQLite and PostgreSQL -------------------------------------------------------
def test_a_stationery_requisition_goes_from_submission_to_approval_order_and_receipt(
    make_app: Callable[..., Any], database_url: str
) -> None:
    the_app = make_app(database_url)
    jones, walsh, green = (
        {"Authorization": f"Bearer {issue_token(the_app.ctx, p)}"}
        for p in ("s.jones", "e.walsh", "r.green")
    )
    with TestClient(create_app(the_app)) as client:
        created = client.post("/requisitions", json=requisition_body(), headers=jones)
        assert created.status_code == 201, created.text
        req = created.json()
        number = req["number"]
        assert created.headers["Location"] == f"/requisitions/{number}"
        assert req["requester"] == "s.jones"
        assert req["approval_state"] == "pending_approval"
        assert (req["net_total"], req["vat_total"], req["gross_total"]) == (
            "215.00",
            "43.00",
            "258.00",
        )
        assert [s["approver"] for s in req["route"]["steps"]] == ["e.walsh"]
        assert req["waiting_on"]["assignee"] == "e.walsh"

        seen = client.get(f"/requisitions/{number}", headers=jones).json()
        assert [e["event"] for e in seen["timeline"]][:3] == [
            "RequisitionSubmitted",
            "RequisitionRouted",
            "ApprovalTaskCreated",
        ]
        [mine] = client.get("/requisitions", params={"mine": "true"}, headers=jones).json()
        assert (mine["number"], mine["waiting_on"]) == (number, "e.walsh")

        assert client.get("/tasks", headers=green).json() == []
        task = only_task(client, walsh, number)
        assert (task["requester"], task["net_total"]) == ("s.jones", "215.00")
        decided = client.post(
            f"/tasks/{task['task_id']}/decision", json={"decision": "approve"}, headers=walsh
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["requisition_number"] == number
        assert client.get("/tasks", headers=walsh).json() == []

        after = client.get(f"/requisitions/{number}", headers=jones).json()
        assert (after["approval_state"], after["order_state"]) == ("approved", "ordered")
        po = after["purchase_order"]["number"]
        assert po == "PO-2026-000001"

        order = client.get(f"/purchase-orders/{po}", headers=jones).json()
        assert (order["supplier"], order["receipt_state"]) == ("SUP-0002", "not_received")
        received = client.post(
            f"/purchase-orders/{po}/receipts",
            json={"lines": [{"po_line": 1, "quantity": "6"}], "note": "first delivery"},
            headers=jones,
        )
        assert received.status_code == 201, received.text
        assert received.json()["receipt"].startswith("GRN-")
        order = received.json()["purchase_order"]
        assert order["receipt_state"] == "partially_received"
        # PostgreSQL keeps the column's scale ("6.0000"), SQLite does not ("6"): compare values.
        line_1 = order["lines"][0]
        assert (Decimal(line_1["received_quantity"]), Decimal(line_1["outstanding"])) == (6, 4)

        over = client.post(
            f"/purchase-orders/{po}/receipts",
            json={"lines": [{"po_line": 1, "quantity": "5"}]},
            headers=jones,
        )
        assert over.status_code == 409
        assert over.json()["error"]["code"] == "over_receipt"
        assert "5%" in over.json()["error"]["message"]

        returned = client.post(
            f"/purchase-orders/{po}/receipts",
            json={"lines": [{"po_line": 1, "quantity": "1"}], "is_return": True, "note": "torn"},
            headers=jones,
        )
        assert returned.status_code == 201, returned.text
        order = returned.json()["purchase_order"]
        assert Decimal(order["lines"][0]["received_quantity"]) == 5
        [back] = order["receipts"][-1]["lines"]
        assert (back["po_line"], Decimal(back["quantity"])) == (1, -1)


# -- authentication ------------------------------------------------------------------------------
def test_calls_without_a_token_or_with_an_unknown_one_are_refused_with_401(
    client: TestClient,
) -> None:
    missing = client.get("/tasks")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "not_authenticated"

    bad = client.get("/me", headers={"Authorization": "Bearer pct_not-a-real-token"})
    assert bad.status_code == 401
    assert bad.headers["WWW-Authenticate"].startswith("Bearer")

    basic = client.get("/me", headers={"Authorization": "Basic czpqb25lcw=="})
    assert basic.status_code == 401
    assert client.post("/requisitions", json=requisition_body()).status_code == 401


def test_me_names_the_token_holder_and_health_needs_no_token(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    me = client.get("/me", headers=as_("r.green")).json()
    assert (me["id"], me["name"]) == ("r.green", "Richard Green")
    assert me["roles"] == ["budget_holder", "requisitioner"]

    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "database": "ok",
        "dialect": "sqlite",
        "broker": "embedded",
    }


# -- authorisation -------------------------------------------------------------------------------
def test_only_requisitioners_may_submit(client: TestClient, as_: Callable[[str], Headers]) -> None:
    refused = client.post("/requisitions", json=requisition_body(), headers=as_("e.walsh"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "role_required"


def test_nobody_but_the_assignee_acts_on_a_task_and_strangers_cannot_see_it(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    jones, walsh = as_("s.jones"), as_("e.walsh")
    number = submit(client, jones)["number"]
    task_id = only_task(client, walsh, number)["task_id"]

    by_requester = client.post(
        f"/tasks/{task_id}/decision", json={"decision": "approve"}, headers=jones
    )
    assert by_requester.status_code == 403
    assert by_requester.json()["error"]["code"] == "self_approval"
    by_other = client.post(
        f"/tasks/{task_id}/decision", json={"decision": "approve"}, headers=as_("r.green")
    )
    assert by_other.status_code == 403
    assert by_other.json()["error"]["code"] == "not_assignee"

    stranger = client.get(f"/requisitions/{number}", headers=as_("a.price"))
    assert stranger.status_code == 403
    assert stranger.json()["error"]["code"] == "not_your_requisition"
    assert client.get(f"/requisitions/{number}", headers=walsh).status_code == 200

    timeline = client.get(f"/requisitions/{number}", headers=jones).json()["timeline"]
    assert [e["event"] for e in timeline].count("ApprovalDecisionRefused") == 2
    assert client.get(f"/requisitions/{number}", headers=jones).json()["approval_state"] == (
        "pending_approval"
    )


def test_a_budget_holder_cannot_approve_her_own_requisition_routed_to_her_manager(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    green = as_("r.green")
    req = submit(client, green, requisition_body(cost_centre="CC-GRD"))
    assert [s["approver"] for s in req["route"]["steps"]] == ["l.evans"]
    task_id = req["waiting_on"]["task_id"]

    refused = client.post(f"/tasks/{task_id}/decision", json={"decision": "approve"}, headers=green)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "self_approval"
    assert only_task(client, as_("l.evans"), req["number"])["task_id"] == task_id


# -- input errors ------------------------------------------------------------------------------
def test_bad_requisitions_are_refused_with_422_naming_each_field(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    jones = as_("s.jones")
    negative = client.post(
        "/requisitions",
        json=requisition_body(paper_line(), paper_line(quantity="-2"), cost_centre="CC-NOPE"),
        headers=jones,
    )
    assert negative.status_code == 422
    error = negative.json()["error"]
    assert error["code"] == "validation_failed"
    assert problems(negative) == {"cost_centre": "unknown", "lines[2].quantity": "not_positive"}

    first = client.post(
        "/requisitions", json=requisition_body(paper_line(quantity="-1")), headers=jones
    )
    assert problems(first) == {"lines[1].quantity": "not_positive"}

    floats = client.post(
        "/requisitions",
        json=requisition_body(paper_line(unit_price=21.5, quantity=10)),
        headers=jones,
    )
    assert floats.status_code == 422
    assert floats.json()["error"]["code"] == "validation_failed"
    assert list(problems(floats)) == ["lines[1].unit_price"]
    [problem] = floats.json()["error"]["problems"]
    assert "decimal strings" in problem["message"]

    incomplete = client.post(
        "/requisitions",
        json={**requisition_body(paper_line(vat_code=None)), "colour": "blue"},
        headers=jones,
    )
    assert problems(incomplete) == {"lines[1].vat_code": "string_type", "colour": "extra_forbidden"}

    garbled = client.post(
        "/requisitions",
        content=b'{"cost_centre": ',
        headers={**jones, "Content-Type": "application/json"},
    )
    assert garbled.status_code == 422
    assert list(problems(garbled)) == ["document"]
    assert client.get("/requisitions", params={"mine": "true"}, headers=jones).json() == []


def test_rejecting_needs_a_reason_and_delegating_needs_a_delegate(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    walsh = as_("e.walsh")
    number = submit(client, as_("s.jones"))["number"]
    task_id = only_task(client, walsh, number)["task_id"]
    url = f"/tasks/{task_id}/decision"

    no_reason = client.post(url, json={"decision": "reject", "reason": "  "}, headers=walsh)
    assert no_reason.status_code == 422
    assert problems(no_reason) == {"reason": "missing"}
    nobody = client.post(url, json={"decision": "delegate"}, headers=walsh)
    assert problems(nobody) == {"delegate_to": "missing"}
    unknown = client.post(url, json={"decision": "ignore"}, headers=walsh)
    assert problems(unknown) == {"decision": "string_pattern_mismatch"}

    rejected = client.post(
        url, json={"decision": "reject", "reason": "Use the framework supplier"}, headers=walsh
    )
    assert rejected.status_code == 200
    again = client.post(url, json={"decision": "approve"}, headers=walsh)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"


def test_unknown_documents_are_404_in_the_same_error_shape(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    jones = as_("s.jones")
    for url in ("/requisitions/REQ-2026-999999", "/purchase-orders/PO-2026-999999"):
        missing = client.get(url, headers=jones)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
    no_task = client.post(
        "/tasks/no-such-task/decision", json={"decision": "approve"}, headers=jones
    )
    assert no_task.status_code == 404
    assert client.get("/nowhere").json()["error"]["code"] == "not_found"


def test_request_bodies_above_one_megabyte_are_refused_with_413(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    jones = as_("s.jones")
    big = b'{"justification": "' + b"x" * 1_100_000 + b'"}'
    declared = client.post(
        "/requisitions", content=big, headers={**jones, "Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "body_too_large"

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 65_536):
            yield big[i : i + 65_536]

    streamed = client.post(
        "/requisitions", content=chunks(), headers={**jones, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


# -- amend and withdraw --------------------------------------------------------------------------
def test_a_returned_requisition_is_amended_and_routed_again_then_withdrawn(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    jones, walsh = as_("s.jones"), as_("e.walsh")
    number = submit(client, jones)["number"]
    task_id = only_task(client, walsh, number)["task_id"]
    returned = client.post(
        f"/tasks/{task_id}/decision",
        json={"decision": "return", "reason": "How many boxes are left?"},
        headers=walsh,
    )
    assert returned.status_code == 200
    assert client.get(f"/requisitions/{number}", headers=jones).json()["approval_state"] == (
        "returned"
    )

    not_mine = client.put(f"/requisitions/{number}", json=requisition_body(), headers=walsh)
    assert not_mine.status_code == 403
    amended = client.put(
        f"/requisitions/{number}", json=requisition_body(paper_line(quantity="4")), headers=jones
    )
    assert amended.status_code == 200, amended.text
    view = amended.json()
    assert (view["version"], view["approval_state"], view["net_total"]) == (
        2,
        "pending_approval",
        "86.00",
    )
    assert view["waiting_on"]["assignee"] == "e.walsh"

    withdrawn = client.post(f"/requisitions/{number}/withdraw", headers=jones)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["approval_state"] == "withdrawn"
    assert client.get("/tasks", headers=walsh).json() == []
    twice = client.post(f"/requisitions/{number}/withdraw", headers=jones)
    assert twice.status_code == 409


# -- documentation and the bootstrapped app ------------------------------------------------------
def test_openapi_documents_every_endpoint_with_bearer_authentication(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {
        "/requisitions",
        "/requisitions/{number}",
        "/requisitions/{number}/withdraw",
        "/tasks",
        "/tasks/{task_id}/decision",
        "/purchase-orders/{number}",
        "/purchase-orders/{number}/receipts",
        "/me",
        "/health",
    } <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    post = spec["paths"]["/requisitions"]["post"]
    assert post["tags"] == ["requisitions"]
    assert {"201", "401", "403", "422"} <= set(post["responses"])


def test_without_an_app_the_api_bootstraps_one_on_startup_and_closes_it(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    monkeypatch.setenv("PROCURE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PROCURE_BROKER_URL", "embedded")
    api = create_app()
    with TestClient(api) as client:
        assert client.get("/health").json()["database"] == "ok"
        assert client.get("/me").status_code == 401


def test_a_line_says_goods_or_services_and_the_order_line_carries_it(
    client: TestClient, as_: Callable[[str], Headers]
) -> None:
    jones, walsh = as_("s.jones"), as_("e.walsh")
    body = requisition_body(
        paper_line(description="Scaffold tower hire", unit_code="DAY", receipt_required=True),
        paper_line(description="Site survey report", unit_code="C62", receipt_required=False),
        paper_line(description="Cleaning, hours", unit_code="HUR"),
    )
    req = submit(client, jones, body)
    assert [ln["receipt_required"] for ln in req["lines"]] == [True, False, False]
    task = only_task(client, walsh, req["number"])
    client.post(f"/tasks/{task['task_id']}/decision", json={"decision": "approve"}, headers=walsh)
    po = client.get(f"/requisitions/{req['number']}", headers=jones).json()["purchase_order"]

    order = client.get(f"/purchase-orders/{po['number']}", headers=jones).json()

    assert [(ln["receipt_required"], ln["matching"]) for ln in order["lines"]] == [
        (True, "3-way"),
        (False, "2-way"),
        (False, "2-way"),
    ]
    refused = client.post(
        "/requisitions",
        json=requisition_body(paper_line(receipt_required="perhaps")),
        headers=jones,
    )
    assert refused.status_code == 422
    assert "lines[1].receipt_required" in problems(refused)
