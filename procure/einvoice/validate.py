"""Validation of a canonical invoice: the EN 16931 rules plus procure's own checks.

procure's own findings use ids ``PROCURE-*``: identifier check digits are *warnings* (a failed
check digit on a VAT number is worth telling a clerk, not a reason to drop the invoice, unless
an official rule makes it fatal).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from stdnum.exceptions import ValidationError as StdnumError

from procure.einvoice.model import Finding, Invoice
from procure.einvoice.rules import run_rules


@lru_cache(maxsize=64)
def _vat_module(country: str) -> Any:
    from stdnum.util import get_cc_module

    return get_cc_module("gr" if country == "el" else country, "vat")


def _vat_check_digits(doc: Invoice) -> Iterator[Finding]:
    for where, vat in (
        ("seller.vat_id (BT-31)", doc.seller.vat_id),
        ("buyer.vat_id (BT-48)", doc.buyer.vat_id),
    ):
        if not vat or len(vat) < 4 or not vat[:2].isalpha():
            continue
        country = vat[:2].lower()
        module = _vat_module(country)
        if module is None:
            continue  # a country python-stdnum does not know: nothing to say
        try:
            module.validate(vat)
        except StdnumError as exc:
            yield Finding(
                rule="PROCURE-VAT-01",
                severity="warning",
                message=f"VAT identifier {vat} does not pass its check: {exc}",
                location=where,
            )


_ORDER = {"fatal": 0, "warning": 1, "information": 2}


def with_findings(doc: Invoice, findings: Iterable[Finding]) -> Invoice:
    """The same document with exactly these findings, fatal first, then by rule and place."""
    ordered = sorted(findings, key=lambda f: (_ORDER[f.severity], f.rule, f.location or ""))
    return doc.model_copy(update={"findings": tuple(ordered)})


def validate(doc: Invoice) -> Invoice:
    """The same document with parser findings, rule findings and procure's checks attached."""
    found = [*run_rules(doc), *_vat_check_digits(doc)]
    if not found and not doc.findings:
        return doc  # nothing to attach: the same (immutable) document
    return with_findings(doc, [*doc.findings, *found])
