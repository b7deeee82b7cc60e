"""The JSON-lines format every ``procure bench`` figure is printed in."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence


def figure(
    name: str,
    samples: Sequence[float],
    unit: str,
    *,
    anchor: str | None = None,
    anchor_samples: Sequence[float] | None = None,
) -> dict[str, object]:
    value = statistics.median(samples)
    anchor_value = statistics.median(anchor_samples) if anchor_samples else None
    return {
        "figure": name,
        "value": round(value, 2),
        "unit": unit,
        "anchor": anchor,
        "anchor_value": None if anchor_value is None else round(anchor_value, 2),
        "ratio": None if not anchor_value else round(value / anchor_value, 3),
        "runs": len(samples),
    }


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)
