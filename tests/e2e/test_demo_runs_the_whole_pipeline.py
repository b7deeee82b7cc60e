"""`make demo` runs the whole pipeline on the embedded default and checks its own outcomes,
matching and its exceptions included."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.demo import run_demo


def test_the_demo_orders_escalates_refuses_and_receives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_demo(str(tmp_path / "demo.db"))
    out = capsys.readouterr().out
    assert status == 0, out
    assert "Requisitions submitted: 9" in out
    assert "ordered            8" in out and "rejected           1" in out
    assert "PO-2026-000008" in out
    assert "Tasks escalated: 1" in out
    assert "Refused attempts: 1" in out
    assert "anti-splitting" in out
    assert "Supplier invoices received: 6" in out
    assert "[BR-CO-16]" in out
    assert "Invoice matching: 9 invoice(s) and credit note(s)" in out
    assert "matched_within_tolerance" in out and "held for quantity_over_received" in out
    for code in ("price_over_tolerance", "duplicate_invoice", "bank_details_changed"):
        assert code in out
    assert "Exceptions resolved by finance: 4" in out and "Exceptions still open: 0" in out
    assert "Trial balance" in out and "  balanced" in out
    checks = [ln for ln in out.splitlines() if ln.startswith("Checks: ")]
    assert checks == ["Checks: 21 of 21 as expected"], out
