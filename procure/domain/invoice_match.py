"""Where a supplier invoice stands in matching: one state dimension, one transition table.

Imports: the standard library and ``procure.domain`` only. Intake's ``status`` (accepted,
rejected, duplicate) is a separate dimension; this one starts once an accepted invoice is first
matched.
"""

from __future__ import annotations

from enum import StrEnum

from procure.domain.workflow import next_state


class MatchState(StrEnum):
    UNMATCHED = "unmatched"
    MATCHED = "matched"
    HELD = "held"
    WAITING = "waiting"
    AWAITING_REAPPROVAL = "awaiting_reapproval"
    REJECTED = "rejected"


class Resolution(StrEnum):
    """What a person does with a held invoice."""

    RELEASE = "release"
    REJECT = "reject"
    WAIT = "wait"


M = MatchState
MATCH_TRANSITIONS: dict[tuple[MatchState, str], MatchState] = {
    (M.UNMATCHED, "match"): M.MATCHED,
    (M.UNMATCHED, "hold"): M.HELD,
    (M.UNMATCHED, "reject"): M.REJECTED,
    (M.HELD, "release"): M.MATCHED,
    (M.HELD, "send_for_reapproval"): M.AWAITING_REAPPROVAL,
    (M.HELD, "reject"): M.REJECTED,
    (M.HELD, "wait"): M.WAITING,
    (M.WAITING, "match"): M.MATCHED,
    (M.WAITING, "keep_waiting"): M.WAITING,
    (M.WAITING, "hold"): M.HELD,
    (M.WAITING, "reject"): M.REJECTED,
    (M.AWAITING_REAPPROVAL, "release"): M.MATCHED,
    (M.AWAITING_REAPPROVAL, "hold"): M.HELD,
    (M.MATCHED, "hold"): M.HELD,
}

RECEIPT_CODES = frozenset({"not_yet_received", "quantity_over_received", "invoice_before_receipt"})
"""Reasons that a goods receipt can put right: an invoice waiting for its receipt stays waiting
while these are all that is wrong."""


def move(current: MatchState, action: str, invoice: str) -> MatchState:
    return next_state(MATCH_TRANSITIONS, current, action, f"invoice {invoice}")
