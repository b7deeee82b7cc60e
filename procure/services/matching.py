"""Matching services: match an accepted invoice, hold it as an exception, resolve exceptions.

Each public function is one transaction and safe to run twice: it locks the invoice's
``invoice_document`` row, re-reads its match state and does nothing when the work is done. The
candidate purchase orders are locked too, so two workers never bill one received quantity twice.
The engine (``procure.matching.decide``) decides; this module writes what it decided: the
decision (every version kept, with its reasons and figures), the match ledger rows (after
``check_ledger_write`` accepts them), and either ``InvoiceMatched`` (which posting consumes, in
the same transaction) or ``InvoiceHeld`` and an exception task for finance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from procure.domain import events as ev
from procure.domain.approval import ApprovalTask, Decision, TaskState
from procure.domain.events import Event
from procure.domain.invoice_match import RECEIPT_CODES, MatchState, Resolution, move
from procure.domain.reference import Role
from procure.errors import (
    FieldProblem,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from procure.matching import Decision as MatchDecision
from procure.matching import LedgerEntry, check_ledger_write, decide, reversal_of
from procure.services.context import InTransactionHandler, ServiceContext, UnitOfWork
from procure.services.matching_batch import BatchInputs, load_batch
from procure.services.matching_inputs import (
    MatchInputs,
    entry_from_row,
    ledger_of_invoice,
    live_entries,
    load_inputs,
)
from procure.store import repository as repo
from procure.store import tables as t

REAPPROVAL_ROLE = "invoice_variance"
"""The role of an approval task that sends a released variance back to the PO's approver."""
EXCEPTION_ROLE = "finance"
RESOLVERS = (Role.FINANCE, Role.PROCUREMENT, Role.ADMIN)
FINANCE_REJECTED = "finance_rejected"
VARIANCE_NOT_APPROVED = "variance_not_approved"
LEDGER_INVARIANT = "ledger_invariant"


@dataclass(frozen=True)
class MatchResult:
    invoice_id: str
    state: str
    version: int
    outcome: str | None
    reason_codes: tuple[str, ...]
    exception_id: str | None = None
    changed: bool = True


# -- matching ------------------------------------------------------------------------------------
def match_invoice(
    ctx: ServiceContext, invoice_id: str, *, trigger: str = "accepted"
) -> MatchResult:
    """Match an accepted invoice (``trigger`` ``accepted``), or re-match one that waits for its
    goods (``receipt``). Anything else already decided is left as it is."""
    with ctx.unit() as u:
        doc = _lock_document(u, invoice_id)
        state = u.session.get(t.InvoiceMatchRow, invoice_id)
        if doc.status != "accepted":
            return MatchResult(invoice_id, f"not matched ({doc.status})", 0, None, (), None, False)
        current = MatchState(state.state) if state else MatchState.UNMATCHED
        waiting_again = current is MatchState.WAITING and trigger == "receipt"
        if current is not MatchState.UNMATCHED and not waiting_again:
            return _unchanged(state)
        return _match(ctx, u, doc, state, trigger)


MATCH_BATCH = 200
"""Invoices decided in one transaction by ``match_invoices`` (what the dispatcher sends)."""


def match_invoices(
    ctx: ServiceContext, invoice_ids: Sequence[str], *, trigger: str = "accepted"
) -> list[MatchResult]:
    """Match a batch of invoices in one transaction, with the decisions ``match_invoice`` would
    give them one after the other in the order given (each sees the ledger rows and decisions of
    those before it). The invoice rows are locked in id order, then all their candidate purchase
    orders in id order, so two workers never bill the same received quantity twice nor deadlock.
    The inputs are read in a few set-based statements and the rows written in bulk.

    A batch that cannot be decided as a whole (an invoice missing, or one whose ledger rows the
    invariants refuse, or one that fails in any other way) is rolled back and matched one by one,
    each in its own transaction; the first error is raised after the others are matched."""
    ids = list(dict.fromkeys(invoice_ids))
    if not ids:
        return []
    try:
        return _match_batch(ctx, ids, trigger)
    except Exception:  # one bad invoice must not keep the other 199 unmatched
        pass
    results: list[MatchResult] = []
    failed: Exception | None = None
    for invoice_id in ids:
        try:
            results.append(match_invoice(ctx, invoice_id, trigger=trigger))
        except Exception as exc:  # raised below, after the others are matched
            failed = failed or exc
    if failed is not None:
        raise failed
    return results


