"""Boundary documents: what comes in through the CLI and the API, as pydantic models.

Imports: pydantic and ``procure.domain``. A contract converts to a domain draft; pydantic's
errors become ``ValidationFailed`` with the same field paths the domain uses
(``lines[2].quantity``), numbered from 1 as a clerk counts. Money and quantities are decimal
strings or integers; floats are refused, since 0.1 + 0.2 is not 0.3 in binary.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from procure.domain.requisition import RequisitionDraft, RequisitionLine
from procure.errors import FieldProblem, ValidationFailed

SCHEMA_VERSION = "1"


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('write amounts and quantities as decimal strings, e.g. "12.50"')
    if isinstance(value, str):
        return value.strip().replace(",", "").removeprefix("£")
    return value


DecimalText = Annotated[Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False)]


class RequisitionLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: str = Field(min_length=1, max_length=500)
    quantity: DecimalText
    unit_code: str = Field(default="C62", min_length=1, max_length=3, description="UN/ECE Rec 20")
    unit_price: DecimalText
    vat_code: str = Field(min_length=1, max_length=8, description="S, R, Z, E, OS or RC")
    gl_code: str = Field(min_length=1, max_length=32)
    category: str = Field(min_length=1, max_length=32)
    receipt_required: bool | None = Field(
        default=None,
        description=(
            "Goods or services. true: goods, billed only up to what a goods receipt records "
            "(3-way match); false: a service, billed up to what was ordered with no receipt "
            "(2-way match). Left out: a service when unit_code is a service unit (HUR, DAY, WEE, "
            "MON, ANN, MIN, E48, LS), goods otherwise."
        ),
    )


class RequisitionIn(BaseModel):
    """A purchase requisition as a requester submits it (JSON Schema: schemas/requisition)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    requester: str | None = Field(
        default=None, description="Set from the caller's identity; must match if given."
    )
    cost_centre: str
    supplier: str | None = None
    suggested_supplier: str | None = None
    need_by: date
    justification: str = Field(max_length=4000)
    quotes_attached: int = Field(default=0, ge=0, le=20)
    lines: list[RequisitionLineIn] = Field(min_length=1, max_length=500)

    def to_draft(self, requester: str) -> RequisitionDraft:
        if self.requester is not None and self.requester != requester:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "requester",
                        "mismatch",
                        f"submitted as {requester} but names {self.requester}",
                    )
                ],
                what="requisition",
            )
        return RequisitionDraft(
            requester_id=requester,
            cost_centre=self.cost_centre,
            need_by=self.need_by,
            justification=self.justification,
            supplier_id=self.supplier,
            suggested_supplier=self.suggested_supplier,
            quotes_attached=self.quotes_attached,
            lines=tuple(
                RequisitionLine(
                    line_no=i,
                    description=ln.description,
                    quantity=ln.quantity,
                    unit_code=ln.unit_code.upper(),
                    unit_price=ln.unit_price,
                    vat_code=ln.vat_code.upper(),
                    gl_code=ln.gl_code,
                    category=ln.category.upper(),
                    receipt_required=ln.receipt_required,
                )
                for i, ln in enumerate(self.lines, start=1)
            ),
        )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: str = Field(pattern="^(approve|reject|return|delegate)$")
    reason: str | None = Field(default=None, max_length=2000)
    delegate_to: str | None = None


class ReceiptLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    po_line: int = Field(ge=1)
    quantity: DecimalText


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=500)
    received_on: date | None = None
    note: str = Field(default="", max_length=2000)
    is_return: bool = False


def field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + part
    return out or "document"


def problems_from(error: PydanticValidationError) -> list[FieldProblem]:
    return [FieldProblem(field_path(tuple(e["loc"])), e["type"], e["msg"]) for e in error.errors()]


def parse_requisition(data: Any) -> RequisitionIn:
    try:
        return RequisitionIn.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationFailed(problems_from(exc), what="requisition") from None


def parse_receipt(data: Any) -> ReceiptIn:
    try:
        return ReceiptIn.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationFailed(problems_from(exc), what="goods receipt") from None
