"""`make demo` runs the whole pipeline on the embedded default and checks its own outcomes."""

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
    assert "Posted to finance: 4" in out
    assert out.count("  posted    AP0000000") == 4
    assert "Trial balance (4 journals)" in out and "  balanced" in out
    checks = [ln for ln in out.splitlines() if ln.startswith("Checks: ")]
    assert checks == ["Checks: 13 of 13 as expected"], out
