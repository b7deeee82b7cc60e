"""EN 16931 VAT category rules: BR-S, BR-Z, BR-E, BR-AE, BR-IC (category K), BR-G, BR-O,
BR-AF (L, IGIC) and BR-AG (M, IPSI): the 96 ids of the CEN Schematron, all fatal: -01..-10 of
each family, plus BR-IC-11/12 and BR-O-11..14 (there is no BR-K family).

Each rule judges a document as the CEN Schematron of its syntax does (UBL binding
``UBL/EN16931-UBL-model.sch`` for UBL and ``xlsx``, CII binding ``CII/EN16931-CII-model.sch``
for CII), checked against the official XSLT on the corpus and on mutated documents. Where the
bindings differ, the document's binding wins:

* ``-01``: UBL: Z/E/AE/K/G/O used anywhere (breakdown included) need exactly one breakdown;
  S/L/M used <=> a breakdown. CII counts breakdown entries together with lines or with
  allowances/charges (``count(line S) + count(breakdown S) >= 2``), and a lone Z..G breakdown
  breaches.
* ``-05``..``-07``: a missing rate breaches (S > 0; Z, E, AE, K, G = 0; L, M >= 0, but CII
  BR-AF-05..07 > 0); O must have none.
* ``-08``: UBL S/L/M within 1 (``taxable - 1 < Σ < taxable + 1``, the bounds in xs:double as
  the XPath computes them), S needing a line, allowance or charge at the rate, L/M any line;
  UBL Z..O exact, with lines. CII: each sum rounded to 2 decimals, S exact, Z..G within 1,
  O exact; BR-AF-08/BR-AG-08 never fire in CII (their rate is read from the wrong element).
* ``-09``: S/L/M ``|tax| - 1 < round(|taxable| x rate / 100, 2) < |tax| + 1`` (XPath round,
  half up); the others tax = 0; CII leaves BR-AF-09/BR-AG-09 to BR-CO-17.
* BR-O-11/12 in CII look at breakdown and lines together, BR-O-13/14 at allowances and charges
  together; BR-IC-11 counts BT-8 as part of the UBL invoice period; BR-IC-12 wants two
  characters in UBL, the element in CII.
* A missing taxable amount, tax amount or (for ``-09``) rate breaches ``-08``/``-09``, as in
  the Schematron (BR-45/46/48 report the absence too).

Rates and amounts compare as numbers (``20`` = ``20.00``); sums are exact (``support.exact``).

Imports: the standard library, the canonical model and the rules registry (with ``support``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from procure.einvoice.model import AllowanceCharge, Invoice, InvoiceLine, VatBreakdown
from procure.einvoice.rules import Violation, rule
from procure.einvoice.rules.support import HUNDRED, exact, total, xpath_round

ONE = Decimal(1)


@dataclass(frozen=True)
class Category:
    """One VAT category and the variants its rule family takes."""

    code: str
    prefix: str
    name: str
    rated: bool
    """S, L, M: a rate above (or from) zero, tax = taxable x rate; else a zero/absent rate."""
    exempt: bool
    """E, AE, K, G, O: the breakdown must give an exemption reason; else it must not."""


CATEGORIES = (
    Category("S", "BR-S", "Standard rated", rated=True, exempt=False),
    Category("Z", "BR-Z", "Zero rated", rated=False, exempt=False),
    Category("E", "BR-E", "Exempt from VAT", rated=False, exempt=True),
    Category("AE", "BR-AE", "Reverse charge", rated=False, exempt=True),
    Category("K", "BR-IC", "Intra-community supply", rated=False, exempt=True),
    Category("G", "BR-G", "Export outside the EU", rated=False, exempt=True),
    Category("O", "BR-O", "Not subject to VAT", rated=False, exempt=True),
    Category("L", "BR-AF", "IGIC", rated=True, exempt=False),
    Category("M", "BR-AG", "IPSI", rated=True, exempt=False),
)


def code(value: str | None) -> str | None:
    """A category code as the Schematron compares it (``normalize-space``)."""
    return value.strip() if value is not None else None


def _categorised(doc: Invoice) -> Iterator[InvoiceLine | AllowanceCharge]:
    """The lines and the document level allowances and charges: what carries BT-151/95/102."""
    yield from doc.lines
    yield from doc.allowances
    yield from doc.charges


def _breakdowns(doc: Invoice, cat: Category) -> Iterator[tuple[int, VatBreakdown]]:
    return ((i, b) for i, b in enumerate(doc.vat_breakdown, 1) if code(b.category) == cat.code)


# --- -01: the breakdown carries the category -------------------------------------------------


def _presence_holds(doc: Invoice, cat: Category, used: tuple[int, int], entries: int) -> bool:
    """The ``-01`` test of the document's binding; ``used`` counts (lines, allowances+charges)."""
    lines, acs = used
    if doc.syntax != "cii":
        if cat.rated:  # UBL S/L/M: category used <=> a breakdown entry for it
            return bool(lines + acs) == bool(entries)
        return entries == 1 or (lines + acs == 0 and entries == 0)
    # CII counts the breakdown entries together with the lines / allowances and charges.
    if cat.rated:
        return (lines + entries >= 2 or not lines) and (acs + entries >= 2 or not acs)
    if cat.code == "O":
        return entries == 0 or (entries == 1 and lines + acs > 0)
    return (entries == 0 and lines + acs == 0) or (entries == 1 and lines + acs > 0)


