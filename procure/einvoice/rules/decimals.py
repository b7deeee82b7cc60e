"""EN 16931 decimal rules BR-DEC-*: the amounts that may carry at most two decimals.

The Schematron counts the characters after the decimal point as written
(``string-length(substring-after(x, '.')) <= 2``); the canonical model keeps each amount with
the scale it was written with, so the count is the ``Decimal`` exponent: ``100.00`` has two
decimals, ``100.000`` three (and fails, although it is a whole number of cents).

BR-DEC-13 / BR-DEC-15 (BT-110 / BT-111): the CII binding tests the value
(``. = round(. * 100) div 100``, so ``10.500`` passes) and a CII document is checked that way.
The UBL binding's XPath for these two (``TaxAmount[@currencyID = cbc:DocumentCurrencyCode]``)
compares against a child of ``TaxAmount`` that never exists, so the official UBL artefact never
fires them; we check UBL and spreadsheet documents by the rule's text, counting written
decimals like every other BR-DEC rule.

Imports: the canonical model, the rule registry and ``support``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from procure.einvoice.model import Invoice
from procure.einvoice.rules import Violation, context_of, rule
from procure.einvoice.rules.support import decimals, number, select, xpath_round

MAX_DECIMALS = 2


def _too_many(value: Decimal) -> bool:
    return decimals(value) > MAX_DECIMALS


def _not_in_cents(value: Decimal) -> bool:
    return value != xpath_round(value, MAX_DECIMALS)


def _register(rule_id: str, path: str, term: str, *, by_value_in_cii: bool = False) -> None:
    text = f"The allowed maximum number of decimals for the {_NAMES[term]} ({term}) is 2."

    def check(doc: Invoice) -> Iterator[Violation]:
        wrong = _not_in_cents if by_value_in_cii and doc.syntax == "cii" else _too_many

        def breaks(raw: Decimal | None) -> bool:
            value = number(raw)
            return value is not None and wrong(value)

        for where, raw in select(doc, path, breaks):
            value = number(raw)
            if value is not None:
                yield Violation(
                    f"{raw} has {decimals(value)} decimals; amounts may have at most two.",
                    f"{where} ({term})",
                )

    check.__name__ = check.__qualname__ = "br_dec_" + rule_id.rsplit("-", 1)[1]
    rule(rule_id, "fatal", text, context=context_of(path))(check)


_NAMES = {
    "BT-92": "Document level allowance amount",
    "BT-93": "Document level allowance base amount",
    "BT-99": "Document level charge amount",
    "BT-100": "Document level charge base amount",
    "BT-106": "Sum of Invoice line net amount",
    "BT-107": "Sum of allowanced on document level",  # sic: the official text's spelling
    "BT-108": "Sum of charges on document level",
    "BT-109": "Invoice total amount without VAT",
    "BT-110": "Invoice total VAT amount",
    "BT-111": "Invoice total VAT amount in accounting currency",
    "BT-112": "Invoice total amount with VAT",
    "BT-113": "Paid amount",
    "BT-114": "Rounding amount",
    "BT-115": "Amount due for payment",
    "BT-116": "VAT category taxable amount",
    "BT-117": "VAT category tax amount",
    "BT-131": "Invoice line net amount",
    "BT-136": "Invoice line allowance amount",
    "BT-137": "Invoice line allowance base amount",
    "BT-141": "Invoice line charge amount",
    "BT-142": "Invoice line charge base amount",
}
"""Each amount's name as the official rule texts give it."""

_register("BR-DEC-01", "allowances[*].amount", "BT-92")
_register("BR-DEC-02", "allowances[*].base_amount", "BT-93")
_register("BR-DEC-05", "charges[*].amount", "BT-99")
_register("BR-DEC-06", "charges[*].base_amount", "BT-100")
_register("BR-DEC-09", "totals.line_net", "BT-106")
_register("BR-DEC-10", "totals.allowances", "BT-107")
_register("BR-DEC-11", "totals.charges", "BT-108")
_register("BR-DEC-12", "totals.tax_exclusive", "BT-109")
_register("BR-DEC-13", "totals.tax", "BT-110", by_value_in_cii=True)
_register("BR-DEC-14", "totals.tax_inclusive", "BT-112")
_register("BR-DEC-15", "totals.tax_in_tax_currency", "BT-111", by_value_in_cii=True)
_register("BR-DEC-16", "totals.prepaid", "BT-113")
_register("BR-DEC-17", "totals.rounding", "BT-114")
_register("BR-DEC-18", "totals.payable", "BT-115")
_register("BR-DEC-19", "vat_breakdown[*].taxable_amount", "BT-116")
_register("BR-DEC-20", "vat_breakdown[*].tax_amount", "BT-117")
_register("BR-DEC-23", "lines[*].net_amount", "BT-131")
_register("BR-DEC-24", "lines[*].allowances[*].amount", "BT-136")
_register("BR-DEC-25", "lines[*].allowances[*].base_amount", "BT-137")
_register("BR-DEC-27", "lines[*].charges[*].amount", "BT-141")
_register("BR-DEC-28", "lines[*].charges[*].base_amount", "BT-142")
