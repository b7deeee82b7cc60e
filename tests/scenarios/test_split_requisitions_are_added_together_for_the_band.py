"""Sarah needs £1,200 of office furniture. Ordered at once it needs the head of service, so two
£600 requisitions to the same supplier a week apart would each slip under the £1,000 band. The
council's anti-splitting rule adds together the same requester's live requisitions to the same
supplier within 30 days: the second is routed in the £10,000 band, with Tom Morgan as head of
service, and its route names the first. A different supplier, a requisition outside the 30-day
window, or one that was withdrawn, is not added."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from procure.services import queries, requisitions
from tests.conftest import draft, line


def chairs() -> Any:
    return line(
        "Office chair, task, fully adjustable",
        "4",
        "150.00",
        unit_code="C62",
        gl_code="4100",
        category="FACILITIES",
    )


def submit_on(app: Any, clock: Any, day: date, supplier: str = "SUP-0002") -> Any:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))
    req = requisitions.submit(app.ctx, draft("s.jones", "CC-FAC", supplier, chairs()))
    app.drain(fail_fast=True)
    return req


def route_of(app: Any, number: str) -> dict[str, Any]:
    route: dict[str, Any] = queries.requisition_status(app.ctx, number)["route"]
    return route


def test_a_second_600_pound_requisition_to_the_same_supplier_is_routed_in_the_10k_band(app, clock):
    first = submit_on(app, clock, date(2026, 12, 1))
    second = submit_on(app, clock, date(2026, 12, 8))

    assert route_of(app, first.number)["band"] == "up to £1,000"
    assert [s["approver"] for s in route_of(app, first.number)["steps"]] == ["e.walsh"]

    route = route_of(app, second.number)
    assert route["amount"] == "600.00"
    assert route["band_amount"] == "1200.00"
    assert route["band"] == "up to £10,000"
    assert route["aggregated_with"] == [first.number]
    assert [(s["approver"], s["role"]) for s in route["steps"]] == [
        ("e.walsh", "budget_holder"),
        ("t.morgan", "head_of_service"),
    ]
    assert route["steps"][1]["required_limit"] == "1200.00"
    [note] = [n for n in route["notes"] if n.startswith("anti-splitting")]
    assert first.number in note
    assert "£1,200.00" in note and "£600.00" in note


def test_a_requisition_to_a_different_supplier_is_not_added(app, clock):
    submit_on(app, clock, date(2026, 12, 1), supplier="SUP-0002")
    other = submit_on(app, clock, date(2026, 12, 8), supplier="SUP-0003")

    route = route_of(app, other.number)
    assert route["band"] == "up to £1,000"
    assert route["band_amount"] == "600.00"
    assert route["aggregated_with"] == []
    assert [s["approver"] for s in route["steps"]] == ["e.walsh"]


def test_the_window_is_thirty_days_and_a_requisition_outside_it_is_not_added(app, clock):
    first = submit_on(app, clock, date(2026, 12, 1))
    on_the_thirtieth_day = submit_on(app, clock, date(2026, 12, 31))
    assert route_of(app, on_the_thirtieth_day.number)["aggregated_with"] == [first.number]

    # 1 January 2027 is 31 days after 1 December: the first no longer counts, the second does.
    later = submit_on(app, clock, date(2027, 1, 1))
    route = route_of(app, later.number)
    assert route["aggregated_with"] == [on_the_thirtieth_day.number]
    assert route["band_amount"] == "1200.00"


def test_a_single_requisition_well_outside_the_window_stays_in_its_own_band(app, clock):
    submit_on(app, clock, date(2026, 12, 1))
    later = submit_on(app, clock, date(2027, 1, 15))

    route = route_of(app, later.number)
    assert route["band"] == "up to £1,000"
    assert route["aggregated_with"] == []
    assert route["notes"] == []


def test_a_withdrawn_requisition_is_not_added(app, clock):
    first = submit_on(app, clock, date(2026, 12, 1))
    requisitions.withdraw(app.ctx, first.number, by="s.jones")
    second = submit_on(app, clock, date(2026, 12, 8))

    route = route_of(app, second.number)
    assert route["aggregated_with"] == []
    assert route["band"] == "up to £1,000"
