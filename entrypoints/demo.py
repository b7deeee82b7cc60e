"""``procure demo``: the whole pipeline on the embedded default, with a sample council.

Requisitioners submit a realistic mix; scripted approvers act on their task inboxes; the
in-process workers route, advance and issue purchase orders; stores record receipts; an
overdue task escalates after three UK working days (the demo's clock moves on); and a summary
shows what happened. Exit status 0 only if every scripted outcome happened.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.finance.settings import FinanceSettings
from procure.domain.approval import Decision
from procure.domain.requisition import RequisitionDraft, RequisitionLine
from procure.errors import NotAllowed
from procure.reference.council_file import load_council
from procure.services import approvals, orders, queries, requisitions
from procure.services.admin import load_reference_data
from procure.settings import Settings
from workers.bootstrap import App, bootstrap


@dataclass
class DemoClock:
    """Real time, plus however many days the demo has skipped ahead."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Story:
    app: App
    clock: DemoClock
    numbers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    invoices: list[tuple[str, Any]] = field(default_factory=list)
    postings: list[dict[str, Any]] = field(default_factory=list)
    trial_balance: Any = None
    matched: list[tuple[str, str]] = field(default_factory=list)
    held: dict[str, list[str]] = field(default_factory=dict)

    def submit(
        self,
        key: str,
        requester: str,
        cost_centre: str,
        supplier: str,
        lines: list[tuple[str, str, str, str, str, str, str]],
        *,
        quotes: int = 0,
        why: str = "Needed for council services",
    ) -> str:
        need_by = (self.clock() + timedelta(days=30)).date()
        draft = RequisitionDraft(
            requester_id=requester,
            cost_centre=cost_centre,
            supplier_id=supplier,
            need_by=need_by,
            justification=why,
            quotes_attached=quotes,
            lines=tuple(
                RequisitionLine(i, d, Decimal(q), u, Decimal(p), v, g, c)
                for i, (d, q, u, p, v, g, c) in enumerate(lines, start=1)
            ),
        )
        req = requisitions.submit(self.app.ctx, draft)
        self.numbers[key] = req.number
        return req.number

    def task_of(self, person: str, key: str) -> dict[str, Any] | None:
        number = self.numbers[key]
        return next(
            (t for t in queries.inbox(self.app.ctx, person) if t["requisition"] == number), None
        )

    def act(self, person: str, key: str, decision: Decision, reason: str | None = None) -> None:
        task = self.task_of(person, key)
        if task is None:
            self.check(f"{person} has a task for {self.numbers[key]}", False)
            return
        approvals.decide(
            self.app.ctx, task["task_id"], by=person, decision=decision, comment=reason
        )
        self.app.drain()

    def status(self, key: str) -> dict[str, Any]:
        return queries.requisition_status(self.app.ctx, self.numbers[key])

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, ok))


STATIONERY = (
    "A4 copier paper, 80gsm (box of 5 reams)",
    "10",
    "XBX",
    "21.50",
    "S",
    "4010",
    "STATIONERY",
)


