"""The approval policy and the pure routing function that turns a requisition into a route.

Imports: the standard library and ``procure.domain`` only. No clock, database or logger:
``route`` is a pure function of its inputs, so that the same requisition, reference data,
policy and date always give the same route, and each step says why it is there.

Routing rules (the policy file, ``procure/reference/policy.toml``, sets the figures):
- bands by value: the band is chosen on the *band amount*, which is the requisition's net total
  plus (anti-splitting) the net totals of the same requester's other live requisitions to the same
  supplier submitted within the rolling window; the band lists the roles that must approve, in
  order (e.g. budget holder, head of service, director, procurement);
- category rules: a category with an approver role adds that role (e.g. ICT → ICT manager);
- segregation of duties: the requester never approves their own requisition, one person never
  counts twice in a chain, and a financial approver's limit must cover the amount their role
  authorises (``min(band amount, the role's ceiling)``); where the natural approver fails one of
  these, the route walks up their line managers to the first who passes, and says so;
- delegation: an approver away on the routing date is replaced by their delegate (recorded),
  provided the delegate passes the same checks.

Decisions written down here so that nobody has to guess them from the code:
- a role's *ceiling* is the ``up_to`` of the highest band whose last role it is; a role that is
  never last in a band has no ceiling, so it must cover the whole band amount (the strict reading);
- category steps have no limit check, and a category role that resolves to someone already on
  the route adds a note rather than a second step;
- a delegate is used only for one hop (a delegate's own delegation is not followed).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from procure.domain.money import format_gbp
from procure.domain.reference import CostCentre, Delegation, Person, ReferenceData, Role
from procure.errors import ConfigurationError, NotAllowed, NotFound

__all__ = [
    "ApprovalPolicy",
    "Band",
    "CategoryRule",
    "RelatedSpend",
    "Route",
    "RouteStep",
    "RoutingRequest",
    "band_amount",
    "check_can_decide",
    "choose_band",
    "describe_role",
    "eligible_substitute",
    "role_ceilings",
    "route",
]


@dataclass(frozen=True)
class Band:
    """Requisitions whose band amount is at most ``up_to`` (None: no upper limit) need ``roles``."""

    name: str
    up_to: Decimal | None
    roles: tuple[str, ...]
    quotes_required: int = 0


@dataclass(frozen=True)
class CategoryRule:
    category: str
    role: str
    reason: str


@dataclass(frozen=True)
class ApprovalPolicy:
    bands: tuple[Band, ...]
    category_rules: tuple[CategoryRule, ...] = ()
    # Roles not tied to a cost centre are held by a named person (e.g. procurement → "a.khan").
    role_holders: dict[str, str] = field(default_factory=dict)
    escalation_working_days: int = 3
    anti_splitting_window_days: int = 30
    over_receipt_allowance_percent: Decimal = Decimal("0")


@dataclass(frozen=True)
class RelatedSpend:
    """Another requisition that may count towards the band (anti-splitting)."""

    requisition_id: str
    requester_id: str
    supplier_id: str | None
    net_total: Decimal
    submitted_on: date


@dataclass(frozen=True)
class RoutingRequest:
    requisition_id: str
    requester_id: str
    cost_centre: str
    supplier_id: str | None
    net_total: Decimal
    categories: frozenset[str]
    submitted_on: date
    quotes_attached: int = 0


@dataclass(frozen=True)
class RouteStep:
    step_no: int
    approver_id: str
    role: str
    reason: str
    required_limit: Decimal | None = None
    delegated_from: str | None = None


@dataclass(frozen=True)
class Route:
    steps: tuple[RouteStep, ...]
    band: Band
    amount: Decimal
    band_amount: Decimal
    aggregated_with: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def approver_ids(self) -> tuple[str, ...]:
        return tuple(s.approver_id for s in self.steps)


_ROLE_LABELS: dict[str, str] = {
    Role.BUDGET_HOLDER.value: "budget holder",
    Role.HEAD_OF_SERVICE.value: "head of service",
    Role.DIRECTOR.value: "director",
    Role.PROCUREMENT.value: "procurement officer",
    Role.ICT_MANAGER.value: "ICT manager",
    Role.FINANCE.value: "finance officer",
}

_DASH = "\N{EN DASH}"

# The three approval roles that every cost centre names for itself.
_COST_CENTRE_ROLES: dict[str, Callable[[CostCentre], str]] = {
    Role.BUDGET_HOLDER.value: lambda cc: cc.budget_holder_id,
    Role.HEAD_OF_SERVICE.value: lambda cc: cc.head_of_service_id,
    Role.DIRECTOR.value: lambda cc: cc.director_id,
}


def describe_role(role: str) -> str:
    """A role as a person would say it: ``head_of_service`` → ``head of service``."""
    return _ROLE_LABELS.get(role, role.replace("_", " "))


def _a(label: str) -> str:
    return f"{'an' if label[:1].lower() in 'aeiou' else 'a'} {label}"


def choose_band(policy: ApprovalPolicy, amount: Decimal) -> Band:
    """The first band (ascending; ``up_to`` None = unlimited) whose ``up_to`` covers ``amount``."""
    for band in policy.bands:
        if band.up_to is None or amount <= band.up_to:
            return band
    raise ConfigurationError(
        f"no approval band covers {format_gbp(amount)}: the last band must have no upper limit"
    )


def band_amount(
    request: RoutingRequest, related: list[RelatedSpend], policy: ApprovalPolicy
) -> tuple[Decimal, tuple[str, ...]]:
    """The amount the band is chosen on, and the ids of the other requisitions counted in it.

    Anti-splitting: the same requester's requisitions to the same (known) supplier submitted in
    the ``anti_splitting_window_days`` before this one (inclusive, never after it) count too.
    """
    if request.supplier_id is None:
        return request.net_total, ()
    earliest = request.submitted_on - timedelta(days=policy.anti_splitting_window_days)
    counted: dict[str, Decimal] = {}
    for other in related:
        if (
            other.requisition_id != request.requisition_id
            and other.requester_id == request.requester_id
            and other.supplier_id == request.supplier_id
            and earliest <= other.submitted_on <= request.submitted_on
        ):
            counted.setdefault(other.requisition_id, other.net_total)
    return request.net_total + sum(counted.values(), Decimal(0)), tuple(sorted(counted))


def role_ceilings(policy: ApprovalPolicy) -> dict[str, Decimal | None]:
    """Each financial role's ceiling: the ``up_to`` of the highest band whose last role it is.

    Roles that appear in a band but are never last get None (no ceiling: they cover it all).
    """
    ceilings: dict[str, Decimal | None] = {r: None for b in policy.bands for r in b.roles}
    for band in policy.bands:  # ascending, so the highest band wins
        if band.roles:
            ceilings[band.roles[-1]] = band.up_to
    return ceilings


def _person(reference: ReferenceData, person_id: str, what: str) -> Person:
    person = reference.people.get(person_id)
    if person is None:
        raise ConfigurationError(f"{what} is '{person_id}', who is not a known person")
    return person


@dataclass(frozen=True)
class _Checks:
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


def _walk_up(
    start: Person, reference: ReferenceData, checks: _Checks, *, step: str, problem: str
) -> tuple[Person, list[str]]:
    """The first eligible person above ``start`` and why the others were passed over.

    ``problem`` says why ``start`` could not act; the last entry of the list names the chosen one.
    """
    skipped: list[str] = []
    seen = {start.id}
    current = start
    while current.line_manager_id is not None and current.line_manager_id not in seen:
        manager = _person(reference, current.line_manager_id, f"the line manager of {current.id}")
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


def _delegate(
    person: Person, reference: ReferenceData, on: date, checks: _Checks
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
    checks = _Checks(requester_id, exclude, required_limit)
    start = _person(reference, start_person_id, "the person to escalate from")
    problem = f"the task is escalated from {start.id}"
    manager, reasons = _walk_up(start, reference, checks, step="this task", problem=problem)
    reasons[-1] = f"the task goes to {reasons[-1]}"
    chosen, delegated, note = _delegate(manager, reference, on, checks)
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


def _resolve(
    role: str, cost_centre: CostCentre, reference: ReferenceData, policy: ApprovalPolicy
) -> tuple[Person, str]:
    """The natural holder of ``role`` for this requisition, and how they were found."""
    label = describe_role(role)
    by_cost_centre = _COST_CENTRE_ROLES.get(role)
    if by_cost_centre is not None:
        where = f"{label} for cost centre {cost_centre.code} ({cost_centre.name})"
        return _person(reference, by_cost_centre(cost_centre), f"the {where}"), where
    if role in policy.role_holders:
        holder = _person(reference, policy.role_holders[role], f"the policy's {role} holder")
        return holder, f"{label} named in the approval policy"
    holders = reference.holders_of(role)
    if not holders:
        raise ConfigurationError(
            f"nobody holds the role '{role}': name one under [role_holders] in the approval "
            "policy or give the role to an active person"
        )
    return holders[0], label


@dataclass
class _RouteBuilder:
    request: RoutingRequest
    reference: ReferenceData
    steps: list[RouteStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, role: str, natural: Person, reason: str, required: Decimal | None) -> None:
        req, step_no = self.request, len(self.steps) + 1
        checks = _Checks(req.requester_id, {s.approver_id for s in self.steps}, required)
        approver = natural
        problem = checks.why_not(natural)
        if problem is not None:
            step = f"step {step_no} ({describe_role(role)})"
            approver, passed_over = _walk_up(
                natural, self.reference, checks, step=step, problem=problem
            )
            *skipped, lead = [problem, *passed_over]
            reason = f"{reason}; {'; '.join(skipped)}, so the step goes to {lead}"
        acting, delegated, note = _delegate(approver, self.reference, req.submitted_on, checks)
        if delegated is not None:
            reason = f"{reason}; {delegated}"
        if note is not None:
            self.notes.append(f"step {step_no}: {note}")
        delegated_from = approver.id if delegated is not None else None
        self.steps.append(RouteStep(step_no, acting.id, role, reason, required, delegated_from))


def route(
    request: RoutingRequest,
    reference: ReferenceData,
    policy: ApprovalPolicy,
    related: list[RelatedSpend],
) -> Route:
    """The approval route for a requisition: pure and deterministic; each step says why."""
    amount, aggregated = band_amount(request, related, policy)
    band = choose_band(policy, amount)
    if not band.roles:
        raise ConfigurationError(f"approval band '{band.name}' lists no roles")
    cost_centre = reference.cost_centres.get(request.cost_centre)
    if cost_centre is None:
        raise NotFound(f"cost centre {request.cost_centre} does not exist")
    ceilings = role_ceilings(policy)
    shown = (
        f"{format_gbp(amount)} with related spend" if aggregated else "net " + format_gbp(amount)
    )
    builder = _RouteBuilder(request, reference)
    for index, role in enumerate(band.roles):
        ceiling = ceilings.get(role)
        required = amount if ceiling is None else min(amount, ceiling)
        natural, reason = _resolve(role, cost_centre, reference, policy)
        if index > 0:
            reason += f"; {shown} is in band '{band.name}' which needs {_a(describe_role(role))}"
        builder.add(role, natural, reason, required)
    for rule in policy.category_rules:
        if rule.category not in request.categories:
            continue
        natural, _ = _resolve(rule.role, cost_centre, reference, policy)
        reason = (
            rule.reason or f"{rule.category} purchases also need {_a(describe_role(rule.role))}"
        )
        existing = next((s for s in builder.steps if s.approver_id == natural.id), None)
        if existing is not None:
            builder.notes.append(
                f"{reason}: {natural.id} is already on the route (step {existing.step_no}), "
                "which covers it"
            )
            continue
        builder.add(rule.role, natural, reason, None)
    notes = [*_band_notes(request, policy, band, amount, aggregated), *builder.notes]
    steps = _mention_quotes(builder.steps, band, request.quotes_attached)
    return Route(tuple(steps), band, request.net_total, amount, aggregated, tuple(notes))


def _band_notes(
    request: RoutingRequest,
    policy: ApprovalPolicy,
    band: Band,
    amount: Decimal,
    aggregated: tuple[str, ...],
) -> list[str]:
    notes: list[str] = []
    own_band = choose_band(policy, request.net_total)
    if own_band != band:
        notes.append(
            f"anti-splitting: {', '.join(aggregated)} by the same requester to the same supplier "
            f"in the last {policy.anti_splitting_window_days} days bring the band amount to "
            f"{format_gbp(amount)} (this requisition alone: {format_gbp(request.net_total)}), "
            f"moving it from band '{own_band.name}' to band '{band.name}'"
        )
    if band.quotes_required > request.quotes_attached:
        notes.append(
            f"band needs {band.quotes_required} quotes; {request.quotes_attached} attached"
        )
    return notes


def _mention_quotes(steps: list[RouteStep], band: Band, attached: int) -> list[RouteStep]:
    """The procurement step says which quotes it must see when the band asks for more."""
    if band.quotes_required <= attached:
        return steps
    evidence = (
        f"; the band needs {band.quotes_required} quotes and {attached} "
        f"{'is' if attached == 1 else 'are'} attached, so check the missing quotes "
        "or a recorded exemption before approving"
    )
    return [
        replace(s, reason=s.reason + evidence) if s.role == Role.PROCUREMENT.value else s
        for s in steps
    ]
