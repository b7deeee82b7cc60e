"""A requisition typed in a hurry has mistakes: a cost centre that does not exist, a negative
quantity, no VAT code, a GL code from last year's chart of accounts, "BX" for a box (the UN/ECE
code is "XBX"), and a need-by date already past. procure refuses it as a whole and names every
field and what is wrong, all at once, so the clerk fixes them in one go; and nothing is saved: no
requisition, no audit event, no number used up."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from procure.errors import ValidationFailed
from procure.services import requisitions
from procure.store import tables as t
from tests.conftest import draft, line


def problems_of(app: Any, *args: Any, **kwargs: Any) -> dict[str, tuple[str, str]]:
    with pytest.raises(ValidationFailed) as refused:
        requisitions.submit(app.ctx, draft(*args, **kwargs))
    return {p.field: (p.code, p.message) for p in refused.value.problems}


def rows(app: Any) -> dict[str, int]:
    with app.db.reading() as s:
        return {
            table.__tablename__: s.scalar(select(func.count()).select_from(table))
            for table in (t.RequisitionRow, t.RequisitionLineRow, t.AuditEventRow)
        }


def test_an_unknown_cost_centre_is_named(app):
    problems = problems_of(app, "s.jones", "CC-NOPE", "SUP-0002")
    assert problems == {"cost_centre": ("unknown", "no cost centre 'CC-NOPE'")}


def test_a_negative_quantity_is_named_with_its_line(app):
    problems = problems_of(app, "s.jones", "CC-FAC", "SUP-0002", line(quantity="-3"))
    assert problems["lines[1].quantity"][0] == "not_positive"
    assert "-3" in problems["lines[1].quantity"][1]


def test_a_missing_vat_code_is_named(app):
    problems = problems_of(app, "s.jones", "CC-FAC", "SUP-0002", line(vat_code=""))
    assert problems == {"lines[1].vat_code": ("missing", "a VAT code is required")}


def test_an_unknown_gl_code_is_named(app):
    problems = problems_of(app, "s.jones", "CC-FAC", "SUP-0002", line(gl_code="9999"))
    assert problems == {"lines[1].gl_code": ("unknown", "no GL code '9999'")}


def test_a_bad_unit_code_gets_a_did_you_mean_hint(app):
    problems = problems_of(app, "s.jones", "CC-FAC", "SUP-0002", line(unit_code="BX"))
    code, message = problems["lines[1].unit_code"]
    assert code == "unknown"
    assert "'BX' is not a UN/ECE Rec 20 unit code" in message
    assert "did you mean XBX?" in message


def test_a_need_by_date_in_the_past_is_named(app, clock):
    problems = problems_of(app, "s.jones", "CC-FAC", "SUP-0002", need_by=date(2026, 11, 30))
    assert problems == {"need_by": ("in_the_past", "2026-11-30 is before today")}
    # Today itself is fine.
    requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", "SUP-0002", need_by=clock.today))


def test_several_problems_are_reported_at_once_naming_each_field(app):
    good = line()
    bad = line(
        "Box files",
        quantity="-3",
        unit_code="BX",
        vat_code="",
        gl_code="9999",
    )
    with pytest.raises(ValidationFailed) as refused:
        requisitions.submit(
            app.ctx,
            draft("s.jones", "CC-NOPE", "SUP-0002", good, bad, need_by=date(2026, 11, 1)),
        )

    fields = [(p.field, p.code) for p in refused.value.problems]
    assert sorted(fields) == sorted(
        [
            ("cost_centre", "unknown"),
            ("need_by", "in_the_past"),
            ("lines[2].quantity", "not_positive"),
            ("lines[2].unit_code", "unknown"),
            ("lines[2].vat_code", "missing"),
            ("lines[2].gl_code", "unknown"),
        ]
    )
    assert refused.value.code == "validation_failed"
    as_dict = refused.value.as_dict()
    assert len(as_dict["problems"]) == 6  # type: ignore[arg-type]
    for field, _ in fields:
        assert field in refused.value.message


def test_nothing_is_saved_when_a_requisition_is_refused(app):
    before = rows(app)

    with pytest.raises(ValidationFailed):
        requisitions.submit(app.ctx, draft("s.jones", "CC-NOPE", "SUP-0002", line(gl_code="0")))
    app.drain(fail_fast=True)

    assert rows(app) == before
    assert before["requisition"] == 0

    # The refusal used up no number: the next good requisition is the first of the year.
    req = requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", "SUP-0002"))
    assert req.number == "REQ-2026-000001"


def test_one_bad_requisition_in_a_batch_refuses_the_whole_batch(app):
    before = rows(app)
    batch = [
        draft("s.jones", "CC-FAC", "SUP-0002"),
        draft("s.jones", "CC-FAC", "SUP-0002", line(unit_code="BX")),
    ]

    with pytest.raises(ValidationFailed):
        requisitions.submit_many(app.ctx, batch)

    assert rows(app) == before