def _breakdown_present(cat: Category) -> Callable[[Invoice], Iterator[Violation]]:
    def check(doc: Invoice) -> Iterator[Violation]:
        lines = sum(code(ln.vat_category) == cat.code for ln in doc.lines)
        acs = sum(code(x.vat_category) == cat.code for x in (*doc.allowances, *doc.charges))
        entries = sum(1 for _ in _breakdowns(doc, cat))
        if _presence_holds(doc, cat, (lines, acs), entries):
            return
        if lines + acs and not entries:
            why = f"lines, allowances or charges use it but the VAT breakdown has no {cat.code} entry"  # fmt: skip
        elif entries and not lines + acs:
            why = "the VAT breakdown has an entry for it but no line, allowance or charge uses it"
        else:
            why = f"the VAT breakdown has {entries} entries for it; it must have exactly one"
        yield Violation(f"VAT category {cat.code} ({cat.name}): {why}", "vat_breakdown (BG-23)")

    return check


# --- -02..-04: the parties' VAT identifiers --------------------------------------------------


def _seller_any(doc: Invoice) -> bool:
    rep = doc.tax_representative
    return bool(doc.seller.vat_id or doc.seller.tax_registration_id or (rep and rep.vat_id))


def _seller_vat(doc: Invoice) -> bool:
    rep = doc.tax_representative
    return bool(doc.seller.vat_id or (rep and rep.vat_id))


def _no_vat_ids(doc: Invoice) -> bool:
    rep = doc.tax_representative
    return not (doc.seller.vat_id or (rep and rep.vat_id) or doc.buyer.vat_id)


SELLER_ANY = "the seller VAT identifier (BT-31), tax registration (BT-32) or tax representative VAT identifier (BT-63)"
SELLER_VAT = "the seller VAT identifier (BT-31) or tax representative VAT identifier (BT-63)"
PARTIES: dict[str, tuple[Callable[[Invoice], bool], str]] = {
    "S": (_seller_any, SELLER_ANY),
    "Z": (_seller_any, SELLER_ANY),
    "E": (_seller_any, SELLER_ANY),
    "L": (_seller_any, SELLER_ANY),
    "M": (_seller_any, SELLER_ANY),
    "AE": (
        lambda d: _seller_any(d) and bool(d.buyer.vat_id or d.buyer.legal_id),
        f"{SELLER_ANY}, and the buyer VAT identifier (BT-48) or legal registration identifier (BT-47)",
    ),
    "K": (lambda d: _seller_vat(d) and bool(d.buyer.vat_id), f"{SELLER_VAT}, and the buyer VAT identifier (BT-48)"),
    "G": (_seller_vat, SELLER_VAT),
    "O": (_no_vat_ids, "no seller (BT-31), tax representative (BT-63) or buyer (BT-48) VAT identifier"),
}  # fmt: skip


