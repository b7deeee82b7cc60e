"""Adapter (2): an import file for a finance system, as CSV and as XML (validated by its XSD).

Imports: lxml, the standard library and this package. For each posting, two files in the
export folder, named after the idempotency key (``ap.post_<invoice id>_<version>.csv`` and
``.xml``), written atomically (temporary file, then rename) inside the receiver's transaction:
a redelivered message whose first attempt never committed writes the same names again, so a
posting never leaves two files.

CSV layout (UTF-8, comma-separated, RFC 4180 quoting, a header row, one row per GL line):

    document_number, document_type (invoice | credit_note), supplier_reference, supplier_name,
    invoice_number, issue_date (YYYY-MM-DD), due_date, currency, line_no, cost_centre, gl_code,
    vat_code, net_amount, vat_amount, gross_amount (net + VAT of the line), purchase_order,
    description

Amounts have two decimals and a point, no thousands separator; a credit note's amounts are
positive and its document_type says it is a credit. The XML twin follows
``schemas/finance-export/v1.xsd`` (namespace ``urn:procure:finance-export:v1``) and is checked
against it before it is written.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path

from lxml import etree
from sqlalchemy import Connection

from procure.messages import PostingMessage, amount

NS = "urn:procure:finance-export:v1"
CSV_COLUMNS = [
    "document_number",
    "document_type",
    "supplier_reference",
    "supplier_name",
    "invoice_number",
    "issue_date",
    "due_date",
    "currency",
    "line_no",
    "cost_centre",
    "gl_code",
    "vat_code",
    "net_amount",
    "vat_amount",
    "gross_amount",
    "purchase_order",
    "description",
]


def export_schema() -> etree.XMLSchema:
    data = resources.files("schemas").joinpath("finance-export", "v1.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(data))


def file_stem(idempotency_key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", idempotency_key)


def to_csv(m: PostingMessage, number: str) -> str:
    b = m.body
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for ln in b.lines:
        gross = Decimal(ln.net_amount) + Decimal(ln.vat_amount)
        w.writerow(
            [
                number,
                b.document_type,
                b.supplier.finance_reference or "",
                b.supplier.name,
                b.invoice_number,
                b.issue_date.isoformat(),
                b.due_date.isoformat(),
                b.currency,
                ln.line_no,
                ln.cost_centre,
                ln.gl_code,
                ln.vat_code,
                ln.net_amount,
                ln.vat_amount,
                amount(gross),
                ln.purchase_order or "",
                ln.description,
            ]
        )
    return buf.getvalue()


def to_xml(m: PostingMessage, number: str) -> bytes:
    b = m.body

    def el(parent: etree._Element, name: str, text: object) -> None:
        etree.SubElement(parent, f"{{{NS}}}{name}").text = str(text)

    # lxml takes None as the default namespace's prefix; lxml-stubs types nsmap as str -> str.
    root = etree.Element(f"{{{NS}}}APPosting", nsmap={None: NS})  # type: ignore[dict-item]
    el(root, "DocumentNumber", number)
    el(root, "IdempotencyKey", m.idempotency_key)
    el(root, "DocumentType", b.document_type)
    el(root, "SupplierReference", b.supplier.finance_reference or "")
    el(root, "SupplierName", b.supplier.name)
    el(root, "InvoiceNumber", b.invoice_number)
    el(root, "IssueDate", b.issue_date.isoformat())
    el(root, "DueDate", b.due_date.isoformat())
    el(root, "Currency", b.currency)
    for po in b.purchase_orders:
        el(root, "PurchaseOrder", po)
    for ln in b.lines:
        line = etree.SubElement(root, f"{{{NS}}}Line")
        el(line, "LineNo", ln.line_no)
        el(line, "CostCentre", ln.cost_centre)
        el(line, "GLCode", ln.gl_code)
        el(line, "VATCode", ln.vat_code)
        el(line, "NetAmount", ln.net_amount)
        el(line, "VATAmount", ln.vat_amount)
        el(line, "GrossAmount", amount(Decimal(ln.net_amount) + Decimal(ln.vat_amount)))
        if ln.purchase_order:
            el(line, "PurchaseOrder", ln.purchase_order)
        el(line, "Description", ln.description)
    totals = etree.SubElement(root, f"{{{NS}}}ControlTotals")
    t = b.control_totals
    el(totals, "LineCount", t.line_count)
    el(totals, "NetTotal", t.net_total)
    el(totals, "VATTotal", t.vat_total)
    el(totals, "GrossTotal", t.gross_total)
    el(totals, "AmountDue", t.amount_due)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass
class ExportAdapter:
    folder: Path
    name: str = "export"
    schema: etree.XMLSchema = field(default_factory=export_schema)

    def apply(self, conn: Connection, postings: Sequence[tuple[PostingMessage, str]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for m, number in postings:
            xml = to_xml(m, number)
            self.schema.assertValid(etree.fromstring(xml))
            stem = file_stem(m.idempotency_key)
            _write_atomically(self.folder / f"{stem}.csv", to_csv(m, number).encode("utf-8"))
            _write_atomically(self.folder / f"{stem}.xml", xml)
