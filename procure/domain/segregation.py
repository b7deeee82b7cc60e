"""Segregation of duties: who may approve a step, and who takes it when the natural approver can't.

Role: the checks every approver must pass (not the requester, not already on the route, active,
a limit that covers the step), the walk up the line managers to the first person who passes,
one-hop delegation, escalation (``eligible_substitute``) and the server-side check on a decision
(``check_can_decide``). ``procure.domain.policy`` builds routes with these helpers.

Imports: the standard library, ``procure.domain`` and ``procure.errors`` only (never
``procure.domain.policy``, which imports this module). No clock, database or logger.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from procure.domain.money import format_gbp
from procure.domain.reference import Delegation, Person, ReferenceData
from procure.errors import ConfigurationError, NotAllowed, NotFound

__all__ = [
    "ApproverChecks",
    "check_can_decide",
    "delegate_if_away",
    "eligible_substitute",
    "known_person",
    "walk_up",
]

_DASH = "\N{EN DASH}"


def known_person(reference: ReferenceData, person_id: str, what: str) -> Person:
    """The person ``person_id``; ``what`` names the reference in the configuration error."""
    person = reference.people.get(person_id)
    if person is None:
        raise ConfigurationError(f"{what} is '{person_id}', who is not a known person")
    return person


@dataclass(frozen=True)
class ApproverChecks:
    """What every approver must pass: not the requester, not already on the route, active, limit."""

    requester_id: str
    exclude: Collection[str]
    required_limit: Decimal | None

    def why_not(self, person: Person) -> str | None:
        """Why ``person`` cannot take the step, or None when they can."""
        if person.id == self.requester_id:
            return f"{person.id} is the requester"
        if person.id in self.exclude:
            return f"{person.id} is already on the route"
        if not person.active:
            return f"{person.id} is inactive"
        needed = self.required_limit
        if needed is not None and person.approval_limit < needed:
            limit = format_gbp(person.approval_limit)
            return f"{person.id}'s approval limit {limit} is below the {format_gbp(needed)} needed"
        return None


def walk_up(
    start: Person, reference: ReferenceData, checks: ApproverChecks, *, step: str, problem: str
) -> tuple[Person, list[str]]:
    """The first eligible person above ``start`` and why the others were passed over.

    ``problem`` says why ``start`` could not act; the last entry of the list names the chosen one.
    """
    skipped: list[str] = []
    seen = {start.id}
    current = start
    while current.line_manager_id is not None and current.line_manager_id not in seen:
        manager = known_person(
            reference, current.line_manager_id, f"the line manager of {current.id}"
        )
        seen.add(manager.id)
        manager_problem = checks.why_not(manager)
        if manager_problem is None:
            if current is start:
                return manager, [*skipped, f"their line manager {manager.id}"]
            return manager, [*skipped, f"{manager.id}, line manager of {current.id}"]
        skipped.append(manager_problem)
        current = manager
    raise NotAllowed(
        f"no eligible approver for {step}: {'; '.join([problem, *skipped])}, and nobody above "
        f"{current.id} can take it; ask an administrator to correct line managers, approval "
        "limits or delegations",
        code="no_eligible_approver",
    )


def _period(d: Delegation) -> str:
    if (d.starts.year, d.starts.month) == (d.ends.year, d.ends.month):
        text = f"{d.starts.day}{_DASH}{d.ends.day} {d.ends:%b}"
    else:
        text = f"{d.starts.day} {d.starts:%b}{_DASH}{d.ends.day} {d.ends:%b}"
    return f"{text}: {d.reason}" if d.reason else text


def delegate_if_away(
    person: Person, reference: ReferenceData, on: date, checks: ApproverChecks
) -> tuple[Person, str | None, str | None]:
    """(who acts, the delegation text if the delegate acts, a note if the delegate cannot)."""
    delegation = reference.delegate_for(person.id, on)
    if delegation is None or delegation.delegate_id == person.id:
        return person, None, None
    away = f"{person.id} is away ({_period(delegation)})"
    delegate = reference.people.get(delegation.delegate_id)
    problem = checks.why_not(delegate) if delegate else f"{delegation.delegate_id} is unknown"
    if delegate is None or problem is not None:
        return person, None, f"{away}; delegate {problem}, so the step stays with {person.id}"
    return delegate, f"delegated to {delegate.id} while {away}", None


def eligible_substitute(
    start_person_id: str,
    reference: ReferenceData,
    *,
    requester_id: str,
    exclude: set[str],
    required_limit: Decimal | None,
    on: date,
) -> tuple[str, list[str]]:
    """Whom a task goes to instead of ``start_person_id`` (escalation), and why.

    Walks up from their line manager to the first person who is not the requester, not in
    ``exclude`` (approvers already on the route; add the current assignee), active and whose
    limit covers ``required_limit``; if that person is away on ``on`` and their delegate passes
    the same checks, the delegate. Raises ``NotAllowed`` (``no_eligible_approver``) if nobody does.
    """
    checks = ApproverChecks(requester_id, exclude, required_limit)
    start = known_person(reference, start_person_id, "the person to escalate from")
    problem = f"the task is escalated from {start.id}"
    manager, reasons = walk_up(start, reference, checks, step="this task", problem=problem)
    reasons[-1] = f"the task goes to {reasons[-1]}"
    chosen, delegated, note = delegate_if_away(manager, reference, on, checks)
    reasons.extend(text for text in (delegated, note) if text is not None)
    return chosen.id, reasons


def check_can_decide(
    person_id: str,
    step_required_limit: Decimal | None,
    requester_id: str,
    other_approvers_on_route: Collection[str],
    reference: ReferenceData,
) -> None:
    """Refuse a decision on a task that segregation of duties forbids (checked server-side)."""
    if person_id == requester_id:
        raise NotAllowed(
            f"{person_id} raised this requisition and may not approve it", code="self_approval"
        )
    if person_id in other_approvers_on_route:
        raise NotAllowed(
            f"{person_id} has already approved another step of this requisition; one person "
            "never counts twice in a chain",
            code="already_approved_in_chain",
        )
    person = reference.people.get(person_id)
    if person is None:
        raise NotFound(f"person {person_id} does not exist")
    if not person.active:
        raise NotAllowed(f"{person_id} is inactive", code="approver_inactive")
    if step_required_limit is not None and person.approval_limit < step_required_limit:
        raise NotAllowed(
            f"{person_id}'s approval limit {format_gbp(person.approval_limit)} is below the "
            f"{format_gbp(step_required_limit)} this step needs",
            code="limit_too_low",
        )