def _parties(cat: Category, where: str) -> Callable[[Invoice], Iterator[Violation]]:
    holds, needs = PARTIES[cat.code]

    what, bt = {"lines": ("an invoice line", "BT-151"), "allowances": ("a document allowance", "BT-95"), "charges": ("a document charge", "BT-102")}[where]  # fmt: skip

    def check(doc: Invoice) -> Iterator[Violation]:
        items = getattr(doc, where)
        first = next((i for i, x in enumerate(items, 1) if code(x.vat_category) == cat.code), None)
        if first is not None and not holds(doc):
            yield Violation(
                f"{what} has VAT category {cat.code} ({cat.name}): the invoice must have {needs}",
                f"{where}[{first}].vat_category ({bt})",
            )

    return check


# --- -05..-07: the rate of a line, allowance or charge ---------------------------------------


def _rate_ok(doc: Invoice, cat: Category, rate: Decimal | None) -> bool:
    if cat.code == "O":
        return rate is None
    if rate is None:
        return False
    if cat.code == "S" or (cat.code == "L" and doc.syntax == "cii"):  # CII: IGIC rate > 0
        return rate > 0
    if cat.rated:
        return rate >= 0
    return rate == 0


RATE_RULE = {
    "S": "greater than zero",
    "L": "zero or greater",
    "M": "zero or greater",
    "O": "absent",
}


def _rates(cat: Category, where: str) -> Callable[[Invoice], Iterator[Violation]]:
    bt = {"lines": "BT-152", "allowances": "BT-96", "charges": "BT-103"}[where]

    def check(doc: Invoice) -> Iterator[Violation]:
        for i, item in enumerate(getattr(doc, where), 1):
            if code(item.vat_category) == cat.code and not _rate_ok(doc, cat, item.vat_rate):
                must = RATE_RULE.get(cat.code, "0")
                yield Violation(
                    f"VAT category {cat.code} ({cat.name}) needs a VAT rate that is {must}; "
                    f"the rate is {item.vat_rate if item.vat_rate is not None else 'missing'}",
                    f"{where}[{i}].vat_rate ({bt})",
                )

    return check


# --- -08..-10: the breakdown of the category -------------------------------------------------


def _expected(doc: Invoice, cat: Category, rate: Decimal | None, *, rounded: bool, lines: bool = True) -> Decimal:  # fmt: skip
    """Σ line net + Σ charges - Σ allowances of the category (at ``rate`` when given); with
    ``rounded`` each sum is first rounded to 2 decimals, as the CII binding does; without
    ``lines`` the lines count nothing."""

    def counts(c: str | None, r: Decimal | None) -> bool:
        return code(c) == cat.code and (rate is None or (r is not None and r == rate))

    parts = [
        total(ln.net_amount for ln in doc.lines if lines and counts(ln.vat_category, ln.vat_rate)),
        total(c.amount for c in doc.charges if counts(c.vat_category, c.vat_rate)),
        total(a.amount for a in doc.allowances if counts(a.vat_category, a.vat_rate)),
    ]
    if rounded:
        parts = [xpath_round(x, 2) for x in parts]
    with exact():
        return parts[0] + parts[1] - parts[2]


def _within_one(taxable: Decimal, expected: Decimal, *, cii: bool) -> bool:
    """``taxable - 1 < expected < taxable + 1`` as the binding's XPath evaluates it. The amount
    is untyped there, so ``TaxableAmount - 1`` is computed in xs:double: UBL casts each bound
    back to xs:decimal (the double's exact value), CII compares in xs:double. Only a difference
    of exactly 1.00 is affected; reproduced so that it is judged as the official validator
    judges it. This is XPath number semantics, not money arithmetic."""
    t = float(taxable)
    if cii:
        return t - 1 < float(expected) < t + 1
    return Decimal(t - 1) < expected < Decimal(t + 1)


