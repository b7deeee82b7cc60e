"""The tolerance table and matching settings read from the policy file's [matching] section."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from procure.errors import ConfigurationError
from procure.matching import default_match_policy, match_policy_from_mapping
from procure.matching.policy import ToleranceRule
from procure.reference.policy_file import match_policy_as_text
from procure.services.matching_inputs import load_match_policy


def rule(**kw: object) -> ToleranceRule:
    base: dict[str, object] = {
        "scope": "global",
        "scope_key": None,
        "check": "unit_price",
        "lower_percent": None,
        "lower_amount": None,
        "upper_percent": None,
        "upper_amount": None,
        "action": "hold",
    }
    base.update(kw)
    return ToleranceRule(**base)  # type: ignore[arg-type]


def test_the_defaults_parse_and_hold_a_price_rise_beyond_two_percent() -> None:
    policy = default_match_policy()
    rows = policy.rules_for("unit_price", supplier="S1")
    assert {r.action for r in rows} == {"hold", "reject"}
    hold = next(r for r in rows if r.action == "hold")
    assert not hold.exceeded_by(Decimal("2.00"), Decimal("100.00"))
    assert hold.exceeded_by(Decimal("2.01"), Decimal("100.00"))
    assert not hold.exceeded_by(Decimal("-60"), Decimal("100.00"))  # cheaper: no lower limit


def test_percent_and_amount_together_the_stricter_wins() -> None:
    r = rule(upper_percent=Decimal("2"), upper_amount=Decimal("25.00"))
    # 2% of 10,000 is 200 but the amount limit is 25
    assert r.exceeded_by(Decimal("25.01"), Decimal("10000"))
    assert not r.exceeded_by(Decimal("25.00"), Decimal("10000"))
    # 2% of 100 is 2, below the amount limit
    assert r.exceeded_by(Decimal("2.01"), Decimal("100"))


def test_a_percent_of_nothing_is_exceeded_by_any_variance() -> None:
    assert rule(upper_percent=Decimal("50")).exceeded_by(Decimal("0.0001"), Decimal(0))
    assert not rule(upper_percent=Decimal("50")).exceeded_by(Decimal(0), Decimal(0))


def test_the_most_specific_scope_with_rows_for_the_check_wins() -> None:
    policy = match_policy_from_mapping(
        {
            "matching": {
                "tolerance": [
                    {"scope": "global", "check": "unit_price", "upper_percent": "1", "action": "hold"},
                    {"scope": "supplier", "scope_key": "S1", "check": "unit_price", "upper_percent": "3", "action": "hold"},
                    {"scope": "category", "scope_key": "fuel", "check": "unit_price", "upper_percent": "8", "action": "hold"},
                    {"scope": "item", "scope_key": "DIESEL", "check": "unit_price", "upper_percent": "12", "action": "hold"},
                ]
            }
        }
    )  # fmt: skip

    def pct(**kw: str | None) -> Decimal | None:
        return policy.rules_for("unit_price", **kw)[0].upper_percent

    assert pct(item="DIESEL", category="fuel", supplier="S1") == Decimal("12")
    assert pct(item="PETROL", category="fuel", supplier="S1") == Decimal("8")
    assert pct(item="PETROL", category="stationery", supplier="S1") == Decimal("3")
    assert pct(item=None, category=None, supplier="S2") == Decimal("1")
    assert policy.rules_for("quantity", supplier="S1") == ()


@pytest.mark.parametrize(
    ("row", "named"),
    [
        ({"scope": "region", "check": "unit_price", "action": "hold"}, "matching.tolerance[1].scope"),
        ({"scope": "global", "check": "colour", "action": "hold"}, "matching.tolerance[1].check"),
        ({"scope": "global", "check": "unit_price", "action": "shrug"}, "matching.tolerance[1].action"),
        ({"scope": "global", "check": "unit_price", "action": "hold", "upper_percent": "two"}, "matching.tolerance[1].upper_percent"),
        ({"scope": "global", "check": "unit_price", "action": "hold", "upper_amount": "-1"}, "matching.tolerance[1].upper_amount"),
        ({"scope": "supplier", "check": "unit_price", "action": "hold"}, "matching.tolerance[1].scope_key"),
        ({"scope": "item", "scope_key": "X", "check": "vat", "action": "hold"}, "matching.tolerance[1].scope"),
        ({"scope": "global", "check": "date", "action": "hold", "upper_percent": "5"}, "matching.tolerance[1].upper_percent"),
        ({"scope": "global", "check": "unit_price", "action": "hold", "uper_percent": "5"}, "matching.tolerance[1].uper_percent"),
    ],
)  # fmt: skip
def test_a_bad_tolerance_row_is_refused_naming_the_field(
    row: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigurationError) as err:
        match_policy_from_mapping({"matching": {"tolerance": [row]}}, source="policy.toml")
    assert named in err.value.message
    assert err.value.message.startswith("policy.toml: ")


def test_bad_settings_are_named() -> None:
    with pytest.raises(ConfigurationError) as err:
        match_policy_from_mapping({"matching": {"duplicate_window_days": "30", "colour": 1}})
    assert "matching.duplicate_window_days" in err.value.message
    assert "matching.colour" in err.value.message


def test_a_file_without_a_matching_section_gets_the_defaults() -> None:
    assert match_policy_from_mapping({}) == default_match_policy()


def test_reapproval_beyond_either_threshold() -> None:
    policy = default_match_policy()  # 10% or £500
    assert not policy.needs_reapproval(Decimal("9.99"), Decimal("100"))
    assert policy.needs_reapproval(Decimal("10.01"), Decimal("100"))
    assert policy.needs_reapproval(Decimal("500.01"), Decimal("100000"))


PACKAGED = resources.files("procure.reference").joinpath("policy.toml").read_text("utf-8")


def test_the_defaults_are_the_packaged_policy_files_matching_section() -> None:
    policy = match_policy_from_mapping(tomllib.loads(PACKAGED), source="policy.toml")
    assert policy == default_match_policy()
    described = [r.describe() for r in policy.tolerances]
    assert described == [
        "global unit_price: above +2% or +25.00 -> hold",
        "global unit_price: above +50% -> reject",
        "global quantity: above +0 -> hold",
        "global line_amount: above +2% or +100.00 -> hold",
        "global invoice_total: above +1% or +1.00 -> hold",
        "global vat: above +0.05; below -0.05 -> hold",
        "global date: above +7 days -> hold",
        "category FLEET unit_price: above +5% -> hold",
        "category FLEET unit_price: above +50% -> reject",
        "category FLEET line_amount: above +5% or +250.00 -> hold",
    ]
    assert (policy.duplicate_window_days, policy.reapproval_percent, policy.reapproval_amount) == (
        30,
        Decimal("10"),
        Decimal("500.00"),
    )


def test_a_row_changed_in_a_copied_file_is_the_row_in_force(tmp_path: Path) -> None:
    own = tmp_path / "policy.toml"
    own.write_text(PACKAGED.replace('upper_amount = "25.00"', 'upper_amount = "0.10"', 1))
    policy = load_match_policy(own)
    [hold, _] = policy.rules_for("unit_price", category="STATIONERY", supplier="SUP-0002")
    assert hold.upper_amount == Decimal("0.10")
    assert hold.exceeded_by(Decimal("0.11"), Decimal("100.00"))
    assert (
        not default_match_policy()
        .rules_for("unit_price")[0]
        .exceeded_by(Decimal("0.11"), Decimal("100.00"))
    )


def test_a_bad_row_in_a_policy_file_is_refused_naming_the_row_and_the_field(
    tmp_path: Path,
) -> None:
    fleet = 'scope_key = "FLEET"\ncheck = "unit_price"\nupper_percent = "5"'
    assert PACKAGED.count(fleet) == 1
    own = tmp_path / "policy.toml"
    own.write_text(PACKAGED.replace(fleet, fleet.replace('"5"', '"five"')))
    with pytest.raises(ConfigurationError) as err:
        load_match_policy(own)
    assert err.value.message.startswith(f"{own}: matching.tolerance[8].upper_percent ")
    assert "(the row category FLEET unit_price)" in err.value.message
    assert "'five'" in err.value.message


def test_a_section_that_leaves_settings_out_takes_the_packaged_ones() -> None:
    defaults = default_match_policy()
    window_only = match_policy_from_mapping({"matching": {"duplicate_window_days": 10}})
    assert window_only.duplicate_window_days == 10
    assert window_only.tolerances == defaults.tolerances
    assert window_only.reapproval_amount == defaults.reapproval_amount
    assert match_policy_from_mapping({"matching": {"tolerance": []}}).tolerances == ()


def test_policy_show_prints_the_tolerance_table_in_file_order() -> None:
    text = match_policy_as_text(default_match_policy())
    rows = [ln.split() for ln in text.splitlines() if ln[:4].strip().isdigit()]
    assert [r[0] for r in rows] == [str(i) for i in range(1, 11)]
    assert "  1  unit price     global          2% or £25.00     no limit        hold" in text
    assert "  6  VAT            global          £0.05            £0.05           hold" in text
    assert "  8  unit price     category FLEET  5%               no limit        hold" in text
    assert "within 30 days" in text and "beyond 10% of the order or £500.00" in text
