"""Versioned document and message schemas (JSON Schema, XSD), shipped as package data.

``schemas/requisition/v1.json`` is generated from ``procure.contracts.RequisitionIn`` by
``python -m schemas.generate``; a test fails when it is out of date.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load(name: str, version: str) -> dict[str, Any]:
    """A schema by name and version, e.g. ``load("requisition", "v1")``."""
    text = resources.files("schemas").joinpath(name, f"{version}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
