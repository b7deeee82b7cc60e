"""Free-layout supplier workbooks: the labels, the line table, the totals block, cell values.

Works on one sheet already read into a grid of plain values (python-calamine's cached values:
``str``, ``int``, ``float``, ``bool``, ``date``, ``datetime``, ``time``, ``timedelta``; ``""``
for an empty cell), so it imports only the standard library and the unit-code list;
``procure.einvoice.xlsx`` reads the file safely and builds the ``Invoice`` from what is found.

Matching is by label, never by position. Labels are compared case-folded, without colons, dots,
dashes or repeated spaces (``"Rechnungs-Nr: "`` is ``"rechnungs nr"``); a label's value is the
next non-empty cell to its right, else the next one below, or the text after the colon when
both share a cell (``"Invoice No: INV-1"``). Numbers never pass through float arithmetic: a
float cell becomes ``Decimal(repr(value))`` and is then rounded to the places its kind allows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CellValue = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta


def _synonyms(table: dict[str, str]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(s.strip() for s in words.split("|")) for key, words in table.items()}


LABELS = _synonyms({
    "number": "invoice no | invoice number | invoice nr | number | credit note no | credit note number | rechnungs nr | rechnungsnummer",
    "issue_date": "invoice date | date | date of issue | rechnungsdatum",
    "tax_point": "tax point | tax point date",
    "due_date": "due date | payment due | payment due date",
    "order_reference": "your order ref | your order no | your ref | po number | po no | purchase order | purchase order no | purchase order number | order no | order number | bestellnummer",
    "seller_vat": "vat reg no | vat reg number | vat registration no | vat registration number | vat number | vat no | ust idnr",
    "currency": "currency | währung",
    "seller_name": "supplier | supplier name | from | seller",
    "buyer_name": "bill to | invoice to | to | customer | an",
    "sort_code": "sort code",
    "account_number": "account number | account no | bank account number",
    "account_name": "account name",
    "iban": "iban",
    "bic": "bic | swift | swift code",
    "payment_terms": "payment terms | terms",
})  # fmt: skip
"""Label synonyms by field (BT-1, BT-2, BT-7, BT-9, BT-13, BT-31, BT-5, BT-27, BT-44, BG-17)."""
COLUMNS = _synonyms({
    "description": "description | description of works | details | item description | item | tätigkeit | beschreibung | bezeichnung",
    "quantity": "qty | quantity | anzahl | menge",
    "unit": "unit | uom | unit of measure | typ | einheit",
    "unit_price": "unit price | price | rate | unit cost | preis | einzelpreis",
    "vat_rate": "vat % | vat rate | tax % | vat rate % | tax rate | mwst % | ust %",
    "net": "net | line total | net amount | amount | summe | total | betrag",
    "order_line": "po line | line ref | po line ref | order line",
    "item_code": "code | sku | item code | product code",
    "line_id": "pos | line | line no | no",
})  # fmt: skip
"""Line table headings by field, best first (BT-153, 129, 130, 146, 152, 131, 132, 155, 126)."""
TOTALS = _synonyms({
    "net": "net | subtotal | sub total | total excl vat | total ex vat | total net | net total | summe | nettobetrag | zwischensumme",
    "vat": "vat | tax | total vat | vat total | vat amount | umsatzsteuer | mwst",
    "gross": "total | grand total | amount due | total due | total incl vat | total inc vat | invoice total | balance due | bruttobetrag | gesamtbetrag",
})  # fmt: skip
"""Totals block labels; a trailing rate is allowed (``VAT @ 20%``, ``Umsatzsteuer 19%``)."""
UNIT_WORDS = {word: code for code, words in {
    "C62": "each ea unit units item items stück stk",
    "HUR": "hour hours h hr hrs std stunde stunden",
    "DAY": "day days tag tage",
    "MIN": "min mins minute minutes",
    "KGM": "kg kgs kilogram kilograms",
    "LTR": "l litre litres liter liters ltr",
    "MTR": "m metre metres meter meters mtr",
}.items() for word in words.split()}  # fmt: skip
CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD"}
CURRENCY_WORDS = {"sterling": "GBP", "pounds": "GBP", "euro": "EUR", "euros": "EUR"}
TITLE_CREDIT = ("credit note", "gutschrift")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_LABEL_OF = {syn: key for key, syns in LABELS.items() for syn in syns}
_COLUMN_OF = {syn: (key, i) for key, syns in COLUMNS.items() for i, syn in enumerate(syns)}
_TOTAL_OF = {syn: key for key, syns in TOTALS.items() for syn in syns}
# Every character a totals label can hold once case-folded, before ``normalise`` (ASCII only).
_TOTAL_CHARS = frozenset("".join(_TOTAL_OF) + "#:.-_/ \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")
_PUNCT = re.compile(r"[\s:.\-_/]+")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|[£€$]")
_RATE_SUFFIX = re.compile(r"\(?\s*(?:@|at)?\s*(\d{1,2}(?:[.,]\d{1,3})?)\s*%\s*\)?\s*:?\s*$")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_UK_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_DOT_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3}){2,}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]*)?")
_UK_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})")
_ORDINAL = re.compile(r"(\d)(?:st|nd|rd|th)\b", re.IGNORECASE)
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%d-%b-%Y", "%B %d %Y", "%b %d %Y")
_LIMIT = Decimal(10) ** 12
_PLACES = [Decimal(1).scaleb(-n) for n in range(5)]
_EXCEL_EPOCH = dt.date(1899, 12, 30)


class Unreadable(ValueError):
    """A cell whose value is not what its label or column promises (the message says why)."""


@dataclass(slots=True)
class Found:
    """A value read from the sheet, and where: ``ref`` names the cell (``Invoice!B5``)."""

    value: CellValue
    grid: Grid
    r: int
    c: int

    @property
    def ref(self) -> str:
        return self.grid.ref(self.r, self.c)


@dataclass(frozen=True)
class Grid:
    """One sheet's used area: ``rows[0][0]`` is the cell at (``top``, ``left``), 0-based."""

    name: str
    rows: list[list[CellValue]]
    top: int = 0
    left: int = 0

    def cell(self, r: int, c: int) -> CellValue:
        if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[r]):
            return self.rows[r][c]
        return ""

    def ref(self, r: int, c: int) -> str:
        col, letters = c + self.left + 1, ""
        while col:
            col, rem = divmod(col - 1, 26)
            letters = chr(65 + rem) + letters
        sheet = self.name if self.name.replace("_", "").isalnum() else f"'{self.name}'"
        return f"{sheet}!{letters}{r + self.top + 1}"

    def found(self, r: int, c: int) -> Found:
        return Found(self.cell(r, c), self, r, c)