def _match_batch(ctx: ServiceContext, ids: list[str], trigger: str) -> list[MatchResult]:
    with ctx.unit() as u:
        doc_t = t.InvoiceDocumentRow
        docs = {
            d.id: d
            for d in u.session.scalars(
                select(doc_t)
                .where(col(doc_t.id).in_(ids))
                .order_by(col(doc_t.id))
                .with_for_update()
            )
        }
        missing = [i for i in ids if i not in docs]
        if missing:
            raise NotFound(f"no received invoice {missing[0]}")
        m = t.InvoiceMatchRow
        states = {
            r.invoice_id: r for r in u.session.scalars(select(m).where(col(m.invoice_id).in_(ids)))
        }
        results: dict[str, MatchResult] = {}
        todo: list[t.InvoiceDocumentRow] = []
        for invoice_id in ids:
            doc, state = docs[invoice_id], states.get(invoice_id)
            if doc.status != "accepted":
                results[invoice_id] = MatchResult(
                    invoice_id, f"not matched ({doc.status})", 0, None, (), None, False
                )
                continue
            current = MatchState(state.state) if state else MatchState.UNMATCHED
            if current is not MatchState.UNMATCHED and not (
                current is MatchState.WAITING and trigger == "receipt"
            ):
                results[invoice_id] = _unchanged(state)
                continue
            todo.append(doc)
        if todo:
            batch = _Batch(load_batch(u.session, todo, ctx.reference(u.session), ctx.match_policy))
            for doc in todo:
                results[doc.id] = _match(ctx, u, doc, states.get(doc.id), trigger, batch)
            batch.write(u)
        return [results[i] for i in ids]


@dataclass
class _Batch:
    """A batch being decided: its inputs, and the rows to write in bulk at the end."""

    inputs: BatchInputs
    ledger_rows: list[dict[str, Any]] = field(default_factory=list)
    new_rows: dict[type[Any], list[dict[str, Any]]] = field(default_factory=dict)
    """Table → its new rows (decisions, match states, exceptions) as column dicts."""

    def write(self, u: UnitOfWork) -> None:
        """The batch's new rows, a bulk insert (COPY on PostgreSQL) per table; match states that
        existed (an invoice re-matched on a receipt) are updated by the session."""
        for table in (t.MatchDecisionRow, t.InvoiceMatchRow, t.MatchExceptionRow):
            repo.bulk_insert(u.session, table, self.new_rows.get(table, []))
        repo.bulk_insert(u.session, t.MatchLedgerRow, self.ledger_rows)
        u.session.flush()


def _unchanged(state: t.InvoiceMatchRow | None) -> MatchResult:
    assert state is not None
    return MatchResult(
        state.invoice_id, state.state, state.version, None, tuple(state.reason_codes), None, False
    )


