"""Shared helpers for the EN 16931 rule modules: presence, exact decimal arithmetic with the
Schematron's rounding, and readable locations.

The official rules are XPath 2.0 over the syntax; these helpers reproduce the parts of XPath the
rules depend on, on the canonical model:

* ``present`` is ``normalize-space(x) != ''``; ``exists(x)`` is ``x is not None``.
* ``xpath_round`` is ``fn:round``: half-way values go towards positive infinity
  (``round(-2.5) = -2``), which is *not* Python's banker's rounding nor ``ROUND_HALF_UP``.
  ``round(x * 10 * 10) div 100`` in the Schematron is ``xpath_round(x, 2)``.
* Arithmetic runs in ``exact()``, a decimal context that never rounds or traps, so a sum of
  amounts is the exact sum however long the amounts a supplier writes.

Locations name the canonical field (``lines[2].net_amount (BT-131)``), indexes counting from 1
as a clerk counts lines.

Imports: the standard library and the canonical model only.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_DOWN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    localcontext,
)
from functools import lru_cache
from typing import Any

from procure.einvoice.model import CodeUse, Invoice, InvoiceLine

_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])
"""Additions, subtractions and multiplications are exact in this context (division by 100 is
exact too); nothing in the rules divides by anything else."""

HUNDRED = Decimal(100)


def exact() -> AbstractContextManager[Context]:
    """``with exact():`` — arithmetic on amounts without any rounding."""
    return localcontext(_EXACT)


def present(value: str | None) -> bool:
    """XPath ``normalize-space(x) != ''``: there and not blank."""
    return value is not None and value.strip() != ""


def missing(value: object) -> bool:
    """Absent (``None``) or, for text, blank: what "shall have" rules report."""
    return value is None or (isinstance(value, str) and not value.strip())


def number(value: Decimal | None) -> Decimal | None:
    """The value if it is a finite number; ``None`` (absent) for missing, NaN or infinite."""
    if value is None or not value.is_finite():
        return None
    return value


def xpath_round(value: Decimal, places: int = 0) -> Decimal:
    """XPath ``fn:round`` to ``places`` decimals: half-way goes towards positive infinity."""
    mode = ROUND_HALF_UP if value >= 0 else ROUND_HALF_DOWN
    exponent = _PLACES[places] if 0 <= places < len(_PLACES) else Decimal(1).scaleb(-places)
    return value.quantize(exponent, rounding=mode, context=_EXACT)


_PLACES = [Decimal(1).scaleb(-places) for places in range(8)]
"""``Decimal("1")``, ``Decimal("0.1")``…: the exponents ``xpath_round`` quantizes to."""


def total(values: Iterable[Decimal | None]) -> Decimal:
    """XPath ``sum()`` over the amounts that are there (the empty sum is 0)."""
    out = Decimal(0)
    add = _EXACT.add
    for v in values:
        if v is not None and v.is_finite():
            out = add(out, v)
    return out


def decimals(value: Decimal) -> int:
    """How many decimals the amount was written with (``Decimal("1.230")`` → 3)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def show(value: Decimal | None) -> str:
    """An amount as the supplier wrote it, for messages."""
    return "(absent)" if value is None else str(value)


# -- where things are ----------------------------------------------------------------------


class Location(tuple[str | int, ...]):
    """Where a value sits, e.g. ``lines[1].allowances[2].amount``; the text is built only when
    a rule reports a violation (most values never need it)."""

    __slots__ = ()

    def __str__(self) -> str:
        out = ""
        for part in self:
            if isinstance(part, int):
                out += f"[{part}]"
            else:
                out += f".{part}" if out else part
        return out

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


@lru_cache(maxsize=512)
def _steps(path: str) -> tuple[tuple[str, bool], ...]:
    return tuple((s.removesuffix("[*]"), s.endswith("[*]")) for s in path.split("."))


def walk(doc: Invoice, path: str) -> Iterator[tuple[Location, Any]]:
    """Every value at ``path`` with its location: ``"lines[*].allowances[*].amount"`` gives
    ``("lines[1].allowances[2].amount", Decimal(...))`` and so on, counting from 1. A group
    that is absent (``None``) on the way gives nothing: the rule has no context there.

    Breadth-first and without building location text (a 10,000-line invoice walks in
    milliseconds); locations render when formatted. While ``run_rules`` checks a document
    (see ``checking``), each path is walked once and its values shared by every rule that
    walks it: the document is immutable."""
    if getattr(_RUN, "doc", None) is doc:
        cache: dict[str, list[tuple[Location, Any]]] = _RUN.cache
        found = cache.get(path)
        if found is None:
            found = cache[path] = _walk(doc, path, _RUN.frontiers)
        return iter(found)
    return iter(_walk(doc, path, None))


_RUN = threading.local()
"""The document ``run_rules`` is checking on this thread, with its walks by path and the
values on the way by the steps that lead to them."""

_Frontier = list[tuple[tuple[str | int, ...], Any]]
_Steps = tuple[tuple[str, bool], ...]


