"""Regenerate the JSON Schemas that are derived from the boundary models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from procure.contracts import ReceiptIn, RequisitionIn
from procure.messages import Acknowledgement, PostingMessage

HERE = Path(__file__).resolve().parent


def requisition_v1() -> dict[str, Any]:
    schema = RequisitionIn.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:procure:schema:requisition:v1"
    return schema


def receipt_v1() -> dict[str, Any]:
    schema = ReceiptIn.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:procure:schema:goods-receipt:v1"
    return schema


def posting_v1() -> dict[str, Any]:
    schema = PostingMessage.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:procure:schema:ap-invoice-posting:v1"
    schema["description"] = (
        "An accounts-payable invoice posting from procure to finance. Amounts are decimal "
        "strings with two decimals; the idempotency_key is the same for every send of one effect."
    )
    return schema


def posting_ack_v1() -> dict[str, Any]:
    schema = Acknowledgement.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "urn:procure:schema:ap-posting-ack:v1"
    schema["description"] = (
        "Finance's acknowledgement of one posting: posted with the finance document number, "
        "or rejected with a reason."
    )
    return schema


GENERATED = {
    ("requisition", "v1"): requisition_v1,
    ("goods-receipt", "v1"): receipt_v1,
    ("ap-invoice-posting", "v1"): posting_v1,
    ("ap-posting-ack", "v1"): posting_ack_v1,
}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    for (name, version), build in GENERATED.items():
        path = HERE / name / f"{version}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(build()), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