@dataclass(frozen=True)
class Header:
    """The line table's header row and the column of each field found in it."""

    row: int
    columns: dict[str, int]


@dataclass(frozen=True)
class StatedTotals:
    """The totals block as the supplier stated it (net / vat / gross), the rate named in the
    VAT label if any, and invoice-like rows left below the blank row that ended the table."""

    figures: dict[str, Found]
    vat_label_rate: Decimal | None
    stray_rows: tuple[str, ...]


def normalise(text: str) -> str:
    return _PUNCT.sub(" ", text.casefold().replace("#", " no ")).strip()


def is_blank(v: CellValue) -> bool:
    return isinstance(v, str) and not v.strip()


def _label_key(v: CellValue) -> str | None:
    return _LABEL_OF.get(normalise(v)) if isinstance(v, str) else None


def _totals_key(v: CellValue) -> tuple[str | None, Decimal | None]:
    if not isinstance(v, str) or not v or len(v) > 40:  # labels are short; descriptions not
        return None, None
    raw, rate = v.casefold().strip(), None
    if "%" in raw and (m := _RATE_SUFFIX.search(raw)) and m.start() > 0:
        rate, raw = Decimal(m[1].replace(",", ".")), raw[: m.start()]
    return _TOTAL_OF.get(normalise(raw)), rate


# -- finding things ---------------------------------------------------------------------------
def find_header(grid: Grid) -> Header | None:
    """The first row naming a description column, a price or net column, and three in all."""
    for r, row in enumerate(grid.rows):
        best: dict[str, tuple[int, int]] = {}
        for c, v in enumerate(row):
            if isinstance(v, str) and v:
                hit = _COLUMN_OF.get(normalise(_BRACKETS.sub(" ", v)))
                if hit and (hit[0] not in best or hit[1] < best[hit[0]][0]):
                    best[hit[0]] = (hit[1], c)
        if "description" in best and {"net", "unit_price"} & best.keys() and len(best) >= 3:
            return Header(r, {key: c for key, (_, c) in best.items()})
    return None


def _value_beside(grid: Grid, r: int, c: int, stop: int, *, totals: bool = False) -> Found | None:
    def is_label(v: CellValue) -> bool:
        return (_totals_key(v)[0] if totals else _label_key(v)) is not None

    row = grid.rows[r]
    for cc in range(c + 1, len(row)):
        if not is_blank(row[cc]):
            if not is_label(row[cc]):
                return grid.found(r, cc)
            break
    for rr in range(r + 1, min(r + 4, stop)):
        if not is_blank(v := grid.cell(rr, c)):
            return None if is_label(v) else grid.found(rr, c)
    return None


