"""Posting a matched invoice to finance: its state, and how its VAT is spread over GL lines.

Imports: the standard library and ``procure.domain.distribution`` only.

State (one dimension of its own, beside match state): ``pending`` (written in the transaction
that matched the invoice, with its outbox row) → ``published`` (RabbitMQ confirmed it) →
``posted`` (finance acknowledged it with a document number) | ``rejected`` (finance refused it
with a reason). An acknowledgement can overtake the relay's own "published" update, so
``pending`` may go straight to ``posted`` or ``rejected``; a settled posting never changes again.

VAT allocation (documented in README "Posting to finance"): the invoice's VAT breakdown (BG-23)
gives the tax of each (category, rate) group. Each group's tax amount (BT-117) is spread over
the distribution lines of that group in proportion to their net amounts, in pennies, by the
largest-remainder method: every line gets the rounded-down share, and the pennies left over go
to the lines with the largest remainders (ties: the earlier line). So each group's lines sum to
exactly its BT-117 and all lines to exactly BT-110, with no line more than a penny from its
exact share. Tax of a group that no line belongs to is spread over all lines the same way.
Document-level allowances and charges (BT-109 minus BT-106) are spread over the lines' net amounts
by the same method, so that the posted net amounts sum to BT-109.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from procure.domain.distribution import DistributionLine

PENNY = Decimal("0.01")

PENDING = "pending"
PUBLISHED = "published"
POSTED = "posted"
REJECTED = "rejected"
SETTLED = frozenset({POSTED, REJECTED})

_TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({PUBLISHED, POSTED, REJECTED}),
    PUBLISHED: frozenset({POSTED, REJECTED, PENDING}),  # PENDING: the sweeper sends it again
    POSTED: frozenset(),
    REJECTED: frozenset(),
}


def can_move(state: str, to: str) -> bool:
    """Whether a posting in ``state`` may move to ``to`` (a repeat of a settled state is not)."""
    return to in _TRANSITIONS.get(state, frozenset())


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (pennies) in proportion to ``weights``: the parts sum to ``total`` exactly.

    Largest remainder on absolute values; negative totals are split like positive ones and the
    sign put back. With all weights zero the split is equal.
    """
    if not weights:
        return []
    sign = -1 if total < 0 else 1
    cents = int((abs(total) / PENNY).to_integral_value())
    w = [abs(x) for x in weights]
    if sum(w) == 0:
        w = [Decimal(1)] * len(weights)
    whole = sum(w)
    exact = [Decimal(cents) * x / whole for x in w]
    floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    left = cents - sum(floors)
    by_remainder = sorted(range(len(w)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [(Decimal(sign * c) * PENNY).quantize(PENNY) for c in floors]


@dataclass(frozen=True)
class VatGroup:
    """One row of the invoice's VAT breakdown (BG-23)."""

    category: str
    rate: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class PostedLine:
    """A distribution line with its share of document allowances/charges and of the VAT."""

    line: DistributionLine
    net_amount: Decimal
    vat_amount: Decimal


def _group_key(category: str, rate: Decimal) -> tuple[str, Decimal]:
    return category.upper(), rate.quantize(PENNY)


def allocate_posting(
    lines: Sequence[DistributionLine],
    groups: Sequence[VatGroup],
    *,
    net_total: Decimal,
    vat_total: Decimal,
) -> list[PostedLine]:
    """Net and VAT per distribution line, summing exactly to ``net_total`` (BT-109) and
    ``vat_total`` (BT-110)."""
    if not lines:
        return []
    nets = [ln.net_amount.quantize(PENNY) for ln in lines]
    adjustment = net_total.quantize(PENNY) - sum(nets, Decimal("0.00"))
    if adjustment:
        nets = [n + a for n, a in zip(nets, allocate(adjustment, nets), strict=True)]
    vats = [Decimal("0.00")] * len(lines)
    keys = [_group_key(ln.vat_category, ln.vat_rate) for ln in lines]
    allocated = Decimal("0.00")
    for g in groups:
        members = [i for i, k in enumerate(keys) if k == _group_key(g.category, g.rate)]
        if not members:
            continue
        share = allocate(g.tax_amount.quantize(PENNY), [nets[i] for i in members])
        for i, amount in zip(members, share, strict=True):
            vats[i] += amount
        allocated += g.tax_amount.quantize(PENNY)
    rest = vat_total.quantize(PENNY) - allocated
    if rest:  # tax of groups no line belongs to (or a breakdown not adding up to BT-110)
        vats = [v + a for v, a in zip(vats, allocate(rest, nets), strict=True)]
    return [PostedLine(ln, n, v) for ln, n, v in zip(lines, nets, vats, strict=True)]