def _taxable_breach(doc: Invoice, cat: Category, taxable: Decimal, rate: Decimal | None) -> str | None:  # fmt: skip
    """Why the breakdown's taxable amount breaks ``-08``, or ``None`` when it holds."""
    cii = doc.syntax == "cii"
    label = f"VAT breakdown {cat.code} at {rate}%" if cat.rated else f"VAT breakdown {cat.code} ({cat.name})"  # fmt: skip
    if not cii and cat.code == "S":
        at_rate = [x for x in _categorised(doc) if code(x.vat_category) == "S" and x.vat_rate is not None and x.vat_rate == rate]  # fmt: skip
        if not at_rate:
            return f"{label}: no line, allowance or charge has that category and rate"
        # The UBL test has a second branch, written for the other document type's lines
        # (CreditNoteLine in an Invoice): with an allowance or charge at the rate, the
        # allowances and charges alone within 1 of the taxable amount also hold.
        if any(isinstance(x, AllowanceCharge) for x in at_rate):
            without_lines = _expected(doc, cat, rate, rounded=False, lines=False)
            if _within_one(taxable, without_lines, cii=False):
                return None
    elif not cii and not doc.lines:
        return f"{label}: the invoice has no lines"
    expected = _expected(doc, cat, rate, rounded=cii)
    # The tolerance each binding states: UBL S/L/M and CII Z/E/AE/K/G "within 1", else exact.
    if cat.rated != cii and cat.code != "O":
        holds = _within_one(taxable, expected, cii=cii)
    else:
        holds = taxable == expected
    if holds:
        return None
    return (
        f"{label}: taxable amount {taxable}, but lines, charges and allowances come to {expected}"
    )


def _taxable(cat: Category) -> Callable[[Invoice], Iterator[Violation]]:
    def check(doc: Invoice) -> Iterator[Violation]:
        if doc.syntax == "cii" and cat.code in ("L", "M"):
            return  # the CII binding takes the rate from ApplicableTradeTax/..: none, it holds
        for i, b in _breakdowns(doc, cat):
            where = f"vat_breakdown[{i}].taxable_amount (BT-116)"
            if cat.rated and b.rate is None:
                continue  # "every $rate in cbc:Percent": no rate, nothing to check
            if b.taxable_amount is None:
                yield Violation(f"VAT breakdown {cat.code} ({cat.name}): the taxable amount is missing", where)  # fmt: skip
                continue
            breach = _taxable_breach(doc, cat, b.taxable_amount, b.rate if cat.rated else None)
            if breach:
                yield Violation(breach, where)

    return check


def _tax_breach(doc: Invoice, cat: Category, b: VatBreakdown) -> str | None:
    """Why the breakdown's tax amount breaks ``-09``, or ``None`` when it holds."""
    if doc.syntax == "cii" and cat.code in ("L", "M"):
        return None  # the CII binding leaves BR-AF-09 / BR-AG-09 to BR-CO-17
    label = f"VAT breakdown {cat.code} ({cat.name})"
    if b.tax_amount is None:
        return f"{label}: the tax amount is missing"
    if not cat.rated:
        return None if b.tax_amount == 0 else f"{label}: the tax amount must be 0, it is {b.tax_amount}"  # fmt: skip
    if b.taxable_amount is None or b.rate is None:
        return f"{label}: the tax amount cannot be checked without the taxable amount and the rate"
    with exact():
        expected = xpath_round(abs(b.taxable_amount) * b.rate / HUNDRED, 2)
        tax = abs(b.tax_amount)
        if tax - ONE < expected < tax + ONE:
            return None
    return f"{label} at {b.rate}%: tax amount {b.tax_amount}, but {b.taxable_amount} x {b.rate}% is {expected}"  # fmt: skip


def _tax(cat: Category) -> Callable[[Invoice], Iterator[Violation]]:
    def check(doc: Invoice) -> Iterator[Violation]:
        for i, b in _breakdowns(doc, cat):
            breach = _tax_breach(doc, cat, b)
            if breach:
                yield Violation(breach, f"vat_breakdown[{i}].tax_amount (BT-117)")

    return check


