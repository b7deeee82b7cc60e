"""Checks and normal forms for the identifiers in reference data: VAT numbers, bank details,
postcodes and email addresses.

Role: each check takes the text as a person wrote it and returns its normal form, or raises
``ValueError`` with a message fit to show them; the council file reader records that message as a
problem, and other modules can reuse the same checks.

Imports: the standard library and ``stdnum`` only.
"""

from __future__ import annotations

import re

from stdnum import iban as stdnum_iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import vat as gb_vat

__all__ = [
    "iban_matches",
    "is_email_address",
    "normalise_account_number",
    "normalise_sort_code",
    "normalise_uk_postcode",
    "validate_iban",
    "validate_vat_number",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_EU_VAT_COUNTRIES = frozenset(c.upper() for c in eu_vat.MEMBER_STATES) | {"EL"}


def validate_vat_number(text: str) -> str:
    """The compact VAT number with its country prefix (``"GB 220 4302 31"`` → ``"GB220430231"``).

    Digits alone are taken to be a UK number. UK numbers (including GD and HA ones) are checked
    with ``stdnum.gb.vat``, EU ones (and Northern Ireland's XI) with ``stdnum.eu.vat``.
    Raises ``ValueError`` saying why the number is refused.
    """
    compact = re.sub(r"[\s.\-]", "", text).upper()
    if not compact:
        raise ValueError("the VAT number is empty")
    prefix = compact[:2]
    if not prefix.isalpha() or prefix in ("GD", "HA"):
        prefix, compact = "GB", "GB" + compact
    try:
        if prefix == "GB":
            return "GB" + str(gb_vat.validate(compact))
        if prefix in _EU_VAT_COUNTRIES:
            return str(eu_vat.validate(compact))
    except StdnumError as exc:
        raise ValueError(f"{text!r} is not a valid {prefix} VAT number ({exc})") from exc
    raise ValueError(f"{text!r}: VAT numbers from {prefix} cannot be checked (only UK and EU)")


def normalise_sort_code(text: str) -> str:
    """A UK sort code as ``NN-NN-NN`` (``"123456"``, ``"12 34 56"`` are accepted)."""
    digits = re.sub(r"[\s\-]", "", text)
    if not re.fullmatch(r"[0-9]{6}", digits):
        raise ValueError(f"{text!r} is not a sort code (six digits, e.g. 12-34-56)")
    return f"{digits[0:2]}-{digits[2:4]}-{digits[4:6]}"


def normalise_account_number(text: str) -> str:
    """A UK bank account number as its eight digits (spaces are dropped)."""
    digits = text.replace(" ", "")
    if not re.fullmatch(r"[0-9]{8}", digits):
        raise ValueError(f"{text!r} is not an account number (eight digits)")
    return digits


def validate_iban(text: str) -> str:
    """The compact IBAN, checked with ``stdnum.iban`` (country format and check digits)."""
    try:
        return str(stdnum_iban.validate(text))
    except StdnumError as exc:
        raise ValueError(f"{text!r} is not a valid IBAN ({exc})") from exc


def iban_matches(iban: str, sort_code: str | None, account: str | None) -> bool:
    """A UK IBAN carries the sort code and account number; they must be the ones given."""
    return (sort_code is None or sort_code.replace("-", "") == iban[8:14]) and (
        account is None or account == iban[14:22]
    )


def normalise_uk_postcode(text: str) -> str:
    """A UK postcode in upper case with one space before the inward code (``"SW1A 1AA"``)."""
    postcode = " ".join(text.upper().split())
    match = _UK_POSTCODE.match(postcode)
    if match is None:
        raise ValueError(f"{postcode!r} is not a UK postcode")
    return f"{match[1]} {match[2]}"


def is_email_address(text: str) -> bool:
    """Whether ``text`` looks like one email address (something@domain.tld, no spaces)."""
    return _EMAIL.match(text) is not None