def run_story(story: Story) -> None:
    s, app = story, story.app
    # 1. Small stationery order: the budget holder approves; two deliveries.
    s.submit("stationery", "s.jones", "CC-FAC", "SUP-0002", [STATIONERY])
    # 2. ICT purchase: budget holder, head of service (over £1,000) and the ICT manager.
    s.submit(
        "ict",
        "s.jones",
        "CC-FAC",
        "SUP-0001",
        [
            ("Laptop, 14 inch, 16 GB, 3-year warranty", "2", "C62", "1089.00", "S", "4200", "ICT"),
            ("USB-C docking station", "2", "C62", "149.99", "S", "4200", "ICT"),
        ],
        why="Replacement laptops for the reception team",
    )
    # 3. Above £50,000: director and procurement, with three quotes.
    s.submit(
        "roof",
        "o.reid",
        "CC-HSG",
        "SUP-0007",
        [
            (
                "Roof replacement, Mill Lane temporary accommodation",
                "1",
                "LS",
                "61800.00",
                "S",
                "4500",
                "FACILITIES",
            ),
        ],
        quotes=3,
        why="Roof failed its condition survey; three quotes attached",
    )
    # 4. Self-approval: Richard is budget holder of Grounds and raises his own requisition.
    s.submit(
        "mower",
        "r.green",
        "CC-GRD",
        "SUP-0003",
        [
            ("Mower blades and servicing kit", "4", "SET", "185.00", "S", "4300", "GROUNDS"),
        ],
    )
    # 5. Escalation: Kate does not act on Adam's cleaning order for days.
    s.submit(
        "cleaning",
        "a.price",
        "CC-LEI",
        "SUP-0005",
        [
            ("Deep clean of changing rooms", "3", "E48", "150.00", "S", "4600", "CLEANING"),
        ],
    )
    # 6. Rejected: consultancy without a business case.
    s.submit(
        "consult",
        "a.price",
        "CC-LEI",
        "SUP-0004",
        [
            ("Leisure strategy review, 5 days", "5", "DAY", "850.00", "S", "4410", "PROFESSIONAL"),
        ],
        why="Strategy review",
    )
    # 7. Returned for information, amended, re-routed, approved.
    s.submit(
        "chairs",
        "o.reid",
        "CC-HSG",
        "SUP-0002",
        [
            ("Office chair, ergonomic", "4", "C62", "165.00", "S", "4100", "STATIONERY"),
        ],
    )
    # 8. Anti-splitting: two fuel orders by one requester to one supplier, days apart.
    s.submit(
        "fuel1",
        "j.baker",
        "CC-FLT",
        "SUP-0008",
        [
            ("Diesel, bulk delivery", "400", "LTR", "1.45", "S", "4700", "FLEET"),
        ],
    )
    app.drain()
    s.submit(
        "fuel2",
        "j.baker",
        "CC-FLT",
        "SUP-0008",
        [
            ("Diesel, bulk delivery", "400", "LTR", "1.45", "S", "4700", "FLEET"),
        ],
    )
    app.drain()

    route = s.status("ict")["route"]
    s.check(
        "ICT purchase routes to budget holder, head of service and ICT manager",
        [x["approver"] for x in route["steps"]] == ["e.walsh", "t.morgan", "d.patel"],
    )
    s.check(
        "the £61,800 roof needs a director and procurement",
        [x["role"] for x in s.status("roof")["route"]["steps"]]
        == ["budget_holder", "head_of_service", "director", "procurement"],
    )
    mower = s.status("mower")
    s.check(
        "Richard's own requisition is routed past him to his line manager",
        mower["route"]["steps"][0]["approver"] == "l.evans",
    )
    fuel2 = s.status("fuel2")["route"]
    s.check(
        "the second fuel order is banded on both (anti-splitting)",
        fuel2["aggregated_with"] == [s.numbers["fuel1"]],
    )

    # Richard tries to approve his own requisition: refused on the server.
    task = s.task_of("l.evans", "mower")
    try:
        approvals.decide(
            app.ctx, task["task_id"] if task else "", by="r.green", decision=Decision.APPROVE
        )
        s.check("self-approval is refused", False)
    except NotAllowed as refused:
        s.check("self-approval is refused", refused.code == "self_approval")
        s.notes.append(f"refused: r.green approving {s.numbers['mower']}: {refused.message}")

    s.act("e.walsh", "stationery", Decision.APPROVE)
    for who in ["e.walsh", "t.morgan", "d.patel"]:
        s.act(who, "ict", Decision.APPROVE)
    for who in ["g.murray", "b.cole", "j.osei", "a.khan"]:
        s.act(who, "roof", Decision.APPROVE, "Three quotes seen; lowest compliant bid")
    s.act("l.evans", "mower", Decision.APPROVE)
    s.act("k.hughes", "consult", Decision.REJECT, "No business case: use the framework")
    s.act("g.murray", "chairs", Decision.RETURN, "Which staff are these for? DSE assessment?")
    chairs = s.status("chairs")
    requisitions.amend(
        app.ctx,
        s.numbers["chairs"],
        RequisitionDraft(
            requester_id="o.reid",
            cost_centre="CC-HSG",
            supplier_id="SUP-0002",
            need_by=datetime.fromisoformat(chairs["need_by"]).date(),
            justification="Four chairs for the housing team after DSE assessments (attached)",
            lines=(
                RequisitionLine(
                    1,
                    "Office chair, ergonomic, DSE compliant",
                    Decimal(4),
                    "C62",
                    Decimal("189.00"),
                    "S",
                    "4100",
                    "STATIONERY",
                ),
            ),
        ),
        by="o.reid",
    )
    app.drain()
    s.act("g.murray", "chairs", Decision.APPROVE)
    for who in ["r.green"]:
        s.act(who, "fuel1", Decision.APPROVE)
    for who in ["r.green", "l.evans"]:
        s.act(who, "fuel2", Decision.APPROVE)

    # Nobody acts on the cleaning order: four working days later the sweep escalates it.
    story.clock.offset += timedelta(days=6)
    escalated = approvals.escalate_overdue(app.ctx)
    s.check(
        "the overdue cleaning task escalates to the line manager",
        bool(escalated) and s.task_of("s.ahmed", "cleaning") is not None,
    )
    s.act("s.ahmed", "cleaning", Decision.APPROVE)

    # Stores record deliveries: stationery arrives in two parts; one laptop is late.
    po = s.status("stationery")["purchase_order"]["number"]
    orders.record_receipt(app.ctx, po, [(1, "6")], by="s.jones", note="part delivery")
    orders.record_receipt(app.ctx, po, [(1, "4")], by="s.jones", note="balance")
    po_ict = s.status("ict")["purchase_order"]["number"]
    orders.record_receipt(app.ctx, po_ict, [(1, "1"), (2, "2")], by="s.jones")
    po_chairs = s.status("chairs")["purchase_order"]["number"]
    orders.record_receipt(app.ctx, po_chairs, [(1, "4")], by="o.reid")
    s.check(
        "stationery fully received in two deliveries",
        queries.order_view(app.ctx, po)["receipt_state"] == "fully_received",
    )
    s.check(
        "ICT order partially received",
        queries.order_view(app.ctx, po_ict)["receipt_state"] == "partially_received",
    )

    # Suppliers invoice: UBL, CII, Excel, a credit note, a wrong total, and a resend.
    from entrypoints.demo_invoices import send_invoices

    story.invoices = send_invoices(app, s.numbers, story.clock().date())
    status = [r.status for _, r in story.invoices]
    s.check(
        "invoices in UBL, CII and Excel and a credit note are accepted",
        status[:4] == ["accepted"] * 4,
    )
    s.check(
        "the invoice whose total does not add up is quarantined with its rule",
        status[4] == "rejected"
        and any(f["rule"] == "BR-CO-16" for f in story.invoices[4][1].findings),
    )
    s.check("the invoice sent twice is recognised as a duplicate", status[5] == "duplicate")
    # Matching: the workers match each accepted invoice; finance works the exceptions.
    from entrypoints.demo_matching import run_matching

    run_matching(story)
    post_matched_invoices(story)


