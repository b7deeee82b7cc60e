"""Olivia does not know which supplier to use and suggests one by name. The requisition is
approved, but no purchase order can go out until procurement chooses a supplier; then it does."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from procure.domain.approval import Decision
from procure.errors import InvalidTransition, NotAllowed, ValidationFailed
from procure.services import approvals, queries, requisitions
from tests.conftest import draft, line


def approved_without_supplier(app: Any) -> str:
    d = replace(
        draft(
            "o.reid",
            "CC-HSG",
            None,
            line(
                "Waiting room chairs",
                "6",
                "45.00",
                unit_code="C62",
                gl_code="4100",
                category="FACILITIES",
            ),
        ),
        suggested_supplier="the furniture people on Mill Lane",
    )
    req = requisitions.submit(app.ctx, d)
    app.drain(fail_fast=True)
    [task] = queries.inbox(app.ctx, "g.murray")
    approvals.decide(app.ctx, task["task_id"], by="g.murray", decision=Decision.APPROVE)
    app.drain(fail_fast=True)
    return req.number


def test_an_approved_requisition_waits_on_hold_until_procurement_chooses_the_supplier(app: Any):
    number = approved_without_supplier(app)
    view = queries.requisition_status(app.ctx, number)
    assert view["approval_state"] == "approved" and view["order_state"] == "not_ordered"
    assert any("on hold" in e["summary"] for e in view["timeline"])

    requisitions.choose_supplier(app.ctx, number, "SUP-0002", by="a.khan")
    app.drain(fail_fast=True)

    view = queries.requisition_status(app.ctx, number)
    assert view["order_state"] == "ordered"
    assert view["supplier"] == "SUP-0002"
    assert any(e["event"] == "SupplierChosen" and e["actor"] == "a.khan" for e in view["timeline"])


def test_only_procurement_chooses_suppliers_and_only_known_ones(app: Any):
    number = approved_without_supplier(app)
    with pytest.raises(NotAllowed) as refused:
        requisitions.choose_supplier(app.ctx, number, "SUP-0002", by="o.reid")
    assert refused.value.code == "not_procurement"
    with pytest.raises(ValidationFailed):
        requisitions.choose_supplier(app.ctx, number, "SUP-9999", by="a.khan")


def test_a_supplier_cannot_be_changed_once_the_order_is_placed(app: Any):
    number = approved_without_supplier(app)
    requisitions.choose_supplier(app.ctx, number, "SUP-0002", by="a.khan")
    app.drain(fail_fast=True)
    with pytest.raises(InvalidTransition):
        requisitions.choose_supplier(app.ctx, number, "SUP-0005", by="a.khan")