def _exemption(cat: Category) -> Callable[[Invoice], Iterator[Violation]]:
    def check(doc: Invoice) -> Iterator[Violation]:
        for i, b in _breakdowns(doc, cat):
            given = b.exemption_reason is not None or b.exemption_code is not None
            where = f"vat_breakdown[{i}].exemption_reason (BT-120) / exemption_code (BT-121)"
            if cat.exempt and not given:
                yield Violation(
                    f"VAT breakdown {cat.code} ({cat.name}) needs an exemption reason text or code",
                    where,
                )
            elif not cat.exempt and given:
                yield Violation(
                    f"VAT breakdown {cat.code} ({cat.name}) must not have an exemption reason",
                    where,
                )

    return check


# --- registration ----------------------------------------------------------------------------


def _texts(cat: Category) -> dict[str, str]:
    n = f'"{cat.name}"'
    how_many = "at least one" if cat.rated else "exactly one"
    rate = {"S": "shall be greater than zero", "L": "shall be 0 (zero) or greater than zero",
            "M": "shall be 0 (zero) or greater than zero", "O": "shall not be given"}.get(cat.code, "shall be 0 (zero)")  # fmt: skip
    needs = PARTIES[cat.code][1]
    at_rate = " and the VAT rate equals the VAT category rate (BT-119)" if cat.rated else ""
    return {
        "01": f"An Invoice with a line, allowance or charge whose VAT category is {n} shall contain {how_many} VAT breakdown (BG-23) with VAT category code (BT-118) {n}.",
        "02": f"An Invoice with an Invoice line (BG-25) whose VAT category (BT-151) is {n} shall contain {needs}.",
        "03": f"An Invoice with a Document level allowance (BG-20) whose VAT category (BT-95) is {n} shall contain {needs}.",
        "04": f"An Invoice with a Document level charge (BG-21) whose VAT category (BT-102) is {n} shall contain {needs}.",
        "05": f"In an Invoice line (BG-25) with VAT category {n} the Invoiced item VAT rate (BT-152) {rate}.",
        "06": f"In a Document level allowance (BG-20) with VAT category {n} the VAT rate (BT-96) {rate}.",
        "07": f"In a Document level charge (BG-21) with VAT category {n} the VAT rate (BT-103) {rate}.",
        "08": f"In a VAT breakdown (BG-23) with VAT category {n} the taxable amount (BT-116) shall equal Σ line net amounts (BT-131) + Σ charges (BT-99) - Σ allowances (BT-92) where the VAT category is {n}{at_rate}.",
        "09": (
            f"The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) with VAT category {n} shall equal the taxable amount (BT-116) x the VAT category rate (BT-119)."
            if cat.rated
            else f"The VAT category tax amount (BT-117) in a VAT breakdown (BG-23) with VAT category {n} shall be 0 (zero)."
        ),
        "10": (
            f"A VAT breakdown (BG-23) with VAT category {n} shall have a VAT exemption reason code (BT-121) or text (BT-120)."
            if cat.exempt
            else f"A VAT breakdown (BG-23) with VAT category {n} shall not have a VAT exemption reason code (BT-121) or text (BT-120)."
        ),
    }  # fmt: skip


def _register(cat: Category) -> None:
    checks: dict[str, Callable[[Invoice], Iterator[Violation]]] = {
        "01": _breakdown_present(cat),
        "02": _parties(cat, "lines"),
        "03": _parties(cat, "allowances"),
        "04": _parties(cat, "charges"),
        "05": _rates(cat, "lines"),
        "06": _rates(cat, "allowances"),
        "07": _rates(cat, "charges"),
        "08": _taxable(cat),
        "09": _tax(cat),
        "10": _exemption(cat),
    }
    texts = _texts(cat)
    for number, check in checks.items():
        rule(f"{cat.prefix}-{number}", "fatal", texts[number])(check)


for _category in CATEGORIES:
    _register(_category)


# --- Intra-community supply: delivery (BR-IC-11, BR-IC-12) -----------------------------------

INTRA_COMMUNITY = next(c for c in CATEGORIES if c.code == "K")
NOT_SUBJECT = next(c for c in CATEGORIES if c.code == "O")


