"""Routing a requisition through the approval policy: bands, categories, segregation, delegation.

Unit tests: no I/O. A small council is built here; the policy mirrors the packaged default.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procure.domain.policy import (
    ApprovalPolicy,
    Band,
    CategoryRule,
    RelatedSpend,
    Route,
    RoutingRequest,
    band_amount,
    check_can_decide,
    choose_band,
    eligible_substitute,
    role_ceilings,
    route,
)
from procure.domain.reference import CostCentre, Delegation, Person, ReferenceData
from procure.errors import ConfigurationError, NotAllowed

D = Decimal
ON = date(2026, 11, 10)


def _person(pid: str, limit: str, manager: str | None, *roles: str, active: bool = True) -> Person:
    return Person(
        pid, pid, f"{pid}@council.example", frozenset(roles), D(limit), manager, None, active
    )


PEOPLE = [
    _person("ceo.carol", "10000000", None, "director"),
    _person("dir.dan", "50000", "ceo.carol", "director"),
    _person("hos.hana", "10000", "dir.dan", "head_of_service"),
    _person("bh.bob", "1000", "hos.hana", "budget_holder"),
    _person("bh.low", "500", "hos.hana", "budget_holder"),
    _person("bh.gone", "1000", "hos.hana", "budget_holder", active=False),
    _person("dep.dee", "1000", "hos.hana", "budget_holder"),
    _person("proc.pat", "5000000", "dir.dan", "procurement"),
    _person("ict.ivan", "1000", "hos.hana", "ict_manager"),
    _person("req.alice", "0", "bh.bob", "requisitioner"),
    _person("req.rita", "0", "bh.bob", "requisitioner"),
]


def _cc(code: str, name: str, budget_holder: str) -> CostCentre:
    return CostCentre(code, name, budget_holder, "hos.hana", "dir.dan", D("100000"))


REFERENCE = ReferenceData(
    people={p.id: p for p in PEOPLE},
    cost_centres={
        cc.code: cc
        for cc in (
            _cc("CC-LIB", "Libraries", "bh.bob"),
            _cc("CC-LOW", "Leisure", "bh.low"),
            _cc("CC-OLD", "Archives", "bh.gone"),
            _cc("CC-ICT", "ICT Services", "ict.ivan"),
        )
    },
    delegations=(
        Delegation("bh.bob", "dep.dee", date(2026, 12, 1), date(2026, 12, 5), "annual leave"),
    ),
)

POLICY = ApprovalPolicy(
    bands=(
        Band("up to £1,000", D("1000.00"), ("budget_holder",)),
        Band("up to £10,000", D("10000.00"), ("budget_holder", "head_of_service")),
        Band("up to £50,000", D("50000.00"), ("budget_holder", "head_of_service", "director")),
        Band(
            "above £50,000",
            None,
            ("budget_holder", "head_of_service", "director", "procurement"),
            quotes_required=3,
        ),
    ),
    category_rules=(CategoryRule("ICT", "ict_manager", "ICT purchases also need the ICT manager"),),
    role_holders={"procurement": "proc.pat", "ict_manager": "ict.ivan"},
)


def _request(
    net: str = "600.00",
    *,
    requester: str = "req.alice",
    cost_centre: str = "CC-LIB",
    supplier: str | None = "SUP-1",
    categories: tuple[str, ...] = (),
    on: date = ON,
    quotes: int = 0,
    requisition_id: str = "REQ-100",
) -> RoutingRequest:
    return RoutingRequest(
        requisition_id, requester, cost_centre, supplier, D(net), frozenset(categories), on, quotes
    )


def _route(request: RoutingRequest, reference: ReferenceData = REFERENCE) -> Route:
    return route(request, reference, POLICY, [])


# --- bands, categories and segregation, table-driven ------------------------------------------


@pytest.mark.parametrize(
    ("request_", "approvers", "roles"),
    [
        pytest.param(_request("600.00"), ["bh.bob"], ["budget_holder"], id="band 1"),
        pytest.param(_request("1000.00"), ["bh.bob"], ["budget_holder"], id="band 1 top edge"),
        pytest.param(
            _request("1000.01"),
            ["bh.bob", "hos.hana"],
            ["budget_holder", "head_of_service"],
            id="band 2 from a penny over",
        ),
        pytest.param(
            _request("12400.00"),
            ["bh.bob", "hos.hana", "dir.dan"],
            ["budget_holder", "head_of_service", "director"],
            id="band 3",
        ),
        pytest.param(
            _request("60000.00", quotes=3),
            ["bh.bob", "hos.hana", "dir.dan", "proc.pat"],
            ["budget_holder", "head_of_service", "director", "procurement"],
            id="band 4",
        ),
        pytest.param(
            _request("600.00", categories=("ICT", "STATIONERY")),
            ["bh.bob", "ict.ivan"],
            ["budget_holder", "ict_manager"],
            id="ICT adds the ICT manager",
        ),
        pytest.param(
            _request("600.00", cost_centre="CC-ICT", categories=("ICT",)),
            ["ict.ivan"],
            ["budget_holder"],
            id="ICT manager already on the route is not added twice",
        ),
        pytest.param(
            _request("600.00", requester="bh.bob"),
            ["hos.hana"],
            ["budget_holder"],
            id="requester is the budget holder so their line manager approves",
        ),
        pytest.param(
            _request("5000.00", requester="bh.bob"),
            ["hos.hana", "dir.dan"],
            ["budget_holder", "head_of_service"],
            id="line manager already on the route so the next one up approves",
        ),
        pytest.param(
            _request("400.00", cost_centre="CC-LOW"),
            ["bh.low"],
            ["budget_holder"],
            id="limit enough",
        ),
        pytest.param(
            _request("800.00", cost_centre="CC-LOW"),
            ["hos.hana"],
            ["budget_holder"],
            id="limit too low so the line manager approves",
        ),
        pytest.param(
            _request("600.00", cost_centre="CC-OLD"),
            ["hos.hana"],
            ["budget_holder"],
            id="inactive budget holder replaced by the line manager",
        ),
        pytest.param(
            _request("600.00", on=date(2026, 12, 1)),
            ["dep.dee"],
            ["budget_holder"],
            id="delegation on its first day",
        ),
        pytest.param(
            _request("600.00", on=date(2026, 12, 5)),
            ["dep.dee"],
            ["budget_holder"],
            id="delegation on its last day",
        ),
        pytest.param(
            _request("600.00", on=date(2026, 12, 6)),
            ["bh.bob"],
            ["budget_holder"],
            id="delegation over",
        ),
    ],
)
def test_route_gives_the_expected_approvers(
    request_: RoutingRequest, approvers: list[str], roles: list[str]
) -> None:
    result = _route(request_)
    assert list(result.approver_ids) == approvers
    assert [s.role for s in result.steps] == roles
    assert [s.step_no for s in result.steps] == list(range(1, len(approvers) + 1))


def test_each_step_says_why_it_is_there() -> None:
    result = _route(_request("12400.00", categories=("ICT",)))
    reasons = [s.reason for s in result.steps]
    assert reasons[0] == "budget holder for cost centre CC-LIB (Libraries)"
    assert "net £12,400.00 is in band 'up to £50,000' which needs a director" in reasons[2]
    assert reasons[3] == "ICT purchases also need the ICT manager"
    assert result.amount == result.band_amount == D("12400.00")


def test_required_limits_are_capped_by_each_roles_ceiling() -> None:
    result = _route(_request("60000.00", quotes=3, categories=("ICT",)))
    assert [s.required_limit for s in result.steps] == [
        D("1000.00"),
        D("10000.00"),
        D("50000.00"),
        D("60000.00"),
        None,
    ]
    assert role_ceilings(POLICY)["procurement"] is None


def test_requester_as_budget_holder_is_explained() -> None:
    step = _route(_request("600.00", requester="bh.bob")).steps[0]
    assert "bh.bob is the requester, so the step goes to their line manager hos.hana" in step.reason


def test_low_limit_is_explained() -> None:
    step = _route(_request("800.00", cost_centre="CC-LOW")).steps[0]
    assert "bh.low's approval limit £500.00 is below the £800.00 needed" in step.reason


def test_ict_manager_already_on_the_route_is_noted_not_duplicated() -> None:
    result = _route(_request("600.00", cost_centre="CC-ICT", categories=("ICT",)))
    assert any("ict.ivan is already on the route (step 1)" in n for n in result.notes)


def test_delegation_records_who_is_away_and_why() -> None:
    step = _route(_request("600.00", on=date(2026, 12, 2))).steps[0]
    assert step.delegated_from == "bh.bob"
    assert (
        "delegated to dep.dee while bh.bob is away (1\N{EN DASH}5 Dec: annual leave)" in step.reason
    )


def test_a_delegate_who_is_the_requester_is_not_used() -> None:
    reference = replace(
        REFERENCE,
        delegations=(Delegation("bh.bob", "req.alice", date(2026, 12, 1), date(2026, 12, 5)),),
    )
    result = _route(_request("600.00", on=date(2026, 12, 2)), reference)
    assert result.approver_ids == ("bh.bob",)
    assert result.steps[0].delegated_from is None
    assert any("req.alice is the requester" in n and "stays with bh.bob" in n for n in result.notes)


def test_no_eligible_approver_is_refused_with_a_code() -> None:
    # Procurement's limit (£5m) and the chief executive's (£10m) both fall short of £20m.
    with pytest.raises(NotAllowed) as caught:
        _route(_request("20000000.00", quotes=3))
    assert caught.value.code == "no_eligible_approver"
    assert "proc.pat" in caught.value.message


def test_missing_quotes_are_noted_and_procurement_told_what_to_check() -> None:
    result = _route(_request("60000.00", quotes=1))
    assert "band needs 3 quotes; 1 attached" in result.notes
    assert "3 quotes and 1 is attached" in result.steps[3].reason
    assert not any("quotes" in n for n in _route(_request("60000.00", quotes=3)).notes)


def test_a_role_nobody_holds_is_a_configuration_error() -> None:
    policy = replace(POLICY, category_rules=(CategoryRule("FIN", "finance", "finance check"),))
    with pytest.raises(ConfigurationError, match="finance"):
        route(_request(categories=("FIN",)), REFERENCE, policy, [])


# --- anti-splitting ---------------------------------------------------------------------------


def _spend(
    rid: str,
    net: str = "600.00",
    *,
    requester: str = "req.alice",
    supplier: str | None = "SUP-1",
    days_before: int = 10,
) -> RelatedSpend:
    return RelatedSpend(rid, requester, supplier, D(net), ON - timedelta(days=days_before))


@pytest.mark.parametrize(
    ("related", "expected_amount", "expected_ids"),
    [
        pytest.param([_spend("REQ-1")], "1200.00", ("REQ-1",), id="same requester and supplier"),
        pytest.param([_spend("REQ-1", days_before=30)], "1200.00", ("REQ-1",), id="window edge"),
        pytest.param([_spend("REQ-1", days_before=31)], "600.00", (), id="outside window"),
        pytest.param([_spend("REQ-1", days_before=-1)], "600.00", (), id="submitted later"),
        pytest.param([_spend("REQ-1", supplier="SUP-2")], "600.00", (), id="other supplier"),
        pytest.param([_spend("REQ-1", requester="req.rita")], "600.00", (), id="other requester"),
        pytest.param([_spend("REQ-100")], "600.00", (), id="itself"),
        pytest.param(
            [_spend("REQ-2", "100.00"), _spend("REQ-1", "50.00")],
            "750.00",
            ("REQ-1", "REQ-2"),
            id="several, ids sorted",
        ),
    ],
)
def test_band_amount_adds_related_spend(
    related: list[RelatedSpend], expected_amount: str, expected_ids: tuple[str, ...]
) -> None:
    assert band_amount(_request("600.00"), related, POLICY) == (D(expected_amount), expected_ids)


def test_no_supplier_means_no_aggregation() -> None:
    related = [_spend("REQ-1", supplier=None)]
    assert band_amount(_request("600.00", supplier=None), related, POLICY) == (D("600.00"), ())


def test_two_600_pound_requisitions_to_one_supplier_lift_the_band() -> None:
    result = route(_request("600.00"), REFERENCE, POLICY, [_spend("REQ-1")])
    assert result.band.name == "up to £10,000"
    assert result.approver_ids == ("bh.bob", "hos.hana")
    assert (result.amount, result.band_amount, result.aggregated_with) == (
        D("600.00"),
        D("1200.00"),
        ("REQ-1",),
    )
    assert any(n.startswith("anti-splitting: REQ-1") for n in result.notes)


# --- the helpers services call ----------------------------------------------------------------


def test_escalation_goes_to_the_first_eligible_line_manager() -> None:
    person, reasons = eligible_substitute(
        "bh.bob",
        REFERENCE,
        requester_id="req.alice",
        exclude={"bh.bob", "hos.hana"},
        required_limit=D("1000.00"),
        on=ON,
    )
    assert person == "dir.dan"
    assert reasons == [
        "hos.hana is already on the route",
        "the task goes to dir.dan, line manager of hos.hana",
    ]


def test_escalation_with_nobody_left_is_refused() -> None:
    with pytest.raises(NotAllowed) as caught:
        eligible_substitute(
            "dir.dan",
            REFERENCE,
            requester_id="ceo.carol",
            exclude=set(),
            required_limit=None,
            on=ON,
        )
    assert caught.value.code == "no_eligible_approver"


@pytest.mark.parametrize(
    ("person", "limit", "others", "code"),
    [
        ("req.alice", None, set(), "self_approval"),
        ("bh.low", D("800.00"), set(), "limit_too_low"),
        ("hos.hana", D("800.00"), {"hos.hana"}, "already_approved_in_chain"),
        ("bh.gone", None, set(), "approver_inactive"),
    ],
)
def test_check_can_decide_refuses(
    person: str, limit: Decimal | None, others: set[str], code: str
) -> None:
    with pytest.raises(NotAllowed) as caught:
        check_can_decide(person, limit, "req.alice", others, REFERENCE)
    assert caught.value.code == code


def test_check_can_decide_lets_a_proper_approver_act() -> None:
    check_can_decide("bh.bob", D("1000.00"), "req.alice", {"hos.hana"}, REFERENCE)


# --- properties over random councils ----------------------------------------------------------

LIMITS = [D(v) for v in ("0", "500", "1000", "5000", "10000", "50000", "200000", "10000000")]
EXECUTIVES = [f"exec{i}" for i in range(6)]
money = st.integers(min_value=1, max_value=30_000_000).map(lambda pence: D(pence).scaleb(-2))


@st.composite
def councils(
    draw: st.DrawFn, *, guaranteed: bool
) -> tuple[ReferenceData, RoutingRequest, list[RelatedSpend]]:
    """A random council and requisition.

    With ``guaranteed``, every line-manager chain of the staff ends in six active executives with
    unlimited authority, and approvers are always staff: a route has at most five steps, so an
    eligible person always remains. Without it, chains, limits and executives are arbitrary.
    """
    n = draw(st.integers(min_value=2, max_value=8))
    staff = [f"s{i}" for i in range(n)]
    execs = EXECUTIVES if guaranteed else EXECUTIVES[: draw(st.integers(0, 2))]
    people: list[Person] = []
    for i, pid in enumerate(execs):
        manager = execs[i + 1] if i + 1 < len(execs) else None
        limit = D("1000000000") if guaranteed else draw(st.sampled_from(LIMITS))
        people.append(_person(pid, str(limit), manager))
    for i, pid in enumerate(staff):
        managers = staff[:i] + execs[:1] if guaranteed else [*staff, *execs, None]
        manager = draw(st.sampled_from(managers or [None]))
        active = draw(st.booleans()) or draw(st.booleans())  # three in four active
        limit = draw(st.sampled_from(LIMITS))
        people.append(_person(pid, str(limit), manager, "ict_manager", active=active))
    everyone = [p.id for p in people]

    def pick_staff() -> str:
        return draw(st.sampled_from(staff))

    cc = CostCentre("CC-1", "Random", pick_staff(), pick_staff(), pick_staff(), D("1"))
    delegations = tuple(
        Delegation(
            pick_staff(),
            draw(st.sampled_from(everyone)),
            ON - timedelta(days=d),
            ON + timedelta(days=d),
        )
        for d in draw(st.lists(st.integers(-1, 2), max_size=3))
    )
    reference = ReferenceData(
        people={p.id: p for p in people}, cost_centres={"CC-1": cc}, delegations=delegations
    )
    requester = pick_staff()
    categories = frozenset(draw(st.sets(st.sampled_from(["ICT", "FURNITURE"]))))
    request = RoutingRequest("REQ-0", requester, "CC-1", "SUP-1", draw(money), categories, ON)
    related = [
        RelatedSpend(
            f"REQ-{i + 1}",
            draw(st.sampled_from([requester, "s0"])),
            "SUP-1",
            draw(money),
            ON - timedelta(days=draw(st.integers(0, 40))),
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    return reference, request, related


def _random_policy(reference: ReferenceData) -> ApprovalPolicy:
    staff = sorted(p for p in reference.people if p.startswith("s"))
    return replace(POLICY, role_holders={"procurement": staff[-1], "ict_manager": staff[0]})


def _assert_route_is_sound(
    result: Route, request: RoutingRequest, reference: ReferenceData
) -> None:
    approvers = [reference.people[a] for a in result.approver_ids]
    assert request.requester_id not in result.approver_ids
    assert len(set(result.approver_ids)) == len(result.approver_ids)
    assert all(p.active for p in approvers)
    financial = [
        (s, reference.people[s.approver_id]) for s in result.steps if s.required_limit is not None
    ]
    assert len(financial) == len(result.band.roles)
    assert all(
        p.approval_limit >= s.required_limit for s, p in financial if s.required_limit is not None
    )
    assert max(p.approval_limit for _, p in financial) >= result.band_amount
    for step in result.steps:
        if step.delegated_from is not None:
            delegation = reference.delegate_for(step.delegated_from, request.submitted_on)
            assert delegation is not None and delegation.delegate_id == step.approver_id


@settings(max_examples=200, deadline=None)
@given(councils(guaranteed=True))
def test_a_council_with_an_unlimited_top_always_gets_a_sound_route(
    case: tuple[ReferenceData, RoutingRequest, list[RelatedSpend]],
) -> None:
    reference, request, related = case
    policy = _random_policy(reference)
    _assert_route_is_sound(route(request, reference, policy, related), request, reference)


@settings(max_examples=200, deadline=None)
@given(councils(guaranteed=False))
def test_any_council_gets_a_sound_route_or_a_clear_refusal(
    case: tuple[ReferenceData, RoutingRequest, list[RelatedSpend]],
) -> None:
    reference, request, related = case
    policy = _random_policy(reference)
    try:
        result = route(request, reference, policy, related)
    except NotAllowed as refused:
        assert refused.code == "no_eligible_approver"
        return
    _assert_route_is_sound(result, request, reference)


@settings(max_examples=200)
@given(councils(guaranteed=False))
def test_anti_splitting_never_lowers_the_band(
    case: tuple[ReferenceData, RoutingRequest, list[RelatedSpend]],
) -> None:
    _, request, related = case
    amount, _ = band_amount(request, related, POLICY)
    assert amount >= request.net_total
    index = POLICY.bands.index
    assert index(choose_band(POLICY, amount)) >= index(choose_band(POLICY, request.net_total))
