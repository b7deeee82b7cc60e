"""Supplier Excel invoices (.xlsx): read safely, map a free layout onto the canonical model.

``parse_xlsx(bytes)`` returns an ``Invoice`` (syntax ``xlsx``) or raises ``UnsupportedDocument``.
Nothing reaches python-calamine (a Rust reader: an allocation failure there aborts the whole
process and cannot be caught) until the file has passed these checks, in order:

1. at most ``max_bytes`` (``too_large``); begins with a ZIP header (``not_xlsx``);
2. the ZIP directory: at most 10,000 entries and 100 MiB inflated, at most 50x its compressed
   size overall and 200x for any one entry (``zip_bomb``; ratios are judged once more than
   1 MiB would be inflated, as small parts legitimately compress far); unique names;
   ``xl/workbook.xml`` present (``not_xlsx``);
3. every entry is inflated by Python's ``zipfile``, which stops at the declared size and checks
   the CRC, so a lying directory cannot make it inflate further;
4. each sheet's used area, from its cell references, is at most 2 million cells, 4 million in
   all (``sheet_too_large``): calamine allocates the whole rectangle up to the last cell, so a
   1 KB file with values in A1 and XFD1048576 would ask for 17 billion cells;
5. calamine reads a re-packed, uncompressed copy of exactly the bytes that were checked.

Formulas are never evaluated: calamine returns the values the spreadsheet program cached. Text
that begins with ``=``, ``+``, ``-`` or ``@`` is data, kept as typed; pass it through
``escape_formula_text`` before writing it to any spreadsheet or CSV.

Layout (``xlsx_layout``): the first visible sheet with a line table, the labels above it, and a
totals block below it that serves only as a cross-check. ``UnsupportedDocument`` codes:
``too_large``, ``not_xlsx``, ``zip_bomb``, ``sheet_too_large``, ``no_line_table``. Findings are
listed in ``MESSAGES``.

Imports: the standard library, python-calamine, openpyxl (the template only), the model.
"""

from __future__ import annotations

import html
import io
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar, cast

from procure.einvoice import xlsx_layout as layout
from procure.einvoice.collector import collector_paused
from procure.einvoice.errors import UnsupportedDocument
from procure.einvoice.model import (
    Finding,
    Invoice,
    Party,
    Payment,
    PaymentAccount,
    VatBreakdown,
)
from procure.einvoice.model import Totals as DocTotals
from procure.einvoice.xlsx_layout import escape_formula_text

__all__ = ["escape_formula_text", "parse_xlsx", "write_template"]

MIB = 1024 * 1024
MAX_BYTES, MAX_ENTRIES, MAX_INFLATED = 10 * MIB, 10_000, 100 * MIB
MAX_RATIO, MAX_ENTRY_RATIO, RATIO_FLOOR = 50, 200, MIB
MAX_SHEET_CELLS, MAX_CELLS = 2_000_000, 4_000_000
PENNY = Decimal("0.01")
T = TypeVar("T")

_FAILED: Any = object()

MESSAGES = {
    "PROCURE-XLSX-01": ("fatal", "The totals block states the {figure} as {stated} but the lines add up to {computed}."),
    "PROCURE-XLSX-02": ("warning", "No currency is stated; {currency} was {how}."),
    "PROCURE-XLSX-03": ("warning", "Line(s) {lines} have a VAT rate of 0% and were taken as zero rated (Z); if the supply is exempt (E) or outside the scope of VAT (O), ask the supplier to say so."),
    "PROCURE-XLSX-04": ("warning", "{problem}, so {what} is left empty."),
    "PROCURE-XLSX-05": ("warning", "Line(s) {lines} have no VAT rate; the {rate}% named in the VAT total's label was used."),
    "PROCURE-XLSX-06": ("warning", "{what} {text!r} would run as a formula in a spreadsheet; it is kept as text and must be escaped before export."),
    "PROCURE-XLSX-07": ("warning", "This row looks like an invoice line but comes after the blank row that ends the line table, so it was not read."),
}  # fmt: skip
"""procure's findings on Excel invoices: rule id -> (severity, message template)."""


