"""The synthetic book of ``procure bench matching`` decides as its mix says (not timed here)."""

from __future__ import annotations

from benchmarks.matching import build_book, match_book
from procure.matching import default_match_policy


def test_the_bench_book_is_deterministic_and_has_every_outcome() -> None:
    book = build_book(300, seed=7)
    assert book.lines == 3000
    assert build_book(300, seed=7).invoices == book.invoices
    outcomes = match_book(book, default_match_policy())
    assert sum(outcomes.values()) == 300
    # 80% clean + found by item id / description / buyer reference + credit notes
    assert outcomes["matched"] >= 0.85 * 300
    assert outcomes["matched_within_tolerance"] > 0
    assert outcomes["exception"] > 0
