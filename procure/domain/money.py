"""Money and quantity arithmetic: ``Decimal`` only, with the rounding rules written down.

Imports: the standard library only.

Rules:
- Amounts are in pounds with 2 decimals (EN 16931 also uses 2 decimals on amounts).
- A line's net amount is quantity x unit price, rounded half-up to 2 decimals.
- VAT is computed per line on the rounded net and rounded half-up to 2 decimals.
- Quantities keep up to 4 decimals, unit prices up to 4 decimals (as entered, never rounded).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PENNY = Decimal("0.01")
ZERO = Decimal("0")
QUANTITY_PLACES = 4
PRICE_PLACES = 4


def money(value: Decimal | int | str) -> Decimal:
    """Round to pennies, half-up (the UK and EN 16931 convention for amounts)."""
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return money(quantity * unit_price)


def vat_on(net: Decimal, rate_percent: Decimal) -> Decimal:
    return money(net * rate_percent / Decimal(100))


def parse_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a str/int/Decimal, or None. Floats are refused on purpose."""
    if isinstance(value, bool | float):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").lstrip("£")
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def places(value: Decimal) -> int:
    """Number of decimal places written in ``value`` (``Decimal('1.50')`` has 2)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_gbp(value: Decimal) -> str:
    return f"£{money(value):,.2f}"