# -- the package ------------------------------------------------------------------------------
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, struct.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError, OverflowError, IndexError, KeyError)  # fmt: skip
# The cell-extent scan reads calamine's placement rules off the bytes: a cell is placed by its
# r attribute (calamine takes the last one, with any namespace prefix, spaces around "=" and
# ">" inside quoted values allowed; letters then digits, else an error), else one column right
# of the previous cell in its row.
_PREFIX = rb"<(?:[^\s<>/:\"'=!?]+:)?"
_R_VALUE = re.compile(rb"r(?<=[\s:\"']r)\s*=\s*[\"']([A-Za-z]*)0*(\d*)[\"']")
"""An r attribute: led by the literal ``r`` (then looking back at what precedes it), which
the regex engine scans for several times faster than a pattern that opens with a look-behind."""
_CANONICAL = rb"c(?=[\s/>])(?! r=\"[A-Za-z]{1,3}[1-9]\d{0,6}\")"
_NOT_CANONICAL, _NOT_CANONICAL_UNPREFIXED = (
    re.compile(_PREFIX + _CANONICAL),
    re.compile(b"<" + _CANONICAL),
)
_DECLARATION = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^<>]*\?>")
_START = re.compile(_PREFIX + rb"(?:row|c)(?=[\s/>])")
_TAG = re.compile(_PREFIX + rb"(row|c)(?=[\s/>])((?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*)>")
_FORMAT_CODE = re.compile(rb"formatCode=(?:\"([^\"]*)\"|'([^']*)')")
_LOCALE_TAG = re.compile(r"\[\$([^\]-]*)(?:-[0-9A-Fa-f]+)?\]")


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _extent(refs: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """The furthest row and column any of these r values names (beyond the sheet if absurd)."""
    if not refs:
        return 0, 0
    letters, digits = map(set, zip(*refs, strict=True))
    if max(map(len, digits)) > 7 or max(map(len, letters)) > 3:
        return MAX_CELLS, MAX_CELLS
    # at most 7 digits each (leading zeros are not captured), so int() is cheap and exact
    return max(map(int, digits - {b""}), default=0), max(map(_column, letters))


def _used_area(xml: bytes) -> int:
    """Cells in the rectangle from A1 to the furthest cell, an upper bound of what calamine
    allocates (a cell without a value counts too)."""
    not_canonical = _NOT_CANONICAL if b":c" in xml else _NOT_CANONICAL_UNPREFIXED
    if not_canonical.search(xml) is None:  # every cell begins <c r="A1": placed by r alone
        rows, cols = _extent(_R_VALUE.findall(xml))
        return rows * cols
    text = _DECLARATION.sub(b"", xml)
    if b"<!" in text or b"<?" in text:  # comments, CDATA or a DTD could hide or fake cells
        return MAX_CELLS * MAX_CELLS
    tags = _TAG.findall(text)
    if len(tags) != len(_START.findall(text)):  # a tag this scan cannot follow
        return MAX_CELLS * MAX_CELLS
    row = col = rows = cols = 0
    for kind, attrs in tags:
        at_row, at_col = _extent(_R_VALUE.findall(attrs))
        if kind == b"row":
            row, col = at_row or row + 1, 0
            continue
        col = at_col or col + 1
        if not attrs.rstrip().endswith(b"/"):
            rows, cols = max(rows, at_row or row), max(cols, col)
    return rows * cols


def _currencies_in_formats(styles: bytes) -> list[str]:
    """ISO codes of the currencies the number formats show (``"£"#,##0.00``, ``[$€-407]``)."""
    found: list[str] = []
    for m in _FORMAT_CODE.finditer(styles):
        code = html.unescape((m[1] or m[2] or b"").decode("utf-8", "replace"))
        for text in (*_LOCALE_TAG.findall(code), _LOCALE_TAG.sub("", code)):
            iso = text.strip().upper() if text.strip().upper() in ("GBP", "EUR", "USD") else None
            if (iso := iso or layout.currency_in(text)) and iso not in found:
                found.append(iso)
    return found


def _check_directory(infos: list[zipfile.ZipInfo]) -> None:
    inflated, packed = sum(i.file_size for i in infos), sum(i.compress_size for i in infos)
    if len(infos) > MAX_ENTRIES:
        raise UnsupportedDocument("zip_bomb", f"The archive has {len(infos):,} entries; the limit is {MAX_ENTRIES:,}.")  # fmt: skip
    if inflated > MAX_INFLATED:
        raise UnsupportedDocument("zip_bomb", f"The archive inflates to {inflated:,} bytes; the limit is {MAX_INFLATED:,}.")  # fmt: skip
    if inflated > RATIO_FLOOR and inflated > MAX_RATIO * max(packed, 1):
        raise UnsupportedDocument("zip_bomb", f"The archive inflates {inflated // max(packed, 1):,} times; the limit is {MAX_RATIO}.")  # fmt: skip
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > MAX_ENTRY_RATIO * max(i.compress_size, 1):
            raise UnsupportedDocument("zip_bomb", f"{i.filename} inflates {i.file_size // max(i.compress_size, 1):,} times; the limit is {MAX_ENTRY_RATIO}.")  # fmt: skip
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise UnsupportedDocument("not_xlsx", "The archive lists the same part twice.")
    if {"xl/workbook.bin", "content.xml"} & set(names):  # calamine would fall back to XLSB / ODS
        raise UnsupportedDocument("not_xlsx", "This workbook is .xlsb or .ods, not .xlsx; please save it as .xlsx.")  # fmt: skip
    if "xl/workbook.xml" not in names:
        raise UnsupportedDocument("not_xlsx", "This ZIP archive is not an Excel .xlsx workbook (it has no xl/workbook.xml).")  # fmt: skip


def _checked_package(data: bytes, max_bytes: int) -> tuple[bytes, list[str]]:
    """The workbook re-packed from bytes that passed every check, and the currencies its number
    formats show."""
    if len(data) > max_bytes:
        raise UnsupportedDocument(
            "too_large",
            f"The file is larger than the limit of {max_bytes:,} bytes (at least {len(data):,} read).",
        )
    if not data.startswith(b"PK\x03\x04"):
        raise UnsupportedDocument(
            "not_xlsx", "This is not an Excel .xlsx workbook (it is not a ZIP archive)."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            _check_directory(infos)
            parts = {i.filename: archive.read(i) for i in infos}
    except _ZIP_ERRORS as exc:
        raise UnsupportedDocument(
            "not_xlsx", f"The workbook's ZIP archive is damaged: {exc}"
        ) from exc
    total = 0
    for name, part in parts.items():
        if b"sheetData" in part:
            total += (area := _used_area(part))
            if area > MAX_SHEET_CELLS or total > MAX_CELLS:
                raise UnsupportedDocument("sheet_too_large", f"{name} spans {area:,} cells; the limit is {MAX_SHEET_CELLS:,} a sheet and {MAX_CELLS:,} in all.")  # fmt: skip
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as repacked:
        for name, part in parts.items():
            repacked.writestr(name, part)
    return out.getvalue(), _currencies_in_formats(parts.get("xl/styles.xml", b""))


def _sheets(package: bytes) -> Iterator[layout.Grid]:
    """The visible worksheets, read one at a time, in workbook order."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(package)) as wb:
            for meta in wb.sheets_metadata:
                if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible:
                    sheet = wb.get_sheet_by_name(meta.name)
                    top, left = sheet.start or (0, 0)
                    yield layout.Grid(meta.name, sheet.to_python(skip_empty_area=True), top, left)
    except CalamineError as exc:
        raise UnsupportedDocument("not_xlsx", f"The workbook could not be read: {exc}") from exc
    except BaseException as exc:  # pyo3 raises a Rust panic as PanicException(BaseException)
        if type(exc).__name__ != "PanicException":
            raise
        raise UnsupportedDocument("not_xlsx", f"The workbook could not be read: {exc}") from None


def parse_xlsx(data: bytes, *, max_bytes: int = MAX_BYTES) -> Invoice:
    """Map a supplier's Excel invoice or credit note onto the canonical model, leniently: what
    is missing stays empty for the EN 16931 rules to judge. The one business check made here is
    the totals block against the lines (PROCURE-XLSX-01)."""
    with collector_paused():
        return _parse(data, max_bytes)


def _parse(data: bytes, max_bytes: int) -> Invoice:
    package, format_currencies = _checked_package(data, max_bytes)
    for grid in _sheets(package):
        if (header := layout.find_header(grid)) is None:
            continue
        rows, end = layout.read_lines(grid, header)
        if rows:
            return _Builder(grid, format_currencies).invoice(header, rows, end)
    raise UnsupportedDocument("no_line_table", "No sheet has a line table (a header row naming Description, Qty, Unit Price or Net).")  # fmt: skip


# -- the invoice ------------------------------------------------------------------------------
class _Builder:
    def __init__(self, grid: layout.Grid, format_currencies: list[str]) -> None:
        self.grid, self.format_currencies = grid, format_currencies
        self.findings: list[Finding] = []
        self.converted: dict[tuple[object, type, layout.CellValue], object] = {}

    def note(self, rule: str, location: str | None = None, **facts: Any) -> None:
        severity, message = MESSAGES[rule]
        self.findings.append(Finding(rule=rule, severity=severity, message=message.format(**facts), location=location))  # fmt: skip

    def read(self, found: layout.Found | None, convert: Callable[[layout.CellValue], T | None], what: str) -> T | None:  # fmt: skip
        """A label's or column's value converted, or None with a warning naming the cell."""
        if found is None or found.value == "":
            return None
        key = (convert, type(found.value), found.value)  # lines repeat units, rates, prices
        if key in self.converted:
            value = cast("T | None", self.converted[key])
        else:
            try:
                value = self.converted[key] = convert(found.value)
            except layout.Unreadable as exc:
                self.note("PROCURE-XLSX-04", found.ref, problem=str(exc), what=what)
                return None
        if isinstance(value, str) and value.startswith(layout.FORMULA_PREFIXES):
            self.note("PROCURE-XLSX-06", found.ref, what=what[0].upper() + what[1:], text=value)
        return value

    def invoice(self, header: layout.Header, rows: list[int], end: int) -> Invoice:
        labels, credit = layout.read_labels(self.grid, header.row)
        block = layout.read_totals(self.grid, end, header)
        lines = self.lines(rows, header.columns, block.vat_label_rate)
        breakdown = _breakdown(lines)
        totals = _totals(lines, breakdown)
        self.cross_check(block, totals)
        for ref in block.stray_rows:
            self.note("PROCURE-XLSX-07", ref)
        date = {k: self.read(labels.get(k), layout.to_date, f"the {w}") for k, w in _DATES.items()}
        text = {k: self.read(labels.get(k), layout.to_text, f"the {w}") for k, w in _TEXTS.items()}
        vat = re.sub(r"\s+", "", text["seller_vat"]).upper() if text["seller_vat"] else None
        # One validation for the whole document: the lines are plain dicts until here.
        return Invoice.model_validate(
            {
                "kind": "credit_note" if credit else "invoice",
                "syntax": "xlsx",
                "number": text["number"],
                "issue_date": date["issue_date"] or date["tax_point"],
                "type_code": "381" if credit else "380",
                "currency": self.currency(labels.get("currency"), header, rows, block),
                "tax_point_date": date["tax_point"] if date["issue_date"] else None,
                "due_date": date["due_date"],
                "order_reference": text["order_reference"],
                "payment_terms": text["payment_terms"],
                "seller": Party(name=text["seller_name"], vat_id=vat),
                "buyer": Party(name=text["buyer_name"]),
                "payment": self.payment(labels),
                "totals": totals,
                "vat_breakdown": breakdown,
                "lines": lines,
                "findings": tuple(self.findings),
            }
        )

    def lines(self, rows: list[int], columns: dict[str, int], label_rate: Decimal | None) -> list[dict[str, Any]]:  # fmt: skip
        """The lines as ``InvoiceLine``-shaped dicts (validated with the invoice, in one go)."""
        grid, n = self.grid, len(rows)
        table = [grid.rows[r] for r in rows]
        values: dict[str, list[Any]] = dict.fromkeys(
            _COLUMNS, [None] * n
        )  # never mutated, only replaced
        events: list[tuple[int, int, str, str | None]] = []  # (line, column, rule, problem)
        narrowest = min(map(len, table), default=0)
        for j, (k, c) in enumerate(columns.items()):
            column = [row[c] for row in table] if c < narrowest else [row[c] if c < len(row) else "" for row in table]  # fmt: skip
            values[k], found = self.column(column, _COLUMNS[k][0])
            events += [(i, j, rule, problem) for i, rule, problem in found]
        if events:  # the findings in the order read() would have made them: row by row
            cols = list(columns.items())
            for i, j, rule, problem in sorted(events):
                k, c = cols[j]
                what, ref = _COLUMNS[k][1], grid.ref(rows[i], c)
                if problem is not None:
                    self.note(rule, ref, problem=problem, what=what)
                else:
                    self.note(rule, ref, what=what[0].upper() + what[1:], text=values[k][i])
        ids = [ident or str(number) for number, ident in enumerate(values["line_id"], start=1)]
        rates, borrowed = values["vat_rate"], []
        if label_rate is not None and None in rates:
            borrowed = [ids[i] for i, rate in enumerate(rates) if rate is None]
            rates = [label_rate if rate is None else rate for rate in rates]
        category = {rate: None if rate is None else ("Z" if rate == 0 else "S") for rate in set(rates)}  # fmt: skip
        zero = [ids[i] for i, rate in enumerate(rates) if category[rate] == "Z"]
        lines = [
            {
                "id": line_id, "quantity": quantity, "unit_code": unit, "net_amount": net,
                "order_line_reference": order_line, "unit_price": unit_price, "vat_rate": rate,
                "vat_category": category[rate], "item_name": name, "seller_item_id": item_code,
            }
            for line_id, quantity, unit, net, order_line, unit_price, rate, name, item_code in zip(
                ids, values["quantity"], values["unit"], values["net"], values["order_line"],
                values["unit_price"], rates, values["description"], values["item_code"], strict=True,
            )
        ]  # fmt: skip
        if zero:
            self.note("PROCURE-XLSX-03", lines=", ".join(zero))
        if borrowed:
            self.note("PROCURE-XLSX-05", lines=", ".join(borrowed), rate=label_rate)
        return lines

    def column(self, cells: list[layout.CellValue], convert: Callable[[layout.CellValue], T | None]) -> tuple[list[T | None], list[tuple[int, str, str | None]]]:  # fmt: skip
        """A line column's cells converted as ``read`` would one by one, each distinct value once,
        and the findings read would make: (line, rule, problem or None for a formula)."""
        classes = set(map(type, cells))
        if len(classes) == 1:  # one type: the value alone is the key (1, 1.0 and True differ)
            [cls] = classes
            if cls is str and convert is layout.to_text:  # text as typed: nothing to convert
                stripped = [v.strip() or None for v in cast("list[str]", cells)]
                return cast("list[T | None]", stripped), [(i, "PROCURE-XLSX-06", None) for i, v in enumerate(stripped) if v is not None and v.startswith(layout.FORMULA_PREFIXES)]  # fmt: skip
            keys: list[Any] = cells
            distinct: dict[Any, Any] = dict.fromkeys(cells)  # first wins
            pairs: Iterator[tuple[type, Any]] = ((cls, v) for v in distinct)
        else:
            keys = [(v.__class__, v) for v in cells]
            distinct = dict.fromkeys(keys)
            pairs = iter(list(distinct))
        converted, failed, formulas = self.converted, False, False
        for key, (kind, v) in zip(list(distinct), pairs, strict=True):
            if v == "":
                continue
            if (ck := (convert, kind, v)) in converted:
                value = converted[ck]
            else:
                try:
                    value = converted[ck] = convert(v)
                except layout.Unreadable:
                    distinct[key], failed = _FAILED, True
                    continue
            distinct[key] = value
            formulas = formulas or (isinstance(value, str) and value.startswith(layout.FORMULA_PREFIXES))  # fmt: skip
        out = list(map(distinct.__getitem__, keys))
        found: list[tuple[int, str, str | None]] = []
        if failed or formulas:
            for i, value in enumerate(out):
                if value is _FAILED:  # replay read(): not cached, so each cell tries again
                    ck = (convert, type(v := cells[i]), v)
                    if ck in converted:
                        value = converted[ck]
                    else:
                        try:
                            value = converted[ck] = convert(v)
                        except layout.Unreadable as exc:
                            found.append((i, "PROCURE-XLSX-04", str(exc)))
                            out[i] = None
                            continue
                    out[i] = value
                if isinstance(value, str) and value.startswith(layout.FORMULA_PREFIXES):
                    found.append((i, "PROCURE-XLSX-06", None))
        return out, found

    def cross_check(self, block: layout.StatedTotals, totals: DocTotals) -> None:
        computed = {"net": totals.tax_exclusive, "vat": totals.tax, "gross": totals.tax_inclusive}
        for key, found in block.figures.items():
            stated = self.read(found, layout.to_price, f"the stated {_FIGURES[key]}")
            calc = computed[key] or Decimal("0.00")
            if stated is not None and abs(stated - calc) > PENNY:
                self.note("PROCURE-XLSX-01", found.ref, figure=_FIGURES[key], stated=stated, computed=calc)  # fmt: skip

    def currency(self, label: layout.Found | None, header: layout.Header, rows: list[int], block: layout.StatedTotals) -> str:  # fmt: skip
        """BT-5 as stated; else from a symbol in the amounts, then in the number formats; else
        GBP, as for a UK council. Every inference is a PROCURE-XLSX-02 warning."""
        if stated := self.read(label, layout.currency_code, "the currency (BT-5)"):
            return stated
        cells = [*self.grid.rows[header.row], *(f.value for f in block.figures.values())]
        amounts = [header.columns[k] for k in ("unit_price", "net") if k in header.columns]
        table = self.grid.rows  # every line row is in the grid
        cells += [v for r in rows for c in amounts if c < len(row := table[r]) and isinstance(v := row[c], str)]  # fmt: skip
        for v in cells:
            if isinstance(v, str) and (iso := layout.currency_in(v)):
                self.note("PROCURE-XLSX-02", currency=iso, how="inferred from the currency symbol in the amounts")  # fmt: skip
                return iso
        if self.format_currencies:
            iso = self.format_currencies[0]
            self.note("PROCURE-XLSX-02", currency=iso, how=f"inferred from the workbook's number formats ({', '.join(self.format_currencies)})")  # fmt: skip
            return iso
        self.note("PROCURE-XLSX-02", currency="GBP", how="assumed, as no currency symbol was found either")  # fmt: skip
        return "GBP"

    def payment(self, labels: dict[str, layout.Found]) -> Payment | None:
        """BG-17 from the bank details: IBAN, else a UK account number with its sort code as the
        national clearing code (BT-86). Bank details ask for a credit transfer (UNTDID 4461: 30)."""
        bank = {
            k: self.read(labels.get(k), layout.to_text, f"the {k.replace('_', ' ')}") for k in _BANK
        }
        iban = re.sub(r"\s+", "", bank["iban"]).upper() if bank["iban"] else None
        account, sort = bank["account_number"], bank["sort_code"]
        if account and account.isdigit():
            account = account.zfill(8)  # a number cell drops a UK account number's leading 0
        if sort and re.fullmatch(r"\d{2}[- ]?\d{2}[- ]?\d{2}|\d{1,6}", sort):
            sort = re.sub(r"\D", "", sort).zfill(6)
        if not (number := iban or account):
            return None
        provider = bank["bic"] or sort
        return Payment(means_code="30", accounts=(PaymentAccount(account_id=number, name=bank["account_name"], service_provider=provider),))  # fmt: skip


_DATES = {"issue_date": "invoice date (BT-2)", "tax_point": "tax point (BT-7)", "due_date": "due date (BT-9)"}  # fmt: skip
_TEXTS = {"number": "invoice number (BT-1)", "order_reference": "order reference (BT-13)", "seller_name": "supplier name (BT-27)", "buyer_name": "customer name (BT-44)", "seller_vat": "VAT number (BT-31)", "payment_terms": "payment terms (BT-20)"}  # fmt: skip
_BANK = ("iban", "account_number", "sort_code", "account_name", "bic")
_FIGURES = {"net": "net total (BT-109)", "vat": "VAT total (BT-110)", "gross": "total with VAT (BT-112)"}  # fmt: skip
_COLUMNS: dict[str, tuple[Callable[[layout.CellValue], Any], str]] = {
    "line_id": (layout.to_text, "the line number (BT-126)"),
    "quantity": (layout.to_quantity, "the quantity (BT-129)"),
    "unit": (layout.to_unit, "the unit (BT-130)"),
    "net": (layout.to_amount, "the line net amount (BT-131)"),
    "order_line": (layout.to_text, "the PO line (BT-132)"),
    "unit_price": (layout.to_price, "the unit price (BT-146)"),
    "vat_rate": (layout.to_rate, "the VAT rate (BT-152)"),
    "description": (layout.to_text, "the description (BT-153)"),
    "item_code": (layout.to_text, "the item code (BT-155)"),
}


_VAT_FIELDS, _NET = itemgetter("vat_category", "vat_rate", "net_amount"), itemgetter("net_amount")


def _breakdown(lines: list[dict[str, Any]]) -> tuple[VatBreakdown, ...]:
    """BG-23: lines grouped by (category, rate); tax = taxable x rate / 100, half-up to 1p."""
    groups: dict[tuple[str, Decimal], list[Decimal]] = {}
    for category, rate, net in map(_VAT_FIELDS, lines):
        if category and rate is not None and net is not None:
            if (key := (category, rate)) in groups:
                groups[key].append(net)
            else:
                groups[key] = [net]
    taxables = {key: sum(nets, Decimal("0.00")) for key, nets in groups.items()}
    return tuple(
        VatBreakdown(taxable_amount=taxable, category=category, rate=rate,
                     tax_amount=(taxable * rate / 100).quantize(PENNY, ROUND_HALF_UP))
        for (category, rate), taxable in taxables.items()
    )  # fmt: skip


def _totals(lines: list[dict[str, Any]], breakdown: tuple[VatBreakdown, ...]) -> DocTotals:
    """BG-22 from the lines (no document allowances or charges, nothing prepaid)."""
    nets = [net for net in map(_NET, lines) if net is not None]
    if not nets:
        return DocTotals()
    net = sum(nets, Decimal("0.00"))
    tax = sum((b.tax_amount or Decimal(0) for b in breakdown), Decimal("0.00"))
    return DocTotals(line_net=net, tax_exclusive=net, tax=tax, tax_inclusive=net + tax, payable=net + tax)  # fmt: skip


# -- the template -----------------------------------------------------------------------------
TEMPLATE_LABELS = ("Supplier", "VAT Reg No", "Invoice No", "Invoice Date", "Due Date", "Your Order Ref", "Bill To", "Currency", "Sort Code", "Account Number", "Payment Terms")  # fmt: skip
TEMPLATE_COLUMNS = ("Description", "Qty", "Unit", "Unit Price", "VAT %", "Net", "PO Line")
TEMPLATE_FIRST_LABEL_ROW, TEMPLATE_HEADER_ROW, TEMPLATE_LINES = 4, 16, 30
TEMPLATE_NOTES = """\
What to fill in | How
The Invoice sheet | Fill in the shaded cells of the Invoice sheet. Keep the labels in column A and the table headings as they are: they are how the council's system finds your figures.
Credit notes | Change the title in cell A1 from INVOICE to CREDIT NOTE; enter the amounts as positive numbers.
Supplier, VAT Reg No | Your business name and VAT registration number, e.g. GB 220 4302 31.
Invoice No | Your own invoice or credit note number; each must be different.
Invoice Date, Due Date | Dates as dd/mm/yyyy. The invoice date is the tax point.
Your Order Ref | The council's purchase order number. Invoices without one may be returned to you.
Currency | GBP unless agreed otherwise.
Sort Code, Account Number | Where to pay you. A change of bank details is always checked with you by phone first.
Lines | One row per item and no blank rows in between: reading stops at the first blank row. Unit is each, hour, day, kg, litre or m. VAT % is 20%, 5% or 0%. PO Line is the line number on our order.
Net and totals | Net = Qty x Unit Price, worked out for you. The totals are checked against the lines; a difference of more than 1p sends the invoice back.
Formulas | Text that starts with =, +, - or @ is kept as text and never run."""


def write_template(path: Path | str, *, buyer_name: str | None = None, order_reference: str | None = None) -> None:  # fmt: skip
    """A clean invoice template for suppliers (``procure invoice template``), optionally with
    the council's name and the order number filled in; ``parse_xlsx`` reads it back filled."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Invoice"
    shade, bold = PatternFill("solid", fgColor="FFF2CC"), Font(bold=True)
    ws["A1"] = "INVOICE"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A2"] = "Fill in the shaded cells; the 'How to fill in' sheet explains each one."
    ws["A2"].font = Font(italic=True, color="666666")
    prefill = {"Bill To": buyer_name, "Your Order Ref": order_reference, "Currency": "GBP"}
    for r, label in enumerate(TEMPLATE_LABELS, start=TEMPLATE_FIRST_LABEL_ROW):
        ws.cell(r, 1, label).font = bold
        text = prefill.get(label)
        ws.cell(r, 2, escape_formula_text(text) if text else None).fill = shade
        ws.cell(r, 2).number_format = "dd/mm/yyyy" if label.endswith("Date") else "@"
    for c, heading in enumerate(TEMPLATE_COLUMNS, start=1):
        ws.cell(TEMPLATE_HEADER_ROW, c, heading).font = bold
    first, last = TEMPLATE_HEADER_ROW + 1, TEMPLATE_HEADER_ROW + TEMPLATE_LINES
    for r in range(first, last + 1):
        for c in (1, 2, 3, 4, 5, 7):
            ws.cell(r, c).fill = shade
        ws.cell(r, 4).number_format, ws.cell(r, 5).number_format = "#,##0.00##", "0%"
        ws.cell(r, 6, f'=IF(OR(B{r}="",D{r}=""),"",ROUND(B{r}*D{r},2))').number_format = "#,##0.00"  # fmt: skip
    units = DataValidation(type="list", formula1='"each,hour,day,kg,litre,m"', showErrorMessage=False)  # fmt: skip
    units.add(f"C{first}:C{last}")
    ws.add_data_validation(units)
    t = last + 2
    sums = (f"=SUM(F{first}:F{last})", f"=ROUND(SUMPRODUCT(F{first}:F{last},E{first}:E{last}),2)", f"=F{t}+F{t + 1}")  # fmt: skip
    for i, (label, formula) in enumerate(zip(("Net", "VAT", "Total"), sums, strict=True)):
        ws.cell(t + i, 5, label).font = bold
        ws.cell(t + i, 6, formula).number_format = "#,##0.00"
    for col, width in zip("ABCDEFG", (48, 18, 10, 12, 8, 12, 10), strict=True):
        ws.column_dimensions[col].width = width
    notes = wb.create_sheet("How to fill in")
    for line in TEMPLATE_NOTES.splitlines():
        notes.append([part.strip() for part in line.split("|")])
    notes["A1"].font = notes["B1"].font = bold
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width = 28, 110
    wb.save(path)