def read_labels(grid: Grid, stop: int) -> tuple[dict[str, Found], bool]:
    """Label values in the rows above ``stop`` (the first of each wins), and whether a title
    cell calls the document a credit note."""
    found: dict[str, Found] = {}
    credit = False
    for r in range(min(stop, len(grid.rows))):
        for c, v in enumerate(grid.rows[r]):
            if not isinstance(v, str) or not v.strip():
                continue
            credit = credit or normalise(v).startswith(TITLE_CREDIT)
            if (key := _label_key(v)) is not None:
                if key not in found and (value := _value_beside(grid, r, c, stop)):
                    found[key] = value
            elif ":" in v:
                head, _, tail = v.partition(":")
                key = _LABEL_OF.get(normalise(head))
                if key and key not in found and tail.strip():
                    found[key] = Found(tail.strip(), grid, r, c)
    return found, credit


def _is_totals_label(v: str, seen: dict[str, bool]) -> bool:
    """Whether text holds a totals label, remembered in ``seen`` (lines repeat their units)."""
    if (known := seen.get(v)) is not None:
        return known
    # Plain ASCII text without a rate has a character no totals label has (a digit, say)
    # unless every character is a label's letter, a space or punctuation that normalise drops.
    if v.isascii() and "%" not in v and not _TOTAL_CHARS.issuperset(v.lower()):
        hit = False
    else:
        hit = _totals_key(v)[0] is not None
    if len(seen) < 4096:
        seen[v] = hit
    return hit


def read_lines(grid: Grid, header: Header) -> tuple[list[int], int]:
    """The line rows below the header, up to a blank row or a totals label, and the row that
    ended them. Rows with no description, quantity, price or net (a note elsewhere) are skipped."""
    cols = header.columns
    wanted = [cols[k] for k in ("description", "quantity", "unit_price", "net") if k in cols]
    lines: list[int] = []
    rows, seen = grid.rows, dict[str, bool]()
    r = header.row + 1
    while r < len(rows):
        row = rows[r]
        # _ends_table inlined (one call per row was a fifth of the workbook's mapping): a blank
        # row, or one holding a totals label; each distinct text is judged once.
        blank = True
        for v in row:
            if not isinstance(v, str):
                blank = False
            elif v and not v.isspace():
                blank = False
                if len(v) <= 40 and (seen[v] if v in seen else _is_totals_label(v, seen)):
                    return lines, r
        if blank:
            break
        width = len(row)
        for c in wanted:
            if c < width and not (isinstance(v := row[c], str) and (not v or v.isspace())):
                lines.append(r)
                break
        r += 1
    return lines, r


def read_totals(grid: Grid, start: int, header: Header, window: int = 60) -> StatedTotals:
    """The totals block below the table: the first net, VAT and gross label of each kind."""
    figures: dict[str, Found] = {}
    rate: Decimal | None = None
    strays: list[str] = []
    desc, net = header.columns.get("description"), header.columns.get("net")
    for r in range(start, min(start + window, len(grid.rows))):
        labelled = False
        for c, v in enumerate(grid.rows[r]):
            key, label_rate = _totals_key(v)
            if key is None:
                continue
            labelled = True
            if key not in figures:
                value = _value_beside(grid, r, c, len(grid.rows), totals=True)
                if value is not None:
                    figures[key] = value
                    rate = label_rate if key == "vat" and label_rate is not None else rate
        if desc is None or net is None or labelled or figures:
            continue
        if not is_blank(grid.cell(r, desc)) and type(grid.cell(r, net)) in (int, float):
            strays.append(grid.ref(r, desc))
    return StatedTotals(figures, rate, tuple(strays))


# -- cell values ------------------------------------------------------------------------------
def scale(d: Decimal, least: int, most: int) -> Decimal:
    """``d`` rounded half-up to ``most`` places, shown with as few as ``least``."""
    if d == d.to_integral_value():
        return d.quantize(_PLACES[least])
    if -int(d.as_tuple().exponent) > most:
        d = d.quantize(_PLACES[most], ROUND_HALF_UP)
    d = d.normalize()  # not a whole number, so no exponent notation
    return d if -int(d.as_tuple().exponent) >= least else d.quantize(_PLACES[least])


