"""The demo's matching chapter: every received invoice is matched by the workers, and finance
works the exceptions.

Outcomes shown: a clean 3-way match, a price within tolerance, a price beyond it (released by
finance, so large that it goes back to the PO's approver, who approves), a partial delivery
billed in full (finance waits; the rest arrives and it is matched again), a suspected
duplicate, a credit note, and a changed bank account (rejected: the supplier is told).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from entrypoints.demo_invoices import invoice_for_order
from procure.domain.approval import Decision
from procure.domain.invoice_match import Resolution
from procure.einvoice.ubl_writer import render_ubl
from procure.services import approvals, matching, matching_views, orders, queries
from procure.services.admin import reference_data
from procure.services.intake import Received, ingest_many

if TYPE_CHECKING:
    from entrypoints.demo import Story

FINANCE = "n.shah"


def _order(story: Story, key: str) -> dict[str, Any]:
    number = story.status(key)["purchase_order"]["number"]
    return queries.order_view(story.app.ctx, number)


def run_matching(story: Story) -> None:
    """After intake: more deliveries and invoices, then finance resolves what is held."""
    s, app = story, story.app
    ctx, today = app.ctx, story.clock().date()
    ref = reference_data(ctx)
    app.drain()  # the invoices intake accepted are matched first
    orders.record_receipt(ctx, _order(s, "fuel1")["number"], [(1, "400")], by="j.baker")
    orders.record_receipt(ctx, _order(s, "fuel2")["number"], [(1, "400")], by="j.baker")
    mower = _order(s, "mower")
    orders.record_receipt(ctx, mower["number"], [(1, "2")], by="r.green", note="2 of 4 sets")
    app.drain()

    def doc(key: str, number: str, **changes: Any) -> bytes:
        return render_ubl(
            invoice_for_order(_order(s, key), ref, number=number, issued=today, **changes)
        )

    sent = [
        ("fuel invoice, corrected, 1.46/litre (+0.7%)", "fuel1", "MF-22871",
         doc("fuel1", "MF-22871", prices={1: Decimal("1.46")})),
        ("second fuel invoice at 1.70/litre (+17%)", "fuel2", "MF-22904",
         doc("fuel2", "MF-22904", prices={1: Decimal("1.70")})),
        ("mower kits: 4 invoiced, 2 delivered", "mower", "GW-5120", doc("mower", "GW-5120")),
        ("stationery billed again under a new number", "stationery", "COS-48213A",
         doc("stationery", "COS-48213A")),
        ("roof invoice asking payment to a new bank account", "roof", "ABR-0093",
         doc("roof", "ABR-0093", account="GB33BUKB20201555555555")),
    ]  # fmt: skip
    results = ingest_many(ctx, [Received(data, f"{n}.xml", "demo") for _, _, n, data in sent])
    app.drain()
    earlier = [(what, r) for what, r in story.invoices if r.status == "accepted"]
    story.matched = [(what, r.id) for what, r in earlier] + [
        (what, r.id) for (what, *_), r in zip(sent, results, strict=True)
    ]
    before = {what: _view(story, what) for what, _ in story.matched}
    story.held = {
        what: sorted({r["code"] for r in v["decision"]["reasons"]})
        for what, v in before.items()
        if v["state"] == "held"
    }
    _resolve(story, results)
    _check(story, before)


def _view(story: Story, what: str) -> dict[str, Any]:
    invoice_id = dict(story.matched)[what]
    return matching_views.match_view(story.app.ctx, invoice_id)


def _exception_of(story: Story, invoice_id: str) -> str:
    [x] = [
        e for e in matching_views.exception_queue(story.app.ctx) if e["invoice_id"] == invoice_id
    ]
    return str(x["id"])


def _resolve(story: Story, results: list[Any]) -> None:
    app, ctx = story.app, story.app.ctx
    fuel2, mower, duplicate, roof = (r.id for r in results[1:])
    matching.resolve_exception(
        ctx, _exception_of(story, fuel2), by=FINANCE, resolution=Resolution.RELEASE,
        reason="supplier's new price list, agreed by fleet",
    )  # fmt: skip
    approver = matching_views.match_view(ctx, fuel2)
    task = next(
        (x for x in queries.inbox(ctx, "l.evans") if x["role"] == matching.REAPPROVAL_ROLE), None
    )
    if task is not None and approver["state"] == "awaiting_reapproval":
        approvals.decide(ctx, task["task_id"], by="l.evans", decision=Decision.APPROVE)
    matching.resolve_exception(
        ctx, _exception_of(story, mower), by=FINANCE, resolution=Resolution.WAIT,
        reason="the other two sets are due next week",
    )  # fmt: skip
    orders.record_receipt(
        ctx, _order(story, "mower")["number"], [(1, "2")], by="r.green", note="balance"
    )
    matching.resolve_exception(
        ctx, _exception_of(story, duplicate), by=FINANCE, resolution=Resolution.REJECT,
        reason="already paid as COS-48213",
    )  # fmt: skip
    matching.resolve_exception(
        ctx, _exception_of(story, roof), by=FINANCE, resolution=Resolution.REJECT,
        reason="bank change not confirmed by phone with the supplier's known contact",
    )  # fmt: skip
    app.drain()


def _check(story: Story, before: dict[str, dict[str, Any]]) -> None:
    s = story
    after = {what: _view(s, what) for what, _ in s.matched}

    def outcome(what: str) -> str:
        return str(before[what]["decision"]["outcome"])

    def reasons(what: str) -> set[str]:
        return {r["code"] for r in before[what]["decision"]["reasons"]}

    s.check(
        "the stationery invoice is a clean 3-way match",
        outcome("stationery invoice (UBL)") == "matched"
        and after["stationery invoice (UBL)"]["state"] == "matched",
    )
    fuel1 = "fuel invoice, corrected, 1.46/litre (+0.7%)"
    s.check(
        "a price within tolerance is matched without a person",
        outcome(fuel1) == "matched_within_tolerance" and after[fuel1]["how"] == "automatic",
    )
    fuel2 = "second fuel invoice at 1.70/litre (+17%)"
    s.check(
        "a price beyond tolerance is held, released, re-approved by the PO's approver",
        "price_over_tolerance" in reasons(fuel2)
        and after[fuel2]["state"] == "matched"
        and after[fuel2]["how"] == "released",
    )
    mower = "mower kits: 4 invoiced, 2 delivered"
    s.check(
        "a partial delivery billed in full waits, then matches when the rest arrives",
        "quantity_over_received" in reasons(mower) and after[mower]["state"] == "matched",
    )
    dup = "stationery billed again under a new number"
    s.check(
        "a suspected duplicate is held and rejected",
        "duplicate_invoice" in reasons(dup) and after[dup]["state"] == "rejected",
    )
    credit = "stationery credit note (UBL)"
    positions = matching_views.order_positions(s.app.ctx, _order(s, "stationery")["number"])
    s.check(
        "the credit note is matched and reduces the billed quantity to 9",
        after[credit]["state"] == "matched" and Decimal(positions[0]["billed"]) == 9,
    )
    roof = "roof invoice asking payment to a new bank account"
    s.check(
        "a changed bank account is held and rejected",
        "bank_details_changed" in reasons(roof) and after[roof]["state"] == "rejected",
    )


def summary_lines(story: Story) -> list[str]:
    if not story.matched:
        return []
    out = ["", f"Invoice matching: {len(story.matched)} invoice(s) and credit note(s)"]
    for what, _ in story.matched:
        v = _view(story, what)
        first = v["history"][0]
        how = f" ({v['how']})" if v["how"] else ""
        held = story.held.get(what)
        why = f"  held for {', '.join(held)}" if held else ""
        out.append(f"  {v['state']:<9}{how:<12} {first['outcome']:<25} {what}{why}")
    resolved = matching_views.exception_queue(story.app.ctx, state="resolved")
    out.append(f"Exceptions resolved by finance: {len(resolved)}")
    for x in resolved:
        out.append(
            f"  {x['invoice_number']}: {x['resolution']} by {x['resolved_by']}"
            f" ({', '.join(x['reasons'])}): {x['resolution_reason']}"
        )
    still = matching_views.exception_queue(story.app.ctx)
    out.append(f"Exceptions still open: {len(still)}")
    out.extend(f"  {x['invoice_number']} [{', '.join(x['reasons'])}]" for x in still)
    return out
