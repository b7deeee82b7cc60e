"""EN 16931 cohesion rules BR-CO-*: how business terms agree with each other, above all the
arithmetic of the totals.

The arithmetic is that of the CEN Schematron bindings, exactly, in ``Decimal``:

* sums are rounded with XPath ``round(x * 10 * 10) div 100`` (``support.xpath_round(x, 2)``:
  half-way towards positive infinity) and then compared *exactly* with the stated total: no
  tolerance beyond that rounding;
* BR-CO-17 is the one rule with a tolerance, and it is the Schematron's own: the stated VAT
  amount (BT-117) may differ from ``round(|BT-116| * BT-119 / 100, 2)`` by less than one
  currency unit (UBL: ``|BT-117| - 1 < expected < |BT-117| + 1``); the CII binding allows
  exactly one unit as well (``<=``), and a CII document is checked with ``<=``;
* BR-CO-15 in CII also holds when BT-112 equals BT-109 (the CII binding's second branch, which
  lets an invoice without VAT leave BT-110 out);
* BR-CO-13 and BR-CO-16 follow the UBL binding's case analysis (no rounding when there is
  nothing to add or subtract); the CII binding, which rounds BR-CO-13 always and never rounds
  BR-CO-16, is followed for CII documents. With two-decimal amounts (BR-DEC-*) both agree.

BR-CO-05 … BR-CO-08 (reason code and reason text "indicate the same type") are bound to
``true()`` in both official bindings: no machine check exists, and these rules hold always.
BR-CO-25 is not part of this release of the Schematron and is not registered.

Missing inputs: a comparison whose stated total is absent holds (BR-12 … BR-15 and BR-45/46
report the absence). Where the binding itself makes absence an error — BR-CO-11/12 (allowances
or charges without their sum), BR-CO-15 (no total VAT amount in the invoice currency, or more
than one), BR-CO-18 (no VAT breakdown) — the rule reports it.

Imports: the canonical model, the rule registry and ``support``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from procure.einvoice.model import AllowanceCharge, Invoice
from procure.einvoice.rules import Violation, rule
from procure.einvoice.rules.support import (
    HUNDRED,
    exact,
    lines,
    number,
    present,
    show,
    tax_total_currencies,
    total,
    walk,
    without_reason,
    xpath_round,
)

# ISO 3166-1 alpha-2 and the exceptions (EL for Greece, XI for Northern Ireland, 1A Kosovo) as
# listed in the CEN Schematron; the test is its ``contains(list, substring(id, 1, 2))``.
_VAT_PREFIXES = (
    " 1A AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
    "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK "
    "DM DO DZ EC EE EG EH EL ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ "
    "GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI "
    "KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO "
    "MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK "
    "PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS "
    "ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE "
    "VG VI VN VU WF WS XI YE YT ZA ZM ZW "
)


@rule(
    "BR-CO-03",
    "fatal",
    "Value added tax point date (BT-7) and Value added tax point date code (BT-8) are mutually "
    "exclusive.",
)
def br_co_03(doc: Invoice) -> Iterator[Violation]:
    code = doc.tax_point_date_code or (doc.period.description_code if doc.period else None)
    if doc.tax_point_date is not None and code is not None:
        yield Violation(
            f"Both a VAT point date (BT-7, {doc.tax_point_date}) and a VAT point date code "
            f"(BT-8, {code}) are given; an invoice gives one or the other.",
            "tax_point_date (BT-7)",
        )


@rule(
    "BR-CO-04",
    "fatal",
    "Each Invoice line (BG-25) shall be categorized with an Invoiced item VAT category code "
    "(BT-151).",
)
def br_co_04(doc: Invoice) -> Iterator[Violation]:
    for where, line in lines(doc):
        if line.vat_category is None:
            yield Violation(location=f"{where}.vat_category (BT-151)")


def _no_machine_check(doc: Invoice) -> Iterator[Violation]:
    """Bound to ``true()`` in the official UBL and CII Schematron: always holds."""
    return iter(())


rule(
    "BR-CO-05",
    "fatal",
    "Document level allowance reason code (BT-98) and Document level allowance reason (BT-97) "
    "shall indicate the same type of allowance.",
)(_no_machine_check)
rule(
    "BR-CO-06",
    "fatal",
    "Document level charge reason code (BT-105) and Document level charge reason (BT-104) shall "
    "indicate the same type of charge.",
)(_no_machine_check)
rule(
    "BR-CO-07",
    "fatal",
    "Invoice line allowance reason code (BT-140) and Invoice line allowance reason (BT-139) "
    "shall indicate the same type of allowance reason.",
)(_no_machine_check)
rule(
    "BR-CO-08",
    "fatal",
    "Invoice line charge reason code (BT-145) and Invoice line charge reason (BT-144) shall "
    "indicate the same type of charge reason.",
)(_no_machine_check)


@rule(
    "BR-CO-09",
    "fatal",
    "The Seller VAT identifier (BT-31), the Seller tax representative VAT identifier (BT-63) "
    "and the Buyer VAT identifier (BT-48) shall have a prefix in accordance with ISO code ISO "
    "3166-1 alpha-2 by which the country of issue may be identified. Nevertheless, Greece may "
    "use the prefix \u2018EL\u2019.",
)
def br_co_09(doc: Invoice) -> Iterator[Violation]:
    representative = doc.tax_representative.vat_id if doc.tax_representative else None
    for where, vat in (
        ("seller.vat_id (BT-31)", doc.seller.vat_id),
        ("buyer.vat_id (BT-48)", doc.buyer.vat_id),
        ("tax_representative.vat_id (BT-63)", representative),
    ):
        if vat is not None and vat[:2] not in _VAT_PREFIXES:
            yield Violation(
                f"VAT identifier {vat} does not start with a country code (GB, IE, DE, EL...).",
                where,
            )


# -- document totals (BG-22) ----------------------------------------------------------------


def _mismatch(what: str, stated: Decimal, expected: Decimal, how: str) -> str:
    return f"{what} is {stated} but {how} gives {expected} (difference {stated - expected})."


@rule(
    "BR-CO-10",
    "fatal",
    "Sum of Invoice line net amount (BT-106) = \u03a3 Invoice line net amount (BT-131).",
)
def br_co_10(doc: Invoice) -> Iterator[Violation]:
    stated = number(doc.totals.line_net)
    if stated is None:
        return
    expected = xpath_round(total(line.net_amount for line in doc.lines), 2)
    if stated != expected:
        yield Violation(
            _mismatch(
                "The sum of line net amounts (BT-106)",
                stated,
                expected,
                "adding the lines (BT-131)",
            ),
            "totals.line_net (BT-106)",
        )


def _sum_of(
    stated: Decimal | None, items: tuple[AllowanceCharge, ...], what: str, where: str
) -> Iterator[Violation]:
    """BR-CO-11 / BR-CO-12: the stated sum equals the rounded sum, or neither exists."""
    if stated is None:
        if items:
            yield Violation(f"{what} is missing although the invoice has {len(items)}.", where)
        return
    value = number(stated)
    if value is None:
        return
    expected = xpath_round(total(ac.amount for ac in items), 2)
    if value != expected:
        yield Violation(_mismatch(what, value, expected, "adding them"), where)


@rule(
    "BR-CO-11",
    "fatal",
    "Sum of allowances on document level (BT-107) = \u03a3 Document level allowance amount "
    "(BT-92).",
)
def br_co_11(doc: Invoice) -> Iterator[Violation]:
    yield from _sum_of(
        doc.totals.allowances,
        doc.allowances,
        "The sum of document level allowances (BT-107)",
        "totals.allowances (BT-107)",
    )


@rule(
    "BR-CO-12",
    "fatal",
    "Sum of charges on document level (BT-108) = \u03a3 Document level charge amount (BT-99).",
)
def br_co_12(doc: Invoice) -> Iterator[Violation]:
    yield from _sum_of(
        doc.totals.charges,
        doc.charges,
        "The sum of document level charges (BT-108)",
        "totals.charges (BT-108)",
    )


@rule(
    "BR-CO-13",
    "fatal",
    "Invoice total amount without VAT (BT-109) = \u03a3 Invoice line net amount (BT-131) - Sum "
    "of allowances on document level (BT-107) + Sum of charges on document level (BT-108).",
)
def br_co_13(doc: Invoice) -> Iterator[Violation]:
    t = doc.totals
    stated, line_net = number(t.tax_exclusive), number(t.line_net)
    if stated is None or line_net is None:
        return
    allowances, charges = number(t.allowances), number(t.charges)
    with exact():
        raw = line_net - (allowances or 0) + (charges or 0)
    if allowances is None and charges is None and doc.syntax != "cii":
        expected = raw  # UBL: BT-109 = BT-106, no rounding
    else:
        expected = xpath_round(raw, 2)
    if stated != expected:
        yield Violation(
            _mismatch(
                "The total without VAT (BT-109)",
                stated,
                expected,
                f"BT-106 {line_net} - BT-107 {show(allowances)} + BT-108 {show(charges)}",
            ),
            "totals.tax_exclusive (BT-109)",
        )


@rule(
    "BR-CO-14",
    "fatal",
    "Invoice total VAT amount (BT-110) = \u03a3 VAT category tax amount (BT-117).",
)
def br_co_14(doc: Invoice) -> Iterator[Violation]:
    stated = number(doc.totals.tax)
    if stated is None or (not doc.vat_breakdown and doc.syntax != "cii"):
        return  # UBL: "or not(cac:TaxSubtotal)"; CII sums whatever breakdown there is
    expected = xpath_round(total(v.tax_amount for v in doc.vat_breakdown), 2)
    if stated != expected:
        yield Violation(
            _mismatch(
                "The total VAT (BT-110)", stated, expected, "adding the VAT breakdown (BT-117)"
            ),
            "totals.tax (BT-110)",
        )


@rule(
    "BR-CO-15",
    "fatal",
    "Invoice total amount with VAT (BT-112) = Invoice total amount without VAT (BT-109) + "
    "Invoice total VAT amount (BT-110).",
)
def br_co_15(doc: Invoice) -> Iterator[Violation]:
    if not present(doc.currency):
        return
    t = doc.totals
    stated, without, tax = number(t.tax_inclusive), number(t.tax_exclusive), number(t.tax)
    if doc.syntax == "cii" and stated is not None and stated == without:
        return  # the CII binding's other branch: "or BT-112 = BT-109", whatever BT-110 is
    if t.tax is None:
        yield Violation(
            f"There is no total VAT amount (BT-110) in the invoice currency {doc.currency}.",
            "totals.tax (BT-110)",
        )
        return
    times = tax_total_currencies(doc).count((doc.currency or "").strip())
    if times > 1:
        yield Violation(
            f"The total VAT amount in the invoice currency {doc.currency} (BT-110) is given "
            f"{times} times; it shall be given once.",
            "totals.tax (BT-110)",
        )
        return
    if stated is None or without is None or tax is None:
        return
    with exact():
        expected = xpath_round(without + tax, 2)
    if stated != expected:
        yield Violation(
            _mismatch(
                "The total with VAT (BT-112)", stated, expected, f"BT-109 {without} + BT-110 {tax}"
            ),
            "totals.tax_inclusive (BT-112)",
        )


@rule(
    "BR-CO-16",
    "fatal",
    "Amount due for payment (BT-115) = Invoice total amount with VAT (BT-112) -Paid amount "
    "(BT-113) +Rounding amount (BT-114).",
)
def br_co_16(doc: Invoice) -> Iterator[Violation]:
    t = doc.totals
    payable, inclusive = number(t.payable), number(t.tax_inclusive)
    if payable is None or inclusive is None:
        return
    prepaid, rounding = number(t.prepaid), number(t.rounding)
    with exact():
        if doc.syntax == "cii":  # CII: exact, no rounding
            holds = payable == inclusive - (prepaid or 0) + (rounding or 0)
        else:  # UBL: round both sides of (BT-115 - BT-114) = (BT-112 - BT-113) when there is a term
            due = payable if rounding is None else xpath_round(payable - rounding, 2)
            owed = inclusive if prepaid is None else xpath_round(inclusive - prepaid, 2)
            holds = due == owed
        expected = inclusive - (prepaid or 0) + (rounding or 0)
    if not holds:
        yield Violation(
            _mismatch(
                "The amount due (BT-115)",
                payable,
                expected,
                f"BT-112 {inclusive} - BT-113 {show(prepaid)} + BT-114 {show(rounding)}",
            ),
            "totals.payable (BT-115)",
        )


# -- VAT breakdown (BG-23) ------------------------------------------------------------------


@rule(
    "BR-CO-17",
    "fatal",
    "VAT category tax amount (BT-117) = VAT category taxable amount (BT-116) x (VAT category "
    "rate (BT-119) / 100), rounded to two decimals.",
)
def br_co_17(doc: Invoice) -> Iterator[Violation]:
    for at, vat in walk(doc, "vat_breakdown[*]"):
        where = f"{at}.tax_amount (BT-117)"
        tax, rate = number(vat.tax_amount), number(vat.rate)
        if tax is None:
            continue
        if rate is None or xpath_round(rate) == 0:
            # no rate, or one that rounds to 0: the VAT amount shall round to 0 (whole units)
            if xpath_round(tax) != 0:
                yield Violation(
                    f"The VAT amount (BT-117) is {tax} but the VAT rate (BT-119) is "
                    f"{show(rate)}, so it should be 0.",
                    where,
                )
            continue
        base = number(vat.taxable_amount)
        if base is None:
            continue
        with exact():
            expected = xpath_round(abs(base) * (rate / HUNDRED), 2)
            low, high = abs(tax) - 1, abs(tax) + 1
            inside = (low <= expected <= high) if doc.syntax == "cii" else (low < expected < high)
        if not inside:
            yield Violation(
                f"The VAT amount (BT-117) is {tax} but {abs(base)} x {rate}% is {expected}; "
                "they shall differ by less than one currency unit.",
                where,
            )


@rule("BR-CO-18", "fatal", "An Invoice shall at least have one VAT breakdown group (BG-23).")
def br_co_18(doc: Invoice) -> Iterator[Violation]:
    if not doc.vat_breakdown:
        yield Violation(location="vat_breakdown (BG-23)")


# -- periods, reasons, seller identification ------------------------------------------------


@rule(
    "BR-CO-19",
    "fatal",
    "If Invoicing period (BG-14) is used, the Invoicing period start date (BT-73) or the "
    "Invoicing period end date (BT-74) shall be filled, or both.",
)
def br_co_19(doc: Invoice) -> Iterator[Violation]:
    p = doc.period
    # UBL: a period holding only the VAT point date code (BT-8) is allowed
    if p is not None and p.start is None and p.end is None and p.description_code is None:
        yield Violation(location="period (BG-14)")


@rule(
    "BR-CO-20",
    "fatal",
    "If Invoice line period (BG-26) is used, the Invoice line period start date (BT-134) or "
    "the Invoice line period end date (BT-135) shall be filled, or both.",
)
def br_co_20(doc: Invoice) -> Iterator[Violation]:
    for where, line in lines(doc):
        if line.period is not None and line.period.start is None and line.period.end is None:
            yield Violation(location=f"{where}.period (BG-26)")


def _without_reason(doc: Invoice, path: str, term: str) -> Iterator[Violation]:
    for where in without_reason(doc, path):
        yield Violation(location=f"{where}.reason ({term})")


@rule(
    "BR-CO-21",
    "fatal",
    "Each Document level allowance (BG-20) shall contain a Document level allowance reason "
    "(BT-97) or a Document level allowance reason code (BT-98), or both.",
)
def br_co_21(doc: Invoice) -> Iterator[Violation]:
    yield from _without_reason(doc, "allowances[*]", "BT-97")


@rule(
    "BR-CO-22",
    "fatal",
    "Each Document level charge (BG-21) shall contain a Document level charge reason (BT-104) "
    "or a Document level charge reason code (BT-105), or both.",
)
def br_co_22(doc: Invoice) -> Iterator[Violation]:
    yield from _without_reason(doc, "charges[*]", "BT-104")


@rule(
    "BR-CO-23",
    "fatal",
    "Each Invoice line allowance (BG-27) shall contain an Invoice line allowance reason "
    "(BT-139) or an Invoice line allowance reason code (BT-140), or both.",
)
def br_co_23(doc: Invoice) -> Iterator[Violation]:
    yield from _without_reason(doc, "lines[*].allowances[*]", "BT-139")


@rule(
    "BR-CO-24",
    "fatal",
    "Each Invoice line charge (BG-28) shall contain an Invoice line charge reason (BT-144) or "
    "an Invoice line charge reason code (BT-145), or both.",
)
def br_co_24(doc: Invoice) -> Iterator[Violation]:
    yield from _without_reason(doc, "lines[*].charges[*]", "BT-144")


@rule(
    "BR-CO-26",
    "fatal",
    "In order for the buyer to automatically identify a supplier, the Seller identifier "
    "(BT-29), the Seller legal registration identifier (BT-30) and/or the Seller VAT identifier "
    "(BT-31) shall be present.",
)
def br_co_26(doc: Invoice) -> Iterator[Violation]:
    seller = doc.seller
    identified = any(i.scheme != "SEPA" for i in seller.identifiers)  # SEPA: BT-90, not BT-29
    if not (identified or seller.legal_id is not None or seller.vat_id is not None):
        yield Violation(location="seller (BT-29, BT-30, BT-31)")
