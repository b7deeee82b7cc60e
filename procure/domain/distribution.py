"""How a matched invoice's net amount is spread over the council's accounts.

Imports: the standard library only. Matching produces one ``DistributionLine`` per invoice line
matched to an order line (the order line carries the cost centre, GL code and VAT code the
requisitioner chose); the ``InvoiceMatched`` event carries them, and posting turns them into the
GL distribution of the accounts-payable posting (VAT amounts are allocated there, so that they sum
to the invoice's BT-110).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class DistributionLine:
    invoice_line_id: str
    """BT-126 of the invoice line."""
    po_number: str | None
    po_line_no: int | None
    cost_centre: str
    gl_code: str
    vat_code: str
    """The council's VAT code from the order line (e.g. ``S20``)."""
    vat_category: str
    """BT-151 of the invoice line."""
    vat_rate: Decimal
    """BT-152 of the invoice line, percent."""
    net_amount: Decimal
    """BT-131 of the invoice line (negative on a credit note only if the document says so)."""
    description: str

    def as_data(self) -> dict[str, Any]:
        return {
            "invoice_line_id": self.invoice_line_id,
            "po_number": self.po_number,
            "po_line_no": self.po_line_no,
            "cost_centre": self.cost_centre,
            "gl_code": self.gl_code,
            "vat_code": self.vat_code,
            "vat_category": self.vat_category,
            "vat_rate": str(self.vat_rate),
            "net_amount": str(self.net_amount),
            "description": self.description,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> DistributionLine:
        return cls(
            invoice_line_id=str(data["invoice_line_id"]),
            po_number=data.get("po_number"),
            po_line_no=data.get("po_line_no"),
            cost_centre=str(data["cost_centre"]),
            gl_code=str(data["gl_code"]),
            vat_code=str(data["vat_code"]),
            vat_category=str(data["vat_category"]),
            vat_rate=Decimal(str(data["vat_rate"])),
            net_amount=Decimal(str(data["net_amount"])),
            description=str(data["description"]),
        )
