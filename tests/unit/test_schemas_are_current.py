"""The published JSON Schemas match the boundary models they are generated from."""

from __future__ import annotations

import json

import pytest

import schemas
from schemas.generate import GENERATED, render


@pytest.mark.parametrize(("name", "version"), sorted(GENERATED))
def test_published_schema_matches_the_model(name: str, version: str) -> None:
    published = schemas.load(name, version)
    assert render(published) == render(GENERATED[(name, version)]()), (
        f"schemas/{name}/{version}.json is stale: run python -m schemas.generate"
    )


def test_requisition_schema_names_every_line_field() -> None:
    schema = schemas.load("requisition", "v1")
    line = schema["$defs"]["RequisitionLineIn"]["properties"]
    assert {"quantity", "unit_price", "vat_code", "gl_code"} <= set(line)
    assert json.dumps(schema)  # serialisable
