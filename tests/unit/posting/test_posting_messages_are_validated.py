"""The posting and acknowledgement messages refuse what their schema refuses, naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest

import schemas
from procure.messages import MessageRefused, parse_ack, parse_posting


def posting(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "invoice_id": "inv-1",
        "version": 1,
        "document_type": "invoice",
        "supplier": {
            "id": "SUP-0002",
            "name": "Castle Office Supplies Ltd",
            "vat_number": "GB123456789",
            "finance_reference": "V10041",
        },
        "invoice_number": "COS-1",
        "issue_date": "2026-12-01",
        "tax_point_date": None,
        "due_date": "2026-12-31",
        "currency": "GBP",
        "purchase_orders": ["PO-2026-000001"],
        "preceding_invoice": None,
        "lines": [
            {
                "line_no": 1,
                "cost_centre": "CC-FAC",
                "gl_code": "4010",
                "vat_code": "S",
                "net_amount": "215.00",
                "vat_amount": "43.00",
                "description": "paper",
                "purchase_order": "PO-2026-000001",
            }
        ],
        "control_totals": {
            "line_count": 1,
            "net_total": "215.00",
            "vat_total": "43.00",
            "gross_total": "258.00",
            "amount_due": "258.00",
        },
    }
    msg: dict[str, Any] = {
        "message_id": "m-1",
        "idempotency_key": "ap.post:inv-1:1",
        "correlation_id": "inv-1",
        "occurred_at": "2026-12-01T09:00:00Z",
        "message_type": "ap.invoice.posting",
        "schema_version": "1",
        "body": body,
    }
    msg.update(changes)
    return msg


def test_a_good_posting_is_read() -> None:
    msg = parse_posting(json.dumps(posting()).encode())
    assert msg.body.control_totals.gross_total == "258.00"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"{not json", "not JSON"),
        (json.dumps(posting(schema_version="2")).encode(), "unknown schema_version '2'"),
        (json.dumps(posting(message_type="x")).encode(), "message_type 'x'"),
        (json.dumps(posting(extra=1)).encode(), "extra"),
    ],
)
def test_a_bad_posting_is_refused_saying_why(data: bytes, says: str) -> None:
    with pytest.raises(MessageRefused, match=says):
        parse_posting(data)


def test_an_amount_as_a_json_number_is_refused() -> None:
    msg = posting()
    msg["body"]["lines"][0]["net_amount"] = 215.0
    with pytest.raises(MessageRefused, match=r"body\.lines\.0\.net_amount"):
        parse_posting(json.dumps(msg).encode())


def test_an_ack_is_not_a_posting() -> None:
    with pytest.raises(MessageRefused, match=r"expected ap\.invoice\.posting\.ack"):
        parse_ack(json.dumps(posting()).encode())


def test_the_published_schema_requires_the_envelope_and_decimal_strings() -> None:
    schema = schemas.load("ap-invoice-posting", "v1")
    assert {"message_id", "idempotency_key", "message_type", "schema_version"} <= set(
        schema["required"]
    )
    line = schema["$defs"]["GLLine"]["properties"]
    assert line["vat_amount"]["type"] == "string" and "pattern" in line["vat_amount"]


def ack(**body: Any) -> dict[str, Any]:
    return {
        "message_id": "a-1",
        "idempotency_key": "ap.post:inv-1:1",
        "correlation_id": "inv-1",
        "occurred_at": "2026-12-01T09:05:00Z",
        "message_type": "ap.invoice.posting.ack",
        "schema_version": "1",
        "in_reply_to": "m-1",
        "body": {
            "invoice_id": "inv-1",
            "status": "posted",
            "finance_document_number": "AP-000001",
            "reason": None,
            **body,
        },
    }


def test_an_ack_with_a_document_number_longer_than_procure_keeps_is_refused() -> None:
    assert parse_ack(json.dumps(ack(finance_document_number="9" * 64)).encode())
    with pytest.raises(MessageRefused, match=r"body\.finance_document_number: .*at most 64"):
        parse_ack(json.dumps(ack(finance_document_number="9" * 65)).encode())


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"finance_document_number": None}, "posted acknowledgement must carry the finance_document_number"),
        ({"finance_document_number": "  "}, "posted acknowledgement must carry the finance_document_number"),
        ({"status": "rejected", "finance_document_number": None, "reason": None}, "rejected acknowledgement must carry the reason"),
        ({"status": "rejected", "finance_document_number": None, "reason": ""}, "rejected acknowledgement must carry the reason"),
    ],
)  # fmt: skip
def test_an_ack_without_what_its_status_needs_is_refused(body: dict[str, Any], says: str) -> None:
    with pytest.raises(MessageRefused, match=says):
        parse_ack(json.dumps(ack(**body)).encode())
    rejected = ack(status="rejected", finance_document_number=None, reason="closed period")
    assert parse_ack(json.dumps(rejected).encode()).body.reason == "closed period"


def test_the_published_ack_schema_says_what_each_status_carries() -> None:
    import jsonschema

    schema = schemas.load("ap-posting-ack", "v1")
    jsonschema.validate(ack(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(ack(finance_document_number=None), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(ack(status="rejected", finance_document_number=None, reason=" "), schema)  # fmt: skip


def test_json_nested_deeper_than_the_parser_goes_is_refused() -> None:
    with pytest.raises(MessageRefused, match="not JSON"):
        parse_ack(b"[" * 100_000)


# What procure stores of an acknowledgement, and where (the rest is only looked up by).
STORED = {
    "finance_document_number": ("posting", "finance_document_number"),
    "reason": ("posting", "reason"),
}


@pytest.mark.parametrize("field", sorted(STORED))
def test_what_is_stored_of_an_ack_fits_its_column(field: str) -> None:
    from procure.store.tables import metadata

    table, column = STORED[field]
    length = getattr(metadata.tables[table].c[column].type, "length", None)
    published = schemas.load("ap-posting-ack", "v1")["$defs"]["AckBody"]["properties"][field]
    bounds = [b["maxLength"] for b in published["anyOf"] if "maxLength" in b]
    if length is not None:
        assert bounds and bounds[0] <= length, (
            f"{field}: the schema lets through more than {length}"
        )