@contextmanager
def checking(doc: Invoice) -> Iterator[None]:
    """Share ``walk`` results among the rules run on ``doc``."""
    names = ("doc", "cache", "frontiers", "uses")
    before = tuple(getattr(_RUN, name, None) for name in names)
    _RUN.doc, _RUN.cache, _RUN.frontiers, _RUN.uses = doc, {}, {}, None
    try:
        yield
    finally:
        _RUN.doc, _RUN.cache, _RUN.frontiers, _RUN.uses = before


def code_uses_of(doc: Invoice, attribute: str) -> list[CodeUse] | tuple[CodeUse, ...]:
    """The document's code uses of one attribute (``currencyID``), in document order; sorted
    by attribute once per document while ``run_rules`` checks it."""
    if getattr(_RUN, "doc", None) is doc:
        by: dict[str, list[CodeUse]] | None = _RUN.uses
        if by is None:
            by = _RUN.uses = {}
            for use in doc.code_uses:
                by.setdefault(use.attribute, []).append(use)
        return by.get(attribute, ())
    return [use for use in doc.code_uses if use.attribute == attribute]


def _on_the_way(doc: Invoice, steps: _Steps, frontiers: dict[_Steps, _Frontier] | None) -> _Frontier:  # fmt: skip
    """The values (and their locations) that the last of ``steps`` is taken from, absent
    groups left out; ``frontiers`` keeps (and offers) them by the steps that lead to them."""
    frontier: _Frontier = [((), doc)]
    start, last = 0, len(steps) - 1
    if frontiers is not None:
        for k in range(last, 0, -1):
            hit = frontiers.get(steps[:k])
            if hit is not None:
                frontier, start = hit, k
                break
    for i in range(start, last):
        name, many = steps[i]
        following: _Frontier = []
        append = following.append
        for loc, here in frontier:
            value = getattr(here, name)
            if many:
                for n, item in enumerate(value, start=1):
                    append(((*loc, name, n), item))
            elif value is not None:
                append(((*loc, name), value))
        frontier = following
        if frontiers is not None:
            frontiers[steps[: i + 1]] = frontier
    return frontier


def _walk(doc: Invoice, path: str, frontiers: dict[_Steps, _Frontier] | None) -> list[tuple[Location, Any]]:  # fmt: skip
    steps = _steps(path)
    name, many = steps[-1]
    found: list[tuple[Location, Any]] = []
    add = found.append
    for loc, here in _on_the_way(doc, steps, frontiers):  # the last step, with locations
        value = getattr(here, name)
        if many:
            for n, item in enumerate(value, start=1):
                add((Location((*loc, name, n)), item))
        else:
            add((Location((*loc, name)), value))
    return found


def select(doc: Invoice, path: str, test: Callable[[Any], bool]) -> Iterator[tuple[Location, Any]]:  # fmt: skip
    """What ``walk`` gives for the values that pass ``test``, without making a location for
    every value that does not (most values on most documents are fine)."""
    steps = _steps(path)
    name, many = steps[-1]
    frontiers = _RUN.frontiers if getattr(_RUN, "doc", None) is doc else None
    for loc, here in _on_the_way(doc, steps, frontiers):
        value = getattr(here, name)
        if many:
            for n, item in enumerate(value, start=1):
                if test(item):
                    yield Location((*loc, name, n)), item
        elif test(value):
            yield Location((*loc, name)), value


def missing_at(doc: Invoice, path: str) -> Iterator[Location]:
    """Where the value at ``path`` is ``missing``: not where a value was written but could not
    be read (``Invoice.unreadable``): the Schematron sees text there, and the reader's
    ``PROCURE-PARSE-01`` finding already says what is wrong with it."""
    unreadable = doc.unreadable
    for where, _ in select(doc, path, missing):
        if not unreadable or str(where) not in unreadable:
            yield where


def lines(doc: Invoice) -> Iterator[tuple[Location, InvoiceLine]]:
    """Each invoice line with its location prefix ``lines[n]``."""
    yield from walk(doc, "lines[*]")


# -- what the syntax wrote -----------------------------------------------------------------

_BT110_PATHS = (
    re.compile(r"/cac:TaxTotal(\[\d+\])?/cbc:TaxAmount$"),  # UBL
    re.compile(
        r"/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount(\[\d+\])?$"
    ),  # CII
)


def tax_total_currencies(doc: Invoice) -> list[str]:
    """The ``currencyID`` of every invoice total VAT amount the document wrote (BT-110, and
    BT-111 in the VAT accounting currency), in document order, from the recorded code uses.

    The canonical totals keep one BT-110 and one BT-111; BR-CO-15 also asks that the invoice
    currency occurs exactly once among these amounts, which only the written attributes show."""
    return [
        use.value.strip()
        for use in code_uses_of(doc, "currencyID")
        # both paths name a TaxTotal: a cheap test before the patterns
        if "TaxTotal" in use.location and any(p.search(use.location) for p in _BT110_PATHS)
    ]


def without_reason(doc: Invoice, path: str) -> Iterator[Location]:
    """Where an allowance or charge at ``path`` has neither reason nor reason code."""
    for where, ac in walk(doc, path):
        if ac.reason is None and ac.reason_code is None:
            yield where