def post_matched_invoices(story: Story) -> None:
    """Matched invoices go to finance: each match queued its posting in the outbox in the same
    transaction; the outbox is drained in-process into finance's receiver and ledger."""
    from connectors.finance.ledger import trial_balance
    from procure.services import matching_views
    from procure.services.posting import posting_of

    app, s = story.app, story
    app.drain()
    matched = [
        i for _, i in story.matched if matching_views.match_view(app.ctx, i)["state"] == "matched"
    ]
    story.postings = [p for p in (posting_of(app.ctx, i) for i in matched) if p]
    s.check(
        "every matched invoice and credit note is posted to finance and acknowledged",
        len(story.postings) == len(matched) > 0
        and all(p["state"] == "posted" for p in story.postings),
    )
    rejected_or_held = [i for _, i in story.matched if i not in matched]
    s.check(
        "nothing held or rejected reaches finance",
        all(posting_of(app.ctx, i) is None for i in rejected_or_held),
    )
    story.trial_balance = trial_balance(app.in_process_finance().receiver.store)
    s.check(
        "finance's trial balance balances",
        story.trial_balance.balanced and story.trial_balance.journals == len(story.postings),
    )


def summary(story: Story) -> str:
    app = story.app
    views = {k: story.status(k) for k in story.numbers}
    outcome = Counter(
        "ordered" if v["order_state"] == "ordered" else v["approval_state"] for v in views.values()
    )
    out = ["", "procure demo: Wyvern Vale District Council (sample data, embedded default)", ""]
    out.append(f"Requisitions submitted: {len(views)}")
    for state, n in sorted(outcome.items()):
        out.append(f"  {state:<18} {n}")
    out.append("")
    out.append("Purchase orders issued:")
    for key, v in views.items():
        if v["purchase_order"]:
            po = queries.order_view(app.ctx, v["purchase_order"]["number"])
            out.append(
                f"  {po['number']}  {v['number']}  £{po['net_total']:>10}  "
                f"{po['supplier_name']:<38} {po['receipt_state']}  ({key})"
            )
    out.append("")
    out.append("Approval routes (why each approver is there):")
    for key in ["ict", "roof", "mower", "fuel2"]:
        v = views[key]
        steps = " → ".join(f"{x['approver']} ({x['role']})" for x in v["route"]["steps"])
        out.append(f"  {v['number']} £{v['net_total']} ({key}): {steps}")
        for n in v["route"]["notes"]:
            out.append(f"      note: {n}")
    escalations = [
        e for v in views.values() for e in v["timeline"] if e["event"] == "ApprovalTaskEscalated"
    ]
    out.append("")
    out.append(f"Tasks escalated: {len(escalations)}")
    for e in escalations:
        out.append(f"  {e['summary']}")
    refusals = [
        e for v in views.values() for e in v["timeline"] if e["event"] == "ApprovalDecisionRefused"
    ]
    out.append(f"Refused attempts: {len(refusals)}")
    for e in refusals:
        out.append(f"  {e['summary']}")
    out.append("")
    out.append(f"What Sarah sees for {views['ict']['number']} (procure requisition show):")
    for e in views["ict"]["timeline"]:
        out.append(f"  {e['at']}  {e['summary']}")
    out.append("")
    if story.invoices:
        out.append("")
        out.append(f"Supplier invoices received: {len(story.invoices)}")
        for what, r in story.invoices:
            line = f"  {r.status:<9} {what}: {r.filename}"
            if r.status == "rejected":
                fatal = [f for f in r.findings if f["severity"] == "fatal"]
                line += "".join(f"\n      [{f['rule']}] {f['message']}" for f in fatal[:3])
            if r.duplicate_of:
                line += f" (duplicate of {r.duplicate_of[:8]}…)"
            out.append(line)
    from entrypoints.demo_matching import summary_lines

    out.extend(summary_lines(story))
    if story.postings:
        out.append("")
        out.append(f"Posted to finance: {len(story.postings)} (outbox → receiver → ledger)")
        for p in story.postings:
            out.append(
                f"  {p['state']:<9} {p['finance_document_number'] or '-':<11} "
                f"{p['kind']:<12} {p['invoice_number']:<14} £{p['gross_total']:>10}"
            )
    if story.trial_balance is not None:
        out.append("")
        out.extend(f"  {ln}" for ln in story.trial_balance.render().splitlines())
        out.append("")
    failed = [w for w, ok in story.checks if not ok]
    out.append(f"Checks: {len(story.checks) - len(failed)} of {len(story.checks)} as expected")
    out.extend(f"  FAILED: {w}" for w in failed)
    return "\n".join(out)


def _procure_command() -> str:
    """How this user can call procure again: the venv's script, relative when it is nearby."""
    script = Path(sys.executable).parent / "procure"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script) if script.exists() else "procure"


def run_demo(database: str = "procure-demo.db") -> int:
    path = Path(database)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    finance_path = Path(f"{path.with_suffix('')}-finance.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{finance_path}{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{path}", broker_url="embedded")
    clock = DemoClock()
    app = bootstrap(
        settings,
        clock=clock,
        finance_settings=FinanceSettings(database_url=f"sqlite:///{finance_path}"),
    )
    try:
        load_reference_data(app.ctx, load_council(None), source="sample")
        story = Story(app, clock)
        run_story(story)
        print(summary(story))
        print(
            f"\nThe demo database is {path.resolve()}; try:\n"
            f"  PROCURE_DATABASE_URL=sqlite:///{path} {_procure_command()} requisition show "
            f"{story.numbers['ict']}"
        )
        return 0 if all(ok for _, ok in story.checks) else 1
    finally:
        app.close()
