"""A new user drives the `procure` command line on the embedded default, as the README says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "requisition.json"


def procure(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCURE_")}
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(EXAMPLE.parents[1])},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_submit_approve_order_and_receive_from_the_command_line(tmp_path: Path) -> None:
    assert procure(tmp_path, "load-sample").returncode == 0
    submitted = procure(
        tmp_path, "requisition", "submit", str(EXAMPLE), "--as", "s.jones", "--json"
    )
    assert submitted.returncode == 0, submitted.stderr
    number = json.loads(submitted.stdout)["number"]

    inbox = json.loads(procure(tmp_path, "tasks", "--as", "e.walsh", "--json").stdout)
    [task] = [t for t in inbox if t["requisition"] == number]

    refused = procure(tmp_path, "task", "approve", task["task_id"], "--as", "s.jones")
    assert refused.returncode == 2
    assert "self_approval" in refused.stderr

    assert procure(tmp_path, "task", "approve", task["task_id"], "--as", "e.walsh").returncode == 0
    shown = json.loads(procure(tmp_path, "requisition", "show", number, "--json").stdout)
    assert shown["order_state"] == "ordered"
    po = shown["purchase_order"]["number"]

    received = procure(tmp_path, "receipt", "record", po, "--as", "s.jones", "--line", "1=4")
    assert received.returncode == 0, received.stderr
    assert "partially_received" in received.stdout

    over = procure(tmp_path, "receipt", "record", po, "--as", "s.jones", "--line", "2=9")
    assert over.returncode == 2 and "over_receipt" in over.stderr


def test_a_bad_requisition_file_is_refused_naming_the_fields(tmp_path: Path) -> None:
    assert procure(tmp_path, "load-sample").returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "cost_centre": "CC-NOPE",
                "supplier": "SUP-0002",
                "need_by": "2099-01-01",
                "justification": "Paper for the print room",
                "lines": [
                    {
                        "description": "Paper",
                        "quantity": "-2",
                        "unit_code": "C62",
                        "unit_price": "1.00",
                        "vat_code": "S",
                        "gl_code": "4010",
                        "category": "STATIONERY",
                    }
                ],
            }
        )
    )
    result = procure(tmp_path, "requisition", "submit", str(bad), "--as", "s.jones")
    assert result.returncode == 2
    assert "cost_centre" in result.stderr and "lines[1].quantity" in result.stderr
