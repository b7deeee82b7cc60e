"""The approval policy file: the packaged default loads, and each mistake names its key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from procure.domain.policy import ApprovalPolicy
from procure.errors import ConfigurationError
from procure.reference.policy_file import load_policy, policy_as_text

VALID = """
[[bands]]
name = "small"
up_to = "1000.00"
roles = ["budget_holder"]

[[bands]]
name = "medium"
up_to = "10000.00"
roles = ["budget_holder", "head_of_service"]

[[bands]]
name = "large"
roles = ["budget_holder", "head_of_service", "procurement"]
quotes_required = 3

[[category_rules]]
category = "ICT"
role = "ict_manager"
reason = "ICT purchases also need the ICT manager"

[role_holders]
procurement = "a.khan"

[escalation]
working_days = 3

[anti_splitting]
window_days = 30

[receipts]
over_receipt_allowance_percent = "5"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_default_loads() -> None:
    policy = load_policy()
    assert [b.up_to for b in policy.bands] == [
        Decimal("1000.00"),
        Decimal("10000.00"),
        Decimal("50000.00"),
        None,
    ]
    assert policy.bands[-1].roles == ("budget_holder", "head_of_service", "director", "procurement")
    assert policy.bands[-1].quotes_required == 3
    assert [(r.category, r.role) for r in policy.category_rules] == [("ICT", "ict_manager")]
    assert policy.role_holders == {"procurement": "a.khan", "ict_manager": "d.patel"}
    assert policy.escalation_working_days == 3
    assert policy.anti_splitting_window_days == 30
    assert policy.over_receipt_allowance_percent == Decimal("5")


def test_a_valid_file_loads_from_a_path(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, VALID))
    assert isinstance(policy, ApprovalPolicy)
    assert [b.name for b in policy.bands] == ["small", "medium", "large"]


def test_the_summary_reads_like_the_policy() -> None:
    text = policy_as_text(load_policy())
    assert "4. above £50,000 (no upper limit): budget holder, then head of service" in text
    assert "3 quotes required" in text
    assert "ICT: also ICT manager" in text
    assert "procurement: a.khan" in text
    assert "after 3 working days" in text
    assert "budget holder: £1,000.00" in text


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        pytest.param(
            'up_to = "10000.00"', 'up_to = "500.00"', "bands[2].up_to", id="not ascending"
        ),
        pytest.param('up_to = "1000.00"', 'up_to = "ten pounds"', "bands[1].up_to", id="not money"),
        pytest.param('up_to = "1000.00"', "up_to = 1000.0", "bands[1].up_to", id="float money"),
        pytest.param('up_to = "1000.00"', 'up_to = "-5"', "bands[1].up_to", id="negative money"),
        pytest.param(
            'roles = ["budget_holder"]',
            'roles = ["budget_holder", "chief_executive"]',
            "bands[1].roles[2]",
            id="unknown role in a band",
        ),
        pytest.param(
            'roles = ["budget_holder"]',
            'roles = ["budget_holder", "budget_holder"]',
            "bands[1].roles",
            id="role twice in a band",
        ),
        pytest.param('roles = ["budget_holder"]', "roles = []", "bands[1].roles", id="no roles"),
        pytest.param('name = "small"\n', "", "bands[1].name", id="band without a name"),
        pytest.param(
            'up_to = "1000.00"\n', "", "bands[1].up_to", id="unlimited band before the last"
        ),
        pytest.param(
            "quotes_required = 3",
            'quotes_required = 3\nup_to = "99999.00"',
            "bands[3].up_to",
            id="last band not unlimited",
        ),
        pytest.param(
            "quotes_required = 3", "quotes_required = -1", "bands[3].quotes_required", id="quotes"
        ),
        pytest.param(
            'name = "large"', 'name = "large"\nup_too = "1"', "bands[3].up_too", id="typo"
        ),
        pytest.param(
            "window_days = 30", "window_days = -1", "anti_splitting.window_days", id="days"
        ),
        pytest.param(
            "working_days = 3", "working_days = -2", "escalation.working_days", id="escalation"
        ),
        pytest.param(
            "working_days = 3", 'working_days = "3"', "escalation.working_days", id="days as text"
        ),
        pytest.param(
            'over_receipt_allowance_percent = "5"',
            'over_receipt_allowance_percent = "five"',
            "receipts.over_receipt_allowance_percent",
            id="percent not a number",
        ),
        pytest.param(
            'role = "ict_manager"', 'role = "it_boss"', "category_rules[1].role", id="category role"
        ),
        pytest.param(
            'procurement = "a.khan"',
            'chief = "a.khan"',
            "role_holders.chief",
            id="unknown role holder",
        ),
        pytest.param(
            'procurement = "a.khan"',
            'budget_holder = "a.khan"',
            "role_holders.budget_holder",
            id="cost-centre role named as a holder",
        ),
        pytest.param("[anti_splitting]", "[anti_spliting]", "anti_spliting", id="typo in a table"),
    ],
)
def test_a_bad_file_names_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(ConfigurationError) as caught:
        load_policy(path)
    assert f"{key}:" in caught.value.message
    assert str(path) in caught.value.message


def test_a_file_without_bands_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "[escalation]\nworking_days = 3\n")
    with pytest.raises(ConfigurationError, match=r"bands: missing"):
        load_policy(path)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not a valid TOML file"):
        load_policy(_write(tmp_path, "[[bands]\nname = "))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_policy(tmp_path / "nowhere.toml")
