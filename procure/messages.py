"""The messages between procure and finance: the AP invoice posting and its acknowledgement.

Imports: pydantic. These models are the contract; ``schemas/ap-invoice-posting/v1.json`` and
``schemas/ap-posting-ack/v1.json`` are generated from them (``python -m schemas.generate``; a test
fails when they are stale). Both sides validate with these models, when publishing and when
receiving: pydantic is already the project's boundary library, its schema is the published one
(one source of truth), and it is fast enough for thousands of messages a second.

Amounts are decimal strings with exactly two decimals (``"1234.50"``, ``"-3.00"``), never JSON
numbers, so that no float ever touches money on either side.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationError,
    model_validator,
)

POSTING_TYPE: Final = "ap.invoice.posting"
ACK_TYPE: Final = "ap.invoice.posting.ack"
SCHEMA_VERSION: Final = "1"

Amount = Annotated[str, StringConstraints(pattern=r"^-?(0|[1-9][0-9]{0,13})\.[0-9]{2}$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def amount(value: Decimal) -> str:
    """A Decimal as the messages' amount string (two decimals, no exponent)."""
    return f"{value.quantize(Decimal('0.01')):f}"


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_serialization_defaults_required=True
    )


class Envelope(_Strict):
    message_id: Code = Field(description="Unique per message sent (a UUID).")
    idempotency_key: Code = Field(
        description="Same for every send of one effect: ap.post:<invoice id>:<version>."
    )
    correlation_id: Code = Field(description="The invoice document id the message is about.")
    occurred_at: dt.datetime = Field(description="When the posting was decided (UTC).")


class SupplierRef(_Strict):
    id: Code
    name: str
    vat_number: str | None
    finance_reference: str | None = Field(
        description="The supplier's account in the finance system; null if not set up."
    )


class GLLine(_Strict):
    line_no: int = Field(ge=1)
    cost_centre: Code
    gl_code: Code
    vat_code: Code = Field(description="The council's VAT code, e.g. S (standard 20%).")
    net_amount: Amount
    vat_amount: Amount = Field(description="This line's share of BT-110 (see README).")
    description: str = Field(max_length=500)
    purchase_order: str | None


class ControlTotals(_Strict):
    line_count: int = Field(ge=1)
    net_total: Amount = Field(description="Sum of lines' net_amount = BT-109.")
    vat_total: Amount = Field(description="Sum of lines' vat_amount = BT-110.")
    gross_total: Amount = Field(description="net_total + vat_total = BT-112.")
    amount_due: Amount = Field(description="BT-115 (after prepaid amounts and rounding).")


class PostingBody(_Strict):
    invoice_id: Code
    version: int = Field(ge=1)
    document_type: Literal["invoice", "credit_note"]
    supplier: SupplierRef
    invoice_number: Code
    issue_date: dt.date
    tax_point_date: dt.date | None
    due_date: dt.date
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    purchase_orders: list[str]
    preceding_invoice: str | None = Field(description="For a credit note: the invoice it credits.")
    lines: list[GLLine] = Field(min_length=1, max_length=10_000)
    control_totals: ControlTotals


class PostingMessage(Envelope):
    """An accounts-payable invoice posting (schema ``ap-invoice-posting`` v1)."""

    message_type: Literal["ap.invoice.posting"] = POSTING_TYPE
    schema_version: Literal["1"] = SCHEMA_VERSION
    body: PostingBody


_ACK_STATUS_RULES: list[JsonValue] = [
    {
        "if": {"properties": {"status": {"const": "posted"}}},
        "then": {"properties": {"finance_document_number": {"type": "string", "pattern": r"\S"}}},
    },
    {
        "if": {"properties": {"status": {"const": "rejected"}}},
        "then": {"properties": {"reason": {"type": "string", "pattern": r"\S"}}},
    },
]
"""What each status carries, in the published schema (``AckBody._carries_its_status``)."""


class AckBody(_Strict):
    model_config = ConfigDict(json_schema_extra={"allOf": _ACK_STATUS_RULES})

    invoice_id: Code
    status: Literal["posted", "rejected"]
    finance_document_number: str | None = Field(
        max_length=64, description="Set when posted; at most 64 characters (procure keeps it)."
    )
    reason: str | None = Field(description="Set when rejected: what finance refused.")

    @model_validator(mode="after")
    def _carries_its_status(self) -> AckBody:
        """A posted answer names the finance document; a rejected one says why: without them
        procure could record neither (nor could a clerk act on the rejection)."""
        if self.status == "posted" and not (self.finance_document_number or "").strip():
            raise ValueError("a posted acknowledgement must carry the finance_document_number")
        if self.status == "rejected" and not (self.reason or "").strip():
            raise ValueError("a rejected acknowledgement must carry the reason")
        return self


class Acknowledgement(Envelope):
    """Finance's answer to one posting (schema ``ap-posting-ack`` v1); ``idempotency_key`` and
    ``correlation_id`` are the posting's, ``in_reply_to`` its message id."""

    message_type: Literal["ap.invoice.posting.ack"] = ACK_TYPE
    schema_version: Literal["1"] = SCHEMA_VERSION
    in_reply_to: Code
    body: AckBody


class MessageRefused(Exception):
    """A message that can never be processed (bad JSON, unknown version, schema violation)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _decode(data: bytes, expected_type: str) -> dict[str, object]:
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MessageRefused(f"not JSON: {exc}") from exc
    except RecursionError as exc:  # nested deeper than the parser goes: never a real message
        raise MessageRefused("not JSON: nested too deeply") from exc
    if not isinstance(raw, dict):
        raise MessageRefused("not a JSON object")
    if raw.get("message_type") != expected_type:
        raise MessageRefused(f"message_type {raw.get('message_type')!r}, expected {expected_type}")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise MessageRefused(f"unknown schema_version {raw.get('schema_version')!r}")
    return raw


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])


def parse_posting(data: bytes) -> PostingMessage:
    raw = _decode(data, POSTING_TYPE)
    try:
        return PostingMessage.model_validate(raw)
    except ValidationError as exc:
        raise MessageRefused(f"invalid posting: {_problems(exc)}") from exc


def parse_ack(data: bytes) -> Acknowledgement:
    raw = _decode(data, ACK_TYPE)
    try:
        return Acknowledgement.model_validate(raw)
    except ValidationError as exc:
        raise MessageRefused(f"invalid acknowledgement: {_problems(exc)}") from exc


def encode(message: PostingMessage | Acknowledgement) -> bytes:
    """JSON bytes of a message (built through the model, so already validated)."""
    return message.model_dump_json().encode()
