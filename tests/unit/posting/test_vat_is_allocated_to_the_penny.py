"""VAT per GL line sums exactly to the invoice's BT-110; net amounts to BT-109."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from procure.domain.distribution import DistributionLine
from procure.domain.posting import VatGroup, allocate, allocate_posting


def dl(net: str, category: str = "S", rate: str = "20", n: int = 1) -> DistributionLine:
    return DistributionLine(
        invoice_line_id=str(n),
        po_number="PO-2026-000001",
        po_line_no=n,
        cost_centre="CC-FAC",
        gl_code="4010",
        vat_code="S",
        vat_category=category,
        vat_rate=Decimal(rate),
        net_amount=Decimal(net),
        description="paper",
    )


def test_three_equal_lines_share_a_penny_remainder_with_the_first() -> None:
    assert allocate(Decimal("0.10"), [Decimal(1)] * 3) == [
        Decimal("0.04"),
        Decimal("0.03"),
        Decimal("0.03"),
    ]


def test_each_vat_group_goes_to_its_own_lines() -> None:
    lines = [dl("100.00", n=1), dl("50.00", "Z", "0", n=2), dl("33.33", n=3)]
    posted = allocate_posting(
        lines,
        [VatGroup("S", Decimal("20"), Decimal("26.67")), VatGroup("Z", Decimal(0), Decimal(0))],
        net_total=Decimal("183.33"),
        vat_total=Decimal("26.67"),
    )
    assert [p.vat_amount for p in posted] == [Decimal("20.00"), Decimal("0.00"), Decimal("6.67")]
    assert [p.net_amount for p in posted] == [Decimal("100.00"), Decimal("50.00"), Decimal("33.33")]


def test_a_document_allowance_is_spread_over_the_net_amounts() -> None:
    posted = allocate_posting(
        [dl("60.00", n=1), dl("40.00", n=2)],
        [VatGroup("S", Decimal("20"), Decimal("18.00"))],
        net_total=Decimal("90.00"),
        vat_total=Decimal("18.00"),
    )
    assert [p.net_amount for p in posted] == [Decimal("54.00"), Decimal("36.00")]
    assert sum(p.vat_amount for p in posted) == Decimal("18.00")


def test_tax_of_a_group_without_lines_still_reaches_bt110() -> None:
    posted = allocate_posting(
        [dl("10.00", n=1), dl("30.00", n=2)],
        [VatGroup("S", Decimal("5"), Decimal("2.00"))],
        net_total=Decimal("40.00"),
        vat_total=Decimal("2.00"),
    )
    assert [p.vat_amount for p in posted] == [Decimal("0.50"), Decimal("1.50")]


cents = st.integers(min_value=-10_000_000, max_value=10_000_000).map(lambda c: Decimal(c) / 100)


@given(
    total=cents,
    weights=st.lists(
        st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) / 100),
        min_size=1,
        max_size=30,
    ),
)
def test_allocation_sums_exactly_and_no_share_is_a_penny_off(
    total: Decimal, weights: list[Decimal]
) -> None:
    parts = allocate(total, weights)
    assert sum(parts, Decimal(0)) == total
    whole = sum(weights) or Decimal(len(weights))
    for part, w in zip(parts, weights, strict=True):
        exact = total * (w if sum(weights) else Decimal(1)) / whole
        assert abs(part - exact) < Decimal("0.01")