@rule("BR-IC-11", "fatal", 'In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is "Intra-community supply" the Actual delivery date (BT-72) or the Invoicing period (BG-14) shall not be blank.')  # fmt: skip
def _ic_delivery_date(doc: Invoice) -> Iterator[Violation]:
    if not any(True for _ in _breakdowns(doc, INTRA_COMMUNITY)):
        return
    if doc.delivery is not None and doc.delivery.date is not None:
        return
    p = doc.period
    # The UBL binding counts any child of cac:InvoicePeriod, where UBL also carries BT-8.
    if p is not None and (p.start or p.end or (doc.syntax == "ubl" and p.description_code)):
        return
    yield Violation(
        "an intra-community supply (VAT category K) needs the actual delivery date (BT-72) or "
        "the invoicing period (BG-14)",
        "delivery.date (BT-72)",
    )


@rule("BR-IC-12", "fatal", 'In an Invoice with a VAT breakdown (BG-23) where the VAT category code (BT-118) is "Intra-community supply" the Deliver to country code (BT-80) shall not be blank.')  # fmt: skip
def _ic_delivery_country(doc: Invoice) -> Iterator[Violation]:
    if not any(True for _ in _breakdowns(doc, INTRA_COMMUNITY)):
        return
    d = doc.delivery
    country = d.address.country if d is not None and d.address is not None else None
    # UBL: string-length(...) > 1; CII: the element is there.
    if country is None or (doc.syntax != "cii" and len(country.strip()) <= 1):
        yield Violation(
            "an intra-community supply (VAT category K) needs the deliver-to country (BT-80)",
            "delivery.address.country (BT-80)",
        )


# --- Not subject to VAT excludes every other category (BR-O-11..BR-O-14) ---------------------


def _only_o(ubl: tuple[str, ...], cii: tuple[str, ...]) -> Callable[[Invoice], Iterator[Violation]]:  # fmt: skip
    """Where the binding looks for another category: UBL one place per rule; CII looks at all
    ApplicableTradeTax (BR-O-11/12: breakdown and lines) or all CategoryTradeTax (BR-O-13/14:
    allowances and charges)."""

    def check(doc: Invoice) -> Iterator[Violation]:
        if not any(True for _ in _breakdowns(doc, NOT_SUBJECT)):
            return
        for where in cii if doc.syntax == "cii" else ubl:
            items: tuple[VatBreakdown | InvoiceLine | AllowanceCharge, ...] = getattr(doc, where)
            for i, item in enumerate(items, 1):
                c = code(item.category if isinstance(item, VatBreakdown) else item.vat_category)
                if c is not None and c != "O":
                    yield Violation(
                        f"the invoice is not subject to VAT (breakdown O) but {where}[{i}] has "
                        f"VAT category {c}",
                        f"{where}[{i}]",
                    )

    return check


_TAXES, _ACS = ("vat_breakdown", "lines"), ("allowances", "charges")
rule("BR-O-11", "fatal", 'An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) "Not subject to VAT" shall not contain other VAT breakdown groups (BG-23).')(_only_o(("vat_breakdown",), _TAXES))  # fmt: skip
rule("BR-O-12", "fatal", 'An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) "Not subject to VAT" shall not contain an Invoice line (BG-25) where the Invoiced item VAT category code (BT-151) is not "Not subject to VAT".')(_only_o(("lines",), _TAXES))  # fmt: skip
rule("BR-O-13", "fatal", 'An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) "Not subject to VAT" shall not contain Document level allowances (BG-20) where Document level allowance VAT category code (BT-95) is not "Not subject to VAT".')(_only_o(("allowances",), _ACS))  # fmt: skip
rule("BR-O-14", "fatal", 'An Invoice that contains a VAT breakdown group (BG-23) with a VAT category code (BT-118) "Not subject to VAT" shall not contain Document level charges (BG-21) where Document level charge VAT category code (BT-102) is not "Not subject to VAT".')(_only_o(("charges",), _ACS))  # fmt: skip
