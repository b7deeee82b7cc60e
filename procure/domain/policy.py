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

The approver checks, the walk up the line managers and delegation live in
``procure.domain.segregation``; ``eligible_substitute`` and ``check_can_decide`` are re-exported
here so that existing imports keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from procure.domain.money import format_gbp
from procure.domain.reference import CostCentre, Person, ReferenceData, Role
from procure.domain.segregation import (
    ApproverChecks,
    check_can_decide,
    delegate_if_away,
    eligible_substitute,
    known_person,
    walk_up,
)
from procure.errors import ConfigurationError, NotFound

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


def _resolve(
    role: str, cost_centre: CostCentre, reference: ReferenceData, policy: ApprovalPolicy
) -> tuple[Person, str]:
    """The natural holder of ``role`` for this requisition, and how they were found."""
    label = describe_role(role)
    by_cost_centre = _COST_CENTRE_ROLES.get(role)
    if by_cost_centre is not None:
        where = f"{label} for cost centre {cost_centre.code} ({cost_centre.name})"
        return known_person(reference, by_cost_centre(cost_centre), f"the {where}"), where
    if role in policy.role_holders:
        holder = known_person(reference, policy.role_holders[role], f"the policy's {role} holder")
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
        checks = ApproverChecks(req.requester_id, {s.approver_id for s in self.steps}, required)
        approver = natural
        problem = checks.why_not(natural)
        if problem is not None:
            step = f"step {step_no} ({describe_role(role)})"
            approver, passed_over = walk_up(
                natural, self.reference, checks, step=step, problem=problem
            )
            *skipped, lead = [problem, *passed_over]
            reason = f"{reason}; {'; '.join(skipped)}, so the step goes to {lead}"
        acting, delegated, note = delegate_if_away(
            approver, self.reference, req.submitted_on, checks
        )
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