def _lock_document(u: UnitOfWork, invoice_id: str) -> t.InvoiceDocumentRow:
    doc = t.InvoiceDocumentRow
    row = u.session.scalars(select(doc).where(col(doc.id) == invoice_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no received invoice {invoice_id}")
    return row


def _decide(
    ctx: ServiceContext, u: UnitOfWork, doc: t.InvoiceDocumentRow
) -> tuple[MatchInputs, MatchDecision]:
    inputs = load_inputs(u.session, doc, ctx.reference(u.session), ctx.match_policy)
    return inputs, _engine(ctx, inputs)


def _engine(ctx: ServiceContext, inputs: MatchInputs) -> MatchDecision:
    return decide(
        inputs.invoice,
        orders=inputs.orders,
        receipts=inputs.receipts,
        ledger=inputs.ledger,
        prior_invoices=inputs.prior_invoices,
        supplier=inputs.supplier,
        policy=ctx.match_policy,
    )


def _match(
    ctx: ServiceContext,
    u: UnitOfWork,
    doc: t.InvoiceDocumentRow,
    state: t.InvoiceMatchRow | None,
    trigger: str,
    batch: _Batch | None = None,
) -> MatchResult:
    """Decide and write one invoice; in a batch, from the batch's inputs, the ledger rows kept
    for one bulk write (and the batch told what the next invoice must see)."""
    now = ctx.clock()
    current = MatchState(state.state) if state else MatchState.UNMATCHED
    if batch is None:
        inputs, decision = _decide(ctx, u, doc)
    else:
        inputs = batch.inputs.inputs(doc)
        decision = _engine(ctx, inputs)
    version = _save_decision(u, doc.id, state, decision, trigger, now, None, batch)
    written: list[LedgerEntry] = []
    try:
        return _apply(ctx, u, doc, state, inputs, decision, version, now, current, written, batch)
    finally:
        if batch is not None:
            batch.inputs.decided_one(doc.id, written)


def _apply(
    ctx: ServiceContext,
    u: UnitOfWork,
    doc: t.InvoiceDocumentRow,
    state: t.InvoiceMatchRow | None,
    inputs: MatchInputs,
    decision: MatchDecision,
    version: int,
    now: datetime,
    current: MatchState,
    written: list[LedgerEntry],
    batch: _Batch | None,
) -> MatchResult:
    codes = decision.codes
    broken = _ledger_problems(inputs, decision) if decision.outcome != "exception" else []
    if broken:  # never expected: the engine and the invariants disagree, so a person looks
        new = move(current, "hold", doc.id)
        _set_state(u, doc, state, new, version, None, decision, now, [LEDGER_INVARIANT], batch)
        why = "the match ledger refused the rows: " + "; ".join(broken)
        exception_id = _open_exception(
            ctx, u, doc, version, [LEDGER_INVARIANT], why, now, batch=batch
        )
        return MatchResult(doc.id, new.value, version, decision.outcome, codes, exception_id)
    if decision.outcome != "exception":
        entries, rows = _ledger_rows(ctx, inputs, decision, version, now, None, checked=True)
        if batch is None:
            repo.bulk_insert(u.session, t.MatchLedgerRow, rows)
        else:
            batch.ledger_rows += rows
        written += entries
        new = move(current, "match", doc.id)
        _set_state(u, doc, state, new, version, "automatic", decision, now, None, batch)
        u.record(_matched_event(doc.id, version, "automatic", decision, now, None))
        return MatchResult(doc.id, new.value, version, decision.outcome, codes)
    if current is MatchState.WAITING and set(codes) <= RECEIPT_CODES:
        new = move(current, "keep_waiting", doc.id)
        _set_state(u, doc, state, new, version, None, decision, now, None, batch)
        u.record(_invoice_event(ev.INVOICE_WAITING_FOR_RECEIPT, doc, version, now, None, codes))
        return MatchResult(doc.id, new.value, version, decision.outcome, codes)
    if decision.action == "reject":
        new = move(current, "reject", doc.id)
        _set_state(u, doc, state, new, version, None, decision, now, None, batch)
        reason = "; ".join(r.message for r in decision.reasons if r.action == "reject")
        u.record(_rejected_event(doc, version, now, None, reason, codes))
        return MatchResult(doc.id, new.value, version, decision.outcome, codes)
    new = move(current, "hold", doc.id)
    _set_state(u, doc, state, new, version, None, decision, now, None, batch)
    exception_id = _open_exception(
        ctx, u, doc, version, list(codes), _summary(decision), now, batch=batch
    )
    return MatchResult(doc.id, new.value, version, decision.outcome, codes, exception_id)


def _summary(decision: MatchDecision) -> str:
    held = [r for r in decision.reasons if r.action != "accept"]
    return " ".join(r.message for r in held)[:1000] or decision.outcome


def _save_decision(
    u: UnitOfWork,
    invoice_id: str,
    state: t.InvoiceMatchRow | None,
    decision: MatchDecision,
    trigger: str,
    now: datetime,
    by: str | None,
    batch: _Batch | None = None,
) -> int:
    version = (state.version if state else 0) + 1
    row = {
        "invoice_id": invoice_id,
        "version": version,
        "outcome": decision.outcome,
        "action": decision.action,
        "trigger": trigger,
        "po_numbers": list(decision.po_numbers),
        "reason_codes": list(decision.codes),
        "detail": decision.as_data(),
        "decided_at": now,
        "decided_by": by,
    }
    _add(u, batch, t.MatchDecisionRow, row)
    return version


def _add(u: UnitOfWork, batch: _Batch | None, table: type[Any], row: dict[str, Any]) -> None:
    """A new row: into the session, or (in a batch) kept as a dict for the bulk write."""
    if batch is None:
        u.session.add(table(**row))
    else:
        batch.new_rows.setdefault(table, []).append(row)


def _set_state(
    u: UnitOfWork,
    doc: t.InvoiceDocumentRow,
    state: t.InvoiceMatchRow | None,
    new: MatchState,
    version: int,
    how: str | None,
    decision: MatchDecision | None,
    now: datetime,
    codes: list[str] | None = None,
    batch: _Batch | None = None,
) -> None:
    if state is None and batch is not None:  # a new row for the batch's bulk write
        picked = codes if codes is not None else list(decision.codes) if decision else []
        row = {
            "invoice_id": doc.id,
            "state": new.value,
            "version": version,
            "how": how,
            "supplier_id": doc.supplier_id,
            "po_numbers": list(decision.po_numbers) if decision is not None else [],
            "reason_codes": picked,
            "updated_at": now,
        }
        _add(u, batch, t.InvoiceMatchRow, row)
        return
    if state is None:
        state = t.InvoiceMatchRow(
            invoice_id=doc.id, state=new.value, version=version, updated_at=now
        )
        u.session.add(state)
    state.state = new.value
    state.version = version
    state.how = how
    state.supplier_id = doc.supplier_id
    if decision is not None:
        state.po_numbers = list(decision.po_numbers)
        state.reason_codes = list(decision.codes)
    if codes is not None:
        state.reason_codes = codes
    state.updated_at = now
    if batch is None:  # a batch writes its rows once, at its end
        u.session.flush()


def _ledger_problems(inputs: MatchInputs, decision: MatchDecision) -> list[str]:
    problems = check_ledger_write(
        inputs.ledger, decision.ledger_entries, orders=inputs.orders, receipts=inputs.receipts
    )
    return [p.message for p in problems]


def _write_ledger(
    ctx: ServiceContext,
    u: UnitOfWork,
    inputs: MatchInputs,
    decision: MatchDecision,
    version: int,
    now: datetime,
    by: str | None,
) -> None:
    """Add the decision's ledger rows, after the invariants accept them (nothing is written
    otherwise: the error names each broken invariant with its figures)."""
    _, rows = _ledger_rows(ctx, inputs, decision, version, now, by)
    repo.bulk_insert(u.session, t.MatchLedgerRow, rows)


def _ledger_rows(
    ctx: ServiceContext,
    inputs: MatchInputs,
    decision: MatchDecision,
    version: int,
    now: datetime,
    by: str | None,
    *,
    checked: bool = False,
) -> tuple[list[LedgerEntry], list[dict[str, Any]]]:
    """The decision's ledger entries (with new ids) and their rows, once the invariants accept
    them (``NotAllowed`` otherwise, naming each broken invariant with its figures). ``checked``:
    the caller has just run the same check on these entries (the new ids change nothing in it)."""
    new = [replace(e, id=ctx.new_id()) for e in decision.ledger_entries]
    problems = (
        ()
        if checked
        else check_ledger_write(inputs.ledger, new, orders=inputs.orders, receipts=inputs.receipts)
    )
    if problems:
        raise NotAllowed(
            f"invoice {inputs.invoice.number} cannot be matched as it stands: "
            + "; ".join(p.message for p in problems),
            code="ledger_invariant",
        )
    billed: dict[tuple[str, int], Decimal] = {}
    for e in inputs.ledger:
        key = (e.po_number, e.po_line_no)
        billed[key] = billed.get(key, Decimal(0)) + e.quantity
    rows = []
    for e in new:
        key = (e.po_number, e.po_line_no)
        before = billed.get(key, Decimal(0))
        billed[key] = before + e.quantity
        rows.append(
            _ledger_row(e, version, now, by, _draw(inputs.receipt_numbers.get(key, []), before, e))
        )
    return new, rows


def _draw(
    receipts: list[tuple[str, Decimal]], billed_before: Decimal, entry: LedgerEntry
) -> list[dict[str, Any]]:
    """The receipts a billed quantity draws on, first in first out."""
    if entry.quantity <= 0:
        return []
    out, start, end, cum = [], billed_before, billed_before + entry.quantity, Decimal(0)
    for number, qty in receipts:
        lo, hi = max(start, cum), min(end, cum + qty)
        if hi > lo:
            out.append({"receipt": number, "quantity": str(hi - lo)})
        cum += qty
    return out


def _ledger_row(
    e: LedgerEntry, version: int, now: datetime, by: str | None, receipts: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": e.id,
        "invoice_id": e.invoice_id,
        "invoice_line_id": e.invoice_line_id,
        "po_number": e.po_number,
        "po_line_no": e.po_line_no,
        "quantity": e.quantity,
        "amount": e.amount,
        "price_variance": e.price_variance,
        "receipts": receipts,
        "reverses": e.reverses,
        "decision_version": version,
        "recorded_at": now,
        "recorded_by": by,
    }


def _reverse_ledger(
    ctx: ServiceContext, u: UnitOfWork, invoice_id: str, version: int, now: datetime, by: str | None
) -> int:
    live = live_entries(entry_from_row(r) for r in ledger_of_invoice(u.session, invoice_id))
    rows = [_ledger_row(reversal_of(e, id=ctx.new_id()), version, now, by, []) for e in live]
    repo.bulk_insert(u.session, t.MatchLedgerRow, rows)
    return len(rows)


def _matched_event(
    invoice_id: str, version: int, how: str, decision: MatchDecision, now: datetime, by: str | None
) -> Event:
    return Event(
        name=ev.INVOICE_MATCHED,
        entity_type="invoice",
        entity_id=invoice_id,
        occurred_at=now,
        actor_id=by,
        after={"match_state": MatchState.MATCHED.value},
        data={
            "version": version,
            "how": how,
            "purchase_orders": list(decision.po_numbers),
            "distribution": [d.as_data() for d in decision.distribution],
        },
    )


def _invoice_event(
    name: str,
    doc: t.InvoiceDocumentRow,
    version: int,
    now: datetime,
    by: str | None,
    codes: tuple[str, ...] | list[str],
    **data: Any,
) -> Event:
    return Event(
        name=name,
        entity_type="invoice",
        entity_id=doc.id,
        occurred_at=now,
        actor_id=by,
        data={"version": version, "number": doc.number, "reasons": list(codes), **data},
    )


def _rejected_event(
    doc: t.InvoiceDocumentRow,
    version: int,
    now: datetime,
    by: str | None,
    reason: str,
    codes: tuple[str, ...] | list[str],
) -> Event:
    return _invoice_event(
        ev.INVOICE_REJECTED,
        doc,
        version,
        now,
        by,
        codes,
        reason=reason,
        supplier_id=doc.supplier_id,
    )


def _open_exception(
    ctx: ServiceContext,
    u: UnitOfWork,
    doc: t.InvoiceDocumentRow,
    version: int,
    codes: list[str],
    summary: str,
    now: datetime,
    *,
    batch: _Batch | None = None,
) -> str:
    row = t.MatchExceptionRow(
        id=ctx.new_id(),
        invoice_id=doc.id,
        decision_version=version,
        state="open",
        reason_codes=codes,
        summary=summary,
        role=EXCEPTION_ROLE,
        created_at=now,
    )
    if batch is None:
        u.session.add(row)
    else:
        batch.new_rows.setdefault(t.MatchExceptionRow, []).append(row.model_dump())
    u.record(
        _invoice_event(ev.INVOICE_HELD, doc, version, now, None, codes, exception_id=row.id),
        Event(
            name=ev.MATCH_EXCEPTION_OPENED,
            entity_type="match_exception",
            entity_id=row.id,
            occurred_at=now,
            after={"state": "open"},
            data={"invoice_id": doc.id, "reasons": codes, "summary": summary, "role": row.role},
        ),
    )
    return row.id


# -- resolving exceptions ------------------------------------------------------------------------
def resolve_exception(
    ctx: ServiceContext, exception_id: str, *, by: str, resolution: Resolution, reason: str
) -> MatchResult:
    """A person (finance or procurement) releases, rejects or waits on a held invoice. Every
    resolution needs a reason; a release whose variance is beyond the policy's re-approval
    threshold goes back to the PO's approver as an approval task instead."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            [FieldProblem("reason", "missing", "say why (it goes into the audit trail)")],
            what="resolution",
        )
    now = ctx.clock()
    with ctx.unit() as u:
        person = ctx.reference(u.session).people.get(by)
        if person is None or not any(person.has_role(r) for r in RESOLVERS):
            raise NotAllowed(
                f"{by} may not resolve matching exceptions: finance or procurement can",
                code="not_finance",
            )
        exc_t = t.MatchExceptionRow
        exc = u.session.scalars(
            select(exc_t).where(col(exc_t.id) == exception_id).with_for_update()
        ).first()
        if exc is None:
            raise NotFound(f"no matching exception {exception_id}")
        doc = _lock_document(u, exc.invoice_id)
        if exc.state != "open":
            raise InvalidTransition(
                f"exception {exception_id} is already resolved ({exc.resolution})"
            )
        state = u.session.get(t.InvoiceMatchRow, doc.id)
        assert state is not None
        current = MatchState(state.state)
        if resolution is Resolution.RELEASE:
            result = _release(ctx, u, doc, state, by, text, now, exc)
        elif resolution is Resolution.REJECT:
            result = _reject(ctx, u, doc, state, by, text, now)
        else:
            new = move(current, "wait", doc.id)
            _set_state(u, doc, state, new, state.version, None, None, now)
            u.record(
                _invoice_event(
                    ev.INVOICE_WAITING_FOR_RECEIPT, doc, state.version, now, by,
                    state.reason_codes, reason=text, purchase_orders=state.po_numbers,
                )
            )  # fmt: skip
            result = MatchResult(doc.id, new.value, state.version, None, tuple(state.reason_codes))
        resolved = "reapproval" if result.state == "awaiting_reapproval" else resolution.value
        _close_exception(u, exc, resolved, text, by, now)
        return result


def _close_exception(
    u: UnitOfWork, exc: t.MatchExceptionRow, resolution: str, reason: str, by: str, now: datetime
) -> None:
    exc.state = "resolved"
    exc.resolution = resolution
    exc.resolution_reason = reason
    exc.resolved_by = by
    exc.resolved_at = now
    u.session.flush()
    u.record(
        Event(
            name=ev.MATCH_EXCEPTION_RESOLVED,
            entity_type="match_exception",
            entity_id=exc.id,
            occurred_at=now,
            actor_id=by,
            before={"state": "open"},
            after={"state": "resolved"},
            data={"invoice_id": exc.invoice_id, "resolution": resolution, "reason": reason},
        )
    )


def _release(
    ctx: ServiceContext,
    u: UnitOfWork,
    doc: t.InvoiceDocumentRow,
    state: t.InvoiceMatchRow,
    by: str,
    reason: str,
    now: datetime,
    exc: t.MatchExceptionRow | None,
) -> MatchResult:
    """Match the invoice as it stands now (a fresh decision), overriding held reasons. The ledger
    invariants still apply: goods are never billed beyond what was received."""
    current = MatchState(state.state)
    inputs, decision = _decide(ctx, u, doc)
    if not decision.ledger_entries:
        raise NotAllowed(
            f"invoice {doc.number} has no line matched to an order line, so there is nothing to "
            "release; reject it",
            code="nothing_matched",
        )
    version = _save_decision(u, doc.id, state, decision, "release", now, by)
    variance, base = _variance(inputs, decision)
    if exc is not None and ctx.match_policy.needs_reapproval(variance, base):
        task = _reapproval_task(ctx, u, inputs, decision, doc, by, reason, variance, base, now)
        new = move(current, "send_for_reapproval", doc.id)
        _set_state(u, doc, state, new, version, None, decision, now)
        exc.approval_task_id = task.id
        u.record(
            _invoice_event(
                ev.INVOICE_SENT_FOR_REAPPROVAL, doc, version, now, by, decision.codes,
                task_id=task.id, assignee=task.assignee_id, variance=str(variance),
                base=str(base), reason=reason,
            )
        )  # fmt: skip
        return MatchResult(doc.id, new.value, version, decision.outcome, decision.codes)
    _write_ledger(ctx, u, inputs, decision, version, now, by)
    new = move(current, "release", doc.id)
    _set_state(u, doc, state, new, version, "released", decision, now)
    u.record(_matched_event(doc.id, version, "released", decision, now, by))
    return MatchResult(doc.id, new.value, version, decision.outcome, decision.codes)


def _variance(inputs: MatchInputs, decision: MatchDecision) -> tuple[Decimal, Decimal]:
    """What the council would pay above the order prices (net), and those order prices: the
    engine's figures when every line found its PO line, else from the ledger rows proposed."""
    if decision.expected_net is not None and decision.net_variance is not None:
        return decision.net_variance, decision.expected_net
    expected = sum((e.amount - e.price_variance for e in decision.ledger_entries), Decimal(0))
    return inputs.invoice.tax_exclusive - expected, expected


def _reject(
    ctx: ServiceContext,
    u: UnitOfWork,
    doc: t.InvoiceDocumentRow,
    state: t.InvoiceMatchRow,
    by: str,
    reason: str,
    now: datetime,
) -> MatchResult:
    new = move(MatchState(state.state), "reject", doc.id)
    reversed_rows = _reverse_ledger(ctx, u, doc.id, state.version, now, by)
    if reversed_rows:
        u.record(
            _invoice_event(
                ev.INVOICE_MATCH_REVERSED, doc, state.version, now, by, [], rows=reversed_rows
            )
        )
    _set_state(u, doc, state, new, state.version, None, None, now)
    u.record(_rejected_event(doc, state.version, now, by, reason, state.reason_codes))
    return MatchResult(doc.id, new.value, state.version, None, tuple(state.reason_codes))


def _po_approver(u: UnitOfWork, requisition_id: str) -> str | None:
    approved = [
        x
        for x in repo.tasks_of_requisition(u.session, requisition_id)
        if x.state is TaskState.APPROVED and x.role != REAPPROVAL_ROLE and x.decided_by
    ]
    if not approved:
        return None
    final = max(approved, key=lambda x: (x.decided_at or x.created_at, x.step_no))
    return final.decided_by


def _reapproval_task(
    ctx: ServiceContext,
    u: UnitOfWork,
    inputs: MatchInputs,
    decision: MatchDecision,
    doc: t.InvoiceDocumentRow,
    by: str,
    reason: str,
    variance: Decimal,
    base: Decimal,
    now: datetime,
) -> ApprovalTask:
    po_number = decision.po_numbers[0]
    requisition_id = inputs.approvers[po_number]
    [req] = repo.get_requisitions(u.session, [requisition_id])
    approver = _po_approver(u, requisition_id)
    if approver is None:
        raise NotAllowed(f"nobody approved {po_number}'s requisition", code="no_po_approver")
    percent = (variance * 100 / base).quantize(Decimal("0.1")) if base else None
    task = ApprovalTask(
        id=ctx.new_id(),
        requisition_id=req.id,
        requisition_version=req.version,
        step_no=0,
        assignee_id=approver,
        role=REAPPROVAL_ROLE,
        reason=(
            f"invoice {doc.number} on {po_number}: £{variance} ({percent}%) above the order "
            f"prices of £{base}, beyond the re-approval threshold; {by} released it: {reason}. "
            "You approved the order: approve the variance or reject it"
        ),
        created_at=now,
    )
    task.created()
    repo.insert_tasks(u.session, [task])
    u.record(task)
    return task


def decide_reapproval(
    ctx: ServiceContext,
    u: UnitOfWork,
    task: ApprovalTask,
    *,
    by: str,
    decision: Decision,
    comment: str | None,
) -> tuple[str, str]:
    """The PO's approver approves (the invoice is released) or rejects (it goes back to the
    exception queue) a re-approval task. Called by ``approvals.decide`` inside its transaction;
    returns the requisition's id and number."""
    now = ctx.clock()
    if not task.is_open:
        raise InvalidTransition(f"task {task.id} is already {task.state.value}")
    if decision not in (Decision.APPROVE, Decision.REJECT):
        raise NotAllowed(
            "a re-approval of an invoice variance is approved or rejected by the PO's approver",
            code="reapproval_decision",
        )
    exc = _exception_for_task(u, task)
    doc = _lock_document(u, exc.invoice_id)
    state = u.session.get(t.InvoiceMatchRow, doc.id)
    assert state is not None
    task.decide(decision, by=by, at=now, comment=comment)
    repo.update_task(u.session, task)
    u.record(task)
    if decision is Decision.APPROVE:
        _release(ctx, u, doc, state, by, f"variance approved by {by}", now, None)
    else:
        new = move(MatchState(state.state), "hold", doc.id)
        codes = [VARIANCE_NOT_APPROVED]
        _set_state(u, doc, state, new, state.version, None, None, now, codes)
        why = f"{by} did not approve the variance: {(comment or '').strip()}"
        _open_exception(ctx, u, doc, state.version, codes, why, now)
    [req] = repo.get_requisitions(u.session, [task.requisition_id])
    return req.id, req.number


def _exception_for_task(u: UnitOfWork, task: ApprovalTask) -> t.MatchExceptionRow:
    """The exception whose release this task re-approves (following escalations back)."""
    ids = {task.id}
    current: ApprovalTask | None = task
    while current is not None and current.escalated_from:
        ids.add(current.escalated_from)
        current = repo.get_task(u.session, current.escalated_from)
    exc_t = t.MatchExceptionRow
    found = u.session.scalars(
        select(exc_t).where(col(exc_t.approval_task_id).in_(sorted(ids)))
    ).first()
    if found is None:
        raise NotFound(f"no invoice waits for re-approval task {task.id}")
    return found


# -- finance refused a posting -------------------------------------------------------------------
def on_posting_rejected(ctx: ServiceContext) -> InTransactionHandler:
    """In-transaction handler for ``InvoicePostingRejected``: the invoice's ledger rows are
    reversed and it goes back to the exception queue with reason ``finance_rejected``."""

    def handle(u: UnitOfWork, event: Event) -> None:
        now = event.occurred_at
        doc = _lock_document(u, event.entity_id)
        state = u.session.get(t.InvoiceMatchRow, doc.id)
        if state is None or state.state != MatchState.MATCHED.value:
            return
        reversed_rows = _reverse_ledger(ctx, u, doc.id, state.version, now, None)
        codes = [FINANCE_REJECTED]
        why = f"finance refused the posting: {event.data.get('reason', 'no reason given')}"
        new = move(MatchState.MATCHED, "hold", doc.id)
        _set_state(u, doc, state, new, state.version, None, None, now, codes)
        u.record(
            _invoice_event(
                ev.INVOICE_MATCH_REVERSED, doc, state.version, now, None, codes, rows=reversed_rows
            )
        )
        _open_exception(ctx, u, doc, state.version, codes, why, now)

    return handle


# -- what waits ----------------------------------------------------------------------------------
def invoices_waiting_for_order(ctx: ServiceContext, po_id: str) -> list[str]:
    """Invoices a person chose to hold until the goods of this order arrive."""
    with ctx.db.reading() as s:
        number = s.scalar(
            select(col(t.PurchaseOrderRow.number)).where(col(t.PurchaseOrderRow.id) == po_id)
        )
        w = t.InvoiceMatchRow
        rows = s.execute(  # two columns, not every waiting invoice's whole row
            select(col(w.invoice_id), col(w.po_numbers)).where(
                col(w.state) == MatchState.WAITING.value
            )
        )
        return sorted(i for i, numbers in rows if number in (numbers or []))


def rematch_for_order(ctx: ServiceContext, po_id: str) -> list[MatchResult]:
    """Re-match, as one batch, the invoices waiting for this order's goods."""
    return match_invoices(ctx, invoices_waiting_for_order(ctx, po_id), trigger="receipt")