def _number_text(text: str) -> Decimal:
    t = re.sub(r"[£€$\s\u00a0]|gbp|eur|usd", "", text, flags=re.IGNORECASE)
    negative = False
    if t.startswith("(") and t.endswith(")"):  # accounting style (12.50)
        negative, t = True, t[1:-1]
    if t.endswith("-") and len(t) > 1:  # trailing minus, 12.50-
        negative, t = True, t[:-1]
    if "," in t and "." in t:
        thousands = "." if t.rfind(",") > t.rfind(".") else ","
        t = t.replace(thousands, "").replace(",", ".")
    elif "," in t:
        t = t.replace(",", "") if _UK_THOUSANDS.fullmatch(t) else t.replace(",", ".")
    elif _DOT_THOUSANDS.fullmatch(t):
        t = t.replace(".", "")
    if not _PLAIN_NUMBER.fullmatch(t):
        raise Unreadable(f"{text!r} is not a number")
    return -Decimal(t) if negative else Decimal(t)


def to_decimal(v: CellValue) -> Decimal | None:
    """A number from a numeric cell or from text such as ``£1,234.50`` or ``(12.50)``."""
    if is_blank(v):
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        d = Decimal(v)
    elif isinstance(v, float) and math.isfinite(v):
        d = Decimal(repr(v))
    elif isinstance(v, str):
        d = _number_text(v)
    else:
        raise Unreadable(f"{v!r} is not a number")
    if abs(d) >= _LIMIT:
        raise Unreadable(f"{v!r} is too large for an invoice")
    return d


def to_amount(v: CellValue) -> Decimal | None:
    return None if (d := to_decimal(v)) is None else scale(d, 2, 2)


def to_quantity(v: CellValue) -> Decimal | None:
    return None if (d := to_decimal(v)) is None else scale(d, 0, 4)


def to_price(v: CellValue) -> Decimal | None:
    """Unit prices and stated totals: float noise gone, up to 4 places kept (188.955)."""
    return None if (d := to_decimal(v)) is None else scale(d, 2, 4)


def to_rate(v: CellValue) -> Decimal | None:
    """A VAT rate in percent: ``20``, ``"20%"``, or a percent-formatted cell's ``0.2``."""
    percent_sign = isinstance(v, str) and v.strip().endswith("%")
    d = to_decimal(v.strip().rstrip("%") if isinstance(v, str) else v)
    if d is None:
        return None
    if not percent_sign and 0 < abs(d) < 1:  # no UK or EU rate is below 1%
        d *= 100
    return scale(d, 0, 2)


def to_date(v: CellValue) -> dt.date | None:
    """A date cell, an ISO or UK ``dd/mm/yyyy`` date, ``1 March 2026``, or a date serial."""
    if is_blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        if isinstance(v, int | float) and not isinstance(v, bool) and 1 <= v < 2958466:
            return _EXCEL_EPOCH + dt.timedelta(days=int(v))
        if isinstance(v, str):
            if m := _ISO_DATE.fullmatch(v.strip()):
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            if m := _UK_DATE.fullmatch(v.strip()):
                return dt.date(int(m[3]) + (2000 if len(m[3]) == 2 else 0), int(m[2]), int(m[1]))
            words = " ".join(_ORDINAL.sub(r"\1", v).replace(",", " ").split())
            for fmt in _DATE_FORMATS:
                try:
                    return dt.datetime.strptime(words, fmt).date()
                except ValueError:
                    continue
    except ValueError as exc:
        raise Unreadable(f"{v!r} is not a valid date ({exc})") from exc
    raise Unreadable(f"{v!r} is not a date")


def to_text(v: CellValue) -> str | None:
    """Text as the supplier typed it; a whole-number cell without ``.0`` (20240001)."""
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime) and v.time() == dt.time():
        return v.date().isoformat()
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def to_unit(v: CellValue) -> str | None:
    """BT-130: a common word mapped to UN/ECE Rec 20 (each → C62, hours → HUR); anything else,
    a code or not, kept as written for the code-list rule (BR-CL-23) to judge."""
    if (text := to_text(v)) is None:
        return None
    return UNIT_WORDS.get(text.casefold().rstrip(".").strip(), text)


def currency_in(text: str) -> str | None:
    """The ISO 4217 code of the first currency symbol in ``text``, if any."""
    return next((CURRENCY_SYMBOLS[ch] for ch in text if ch in CURRENCY_SYMBOLS), None)


def currency_code(v: CellValue) -> str | None:
    """BT-5 from a Currency label's value: ``GBP``, ``gbp``, ``£``, ``Sterling``; else as typed."""
    if (text := to_text(v)) is None:
        return None
    word = text.casefold()
    return CURRENCY_WORDS.get(word) or (currency_in(text) if len(text) == 1 else text.upper())


def escape_formula_text(s: str) -> str:
    """``s`` made safe to write into a spreadsheet or CSV cell: text a spreadsheet would run as
    a formula (``=cmd|' /C calc'!A0``) gets a leading single quote, so it shows as text."""
    return "'" + s if s.startswith(FORMULA_PREFIXES) else s
