"""The council file: the packaged sample, every kind of refusal, normalisation and export."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat

from procure.domain.reference import ReferenceData, Role
from procure.errors import ConfigurationError, ValidationFailed
from procure.reference.council_file import (
    council_to_dict,
    dump_council_toml,
    load_council,
    normalise_sort_code,
    parse_council,
    validate_vat_number,
)

SITES = {"Civic Centre", "Depot", "Leisure Centre", "Museum", "Crematorium", "Housing Office"}

# A small council that loads cleanly; each bad case appends to it.
BASE = """
[[people]]
id = "c.exec"
name = "Chief Executive"
email = "chief@example.gov.uk"
roles = ["director"]
approval_limit = "10000000.00"

[[people]]
id = "h.service"
name = "Head of Service"
email = "head@example.gov.uk"
roles = ["head_of_service", "budget_holder"]
approval_limit = "20000.00"
line_manager = "c.exec"

[[cost_centres]]
code = "CC-A"
name = "Service A"
budget_holder = "h.service"
head_of_service = "h.service"
director = "c.exec"
annual_budget = "1000.00"

[[vat_codes]]
code = "S"
name = "Standard rate"
rate = "20"
en16931_category = "S"

[[suppliers]]
id = "SUP-0001"
name = "Good Supplies Ltd"
vat_number = "GB643301223"
address_lines = ["1 High Street", "Worcester"]
postcode = "WR1 2AB"
country = "GB"
"""


def person(ident: str, extra: str = "", manager: str | None = "c.exec") -> str:
    manager_line = f'line_manager = "{manager}"' if manager else ""
    return f"""
[[people]]
id = "{ident}"
name = "Someone"
email = "someone@example.gov.uk"
roles = ["requisitioner"]
approval_limit = "0.00"
{manager_line}
{extra}
"""


def supplier(extra: str, postcode: str = "WR1 2AB") -> str:
    return f"""
[[suppliers]]
id = "SUP-9"
name = "Checked Ltd"
address_lines = ["1 Road"]
postcode = "{postcode}"
country = "GB"
{extra}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "council.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> set[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        load_council(write(tmp_path, text))
    return {(p.field, p.code) for p in caught.value.problems}


@pytest.fixture(scope="module")
def sample() -> ReferenceData:
    return load_council()


# --- The packaged sample --------------------------------------------------------------------------


def test_the_packaged_sample_loads_with_every_table_filled(sample: ReferenceData) -> None:
    assert len(sample.people) >= 16
    assert len(sample.cost_centres) == 8
    assert len(sample.gl_codes) >= 12
    assert len(sample.suppliers) == 10
    assert set(sample.categories) == {
        "ICT",
        "FACILITIES",
        "GROUNDS",
        "PROFESSIONAL",
        "STATIONERY",
        "FLEET",
        "CLEANING",
    }
    assert {c.site for c in sample.cost_centres.values()} == SITES


def test_every_line_manager_chain_in_the_sample_reaches_the_chief_executive(
    sample: ReferenceData,
) -> None:
    assert sample.people["c.exec"].line_manager_id is None
    assert sample.people["c.exec"].approval_limit == Decimal("10000000.00")
    for person_id in sample.people:
        seen: list[str] = []
        current: str | None = person_id
        while current is not None:
            assert current not in seen, f"loop from {person_id}: {seen}"
            seen.append(current)
            current = sample.people[current].line_manager_id
        assert seen[-1] == "c.exec"


def test_every_supplier_vat_number_in_the_sample_is_valid(sample: ReferenceData) -> None:
    numbers = [s.vat_number for s in sample.suppliers.values()]
    assert None in numbers  # one supplier is not VAT registered
    for number in filter(None, numbers):
        if number.startswith("GB"):
            assert gb_vat.is_valid(number), number
        else:
            assert eu_vat.is_valid(number), number


def test_vat_codes_map_to_the_en16931_categories(sample: ReferenceData) -> None:
    mapping = {v.code: (v.rate, v.en16931_category) for v in sample.vat_codes.values()}
    assert mapping == {
        "S": (Decimal("20"), "S"),
        "R": (Decimal("5"), "S"),
        "Z": (Decimal("0"), "Z"),
        "E": (Decimal("0"), "E"),
        "OS": (Decimal("0"), "O"),
        "RC": (Decimal("0"), "AE"),
    }


def test_the_sample_has_the_people_the_demonstrations_need(sample: ReferenceData) -> None:
    people = sample.people
    assert people["a.khan"].has_role(Role.PROCUREMENT)
    assert people["a.khan"].approval_limit == Decimal("1000000.00")
    assert people["d.patel"].has_role(Role.ICT_MANAGER)
    assert {"requisitioner", "budget_holder"} <= people["r.green"].roles
    assert sample.categories["ICT"].approver_role == "ict_manager"
    for p in people.values():
        if p.has_role(Role.BUDGET_HOLDER):
            assert Decimal(1000) <= p.approval_limit <= Decimal(5000), p.id
        if p.has_role(Role.HEAD_OF_SERVICE):
            assert Decimal(10000) <= p.approval_limit <= Decimal(25000), p.id
        if p.has_role(Role.DIRECTOR) and p.id != "c.exec":
            assert Decimal(50000) <= p.approval_limit <= Decimal(250000), p.id
    assert sample.holders_of(Role.FINANCE) and sample.holders_of(Role.RECEIVER)
    assert len(sample.holders_of(Role.REQUISITIONER)) >= 3


def test_the_sample_delegation_covers_christmas_with_a_delegate_of_enough_limit(
    sample: ReferenceData,
) -> None:
    (leave,) = sample.delegations
    approver, delegate = sample.people[leave.approver_id], sample.people[leave.delegate_id]
    assert approver.has_role(Role.HEAD_OF_SERVICE)
    assert delegate.approval_limit >= approver.approval_limit
    assert (leave.starts, leave.ends, leave.reason) == (
        date(2026, 12, 21),
        date(2027, 1, 4),
        "annual leave",
    )
    assert sample.delegate_for(approver.id, date(2027, 1, 1)) == leave
    assert sample.delegate_for(approver.id, date(2027, 1, 5)) is None


def test_the_small_base_council_used_below_loads(tmp_path: Path) -> None:
    reference = load_council(write(tmp_path, BASE))
    assert set(reference.people) == {"c.exec", "h.service"}


# --- Refusals ---------------------------------------------------------------------------------

BAD_CASES = {
    "a required key is missing": (
        '[[gl_codes]]\ncode = "4010"\n',
        ("gl_codes[4010].name", "missing"),
    ),
    "an id is used twice": (
        person("c.exec"),
        ("people[2].id", "duplicate_id"),
    ),
    "a line manager who is not a person": (
        person("s.jones", manager="no.body"),
        ("people[s.jones].line_manager", "unknown_reference"),
    ),
    "a budget holder who is not a person": (
        '[[cost_centres]]\ncode = "CC-B"\nname = "B"\nbudget_holder = "x.y"\n'
        'head_of_service = "h.service"\ndirector = "c.exec"\nannual_budget = "1.00"\n',
        ("cost_centres[CC-B].budget_holder", "unknown_reference"),
    ),
    "a cost centre director without the director role": (
        '[[cost_centres]]\ncode = "CC-B"\nname = "B"\nbudget_holder = "h.service"\n'
        'head_of_service = "h.service"\ndirector = "h.service"\nannual_budget = "1.00"\n',
        ("cost_centres[CC-B].director", "lacks_role"),
    ),
    "a delegate who is not a person": (
        '[[delegations]]\napprover = "h.service"\ndelegate = "ghost"\n'
        "starts = 2026-12-21\nends = 2027-01-04\n",
        ("delegations[0].delegate", "unknown_reference"),
    ),
    "a money amount that is not a number": (
        person("s.jones").replace('"0.00"', '"lots"'),
        ("people[s.jones].approval_limit", "not_a_decimal"),
    ),
    "a negative budget": (
        '[[cost_centres]]\ncode = "CC-B"\nname = "B"\nbudget_holder = "h.service"\n'
        'head_of_service = "h.service"\ndirector = "c.exec"\nannual_budget = "-5.00"\n',
        ("cost_centres[CC-B].annual_budget", "negative"),
    ),
    "a VAT number with a wrong check digit": (
        supplier('vat_number = "GB643301224"'),
        ("suppliers[SUP-9].vat_number", "bad_vat_number"),
    ),
    "a VAT number from a country that cannot be checked": (
        supplier('vat_number = "US123456789"'),
        ("suppliers[SUP-9].vat_number", "bad_vat_number"),
    ),
    "a sort code of five digits": (
        supplier('sort_code = "12-34-5"'),
        ("suppliers[SUP-9].sort_code", "bad_sort_code"),
    ),
    "an account number of seven digits": (
        supplier('account_number = "1234567"'),
        ("suppliers[SUP-9].account_number", "bad_account_number"),
    ),
    "an IBAN with a wrong check digit": (
        supplier('iban = "GB80NWBK60161348201937"'),
        ("suppliers[SUP-9].iban", "bad_iban"),
    ),
    "an IBAN for another account than the one given": (
        supplier(
            'sort_code = "60-16-13"\naccount_number = "11111111"\niban = "GB79NWBK60161348201937"'
        ),
        ("suppliers[SUP-9].iban", "iban_mismatch"),
    ),
    "a UK postcode that is not one": (
        supplier("", postcode="NOT A CODE"),
        ("suppliers[SUP-9].postcode", "bad_postcode"),
    ),
    "a role that does not exist": (
        person("s.jones").replace('["requisitioner"]', '["requisitioner", "king"]'),
        ("people[s.jones].roles", "unknown_role"),
    ),
    "a category approver role that does not exist": (
        '[[categories]]\ncode = "ICT"\nname = "ICT"\napprover_role = "wizard"\n',
        ("categories[ICT].approver_role", "unknown_role"),
    ),
    "a category approver role nobody holds": (
        '[[categories]]\ncode = "ICT"\nname = "ICT"\napprover_role = "ict_manager"\n',
        ("categories[ICT].approver_role", "no_role_holder"),
    ),
    "a person who is their own line manager": (
        person("s.jones", manager="s.jones"),
        ("people[s.jones].line_manager", "line_manager_cycle"),
    ),
    "two people who manage each other": (
        person("a.one", manager="b.two") + person("b.two", manager="a.one"),
        ("people[a.one].line_manager", "line_manager_cycle"),
    ),
    "a date that is not a date": (
        '[[delegations]]\napprover = "h.service"\ndelegate = "c.exec"\n'
        'starts = "21/12/2026"\nends = 2027-01-04\n',
        ("delegations[0].starts", "bad_date"),
    ),
    "a date and time where a date belongs": (
        '[[delegations]]\napprover = "h.service"\ndelegate = "c.exec"\n'
        "starts = 2026-12-21T09:00:00\nends = 2027-01-04\n",
        ("delegations[0].starts", "bad_date"),
    ),
    "a delegation that ends before it starts": (
        '[[delegations]]\napprover = "h.service"\ndelegate = "c.exec"\n'
        "starts = 2027-01-04\nends = 2026-12-21\n",
        ("delegations[0].ends", "bad_date"),
    ),
    "a delegation to oneself": (
        '[[delegations]]\napprover = "h.service"\ndelegate = "h.service"\n'
        "starts = 2026-12-21\nends = 2027-01-04\n",
        ("delegations[0].delegate", "self_delegation"),
    ),
    "a VAT category EN 16931 does not have": (
        '[[vat_codes]]\ncode = "X"\nname = "X"\nrate = "0"\nen16931_category = "X"\n',
        ("vat_codes[X].en16931_category", "bad_vat_category"),
    ),
    "a misspelt key": (
        person("s.jones", extra='departmnet = "Housing"'),
        ("people[s.jones].departmnet", "unknown_key"),
    ),
    "an unquoted GL code": (
        '[[gl_codes]]\ncode = 4010\nname = "Stationery"\n',
        ("gl_codes[0].code", "wrong_type"),
    ),
    "an unknown table": (
        '[[staff]]\nid = "x"\n',
        ("staff", "unknown_key"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES), ids=list(BAD_CASES))
def test_a_bad_council_file_is_refused_naming_the_field_and_code(tmp_path: Path, case: str) -> None:
    snippet, expected = BAD_CASES[case]
    assert expected in problems_of(tmp_path, BASE + snippet)


def test_a_float_amount_is_refused_asking_for_a_quoted_decimal(tmp_path: Path) -> None:
    text = BASE + person("s.jones").replace('"0.00"', "1000.5")
    with pytest.raises(ValidationFailed) as caught:
        load_council(write(tmp_path, text))
    (problem,) = caught.value.problems
    assert (problem.field, problem.code) == ("people[s.jones].approval_limit", "not_a_decimal")
    assert "use a quoted decimal string" in problem.message


def test_a_duplicate_entry_is_reported_once_and_does_not_replace_the_first(
    tmp_path: Path,
) -> None:
    assert problems_of(tmp_path, BASE + person("c.exec")) == {("people[2].id", "duplicate_id")}


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "[[people]\nid = ") == {("(file)", "bad_toml")}


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_council(tmp_path / "nowhere.toml")


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        BASE
        + person("s.jones", manager="no.body", extra='department = "Housing"')
        + supplier('vat_number = "GB643301224"\nsort_code = "12"')
        + '[[vat_codes]]\ncode = "Q"\nname = "Q"\nrate = 20.0\nen16931_category = "Q"\n'
    )
    with pytest.raises(ValidationFailed) as caught:
        load_council(write(tmp_path, text))
    found = {(p.field, p.code) for p in caught.value.problems}
    assert found >= {
        ("people[s.jones].line_manager", "unknown_reference"),
        ("suppliers[SUP-9].vat_number", "bad_vat_number"),
        ("suppliers[SUP-9].sort_code", "bad_sort_code"),
        ("vat_codes[Q].rate", "not_a_decimal"),
        ("vat_codes[Q].en16931_category", "bad_vat_category"),
    }
    assert str(write(tmp_path, text)) in caught.value.message


# --- Normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("GB 220 4302 31", "GB220430231"),
        ("220430231", "GB220430231"),
        ("gb220-430-231", "GB220430231"),
        ("GB 643 3012 23 001", "GB643301223001"),
        ("GD001", "GBGD001"),
        ("IE 6388047V", "IE6388047V"),
        ("xi220430231", "XI220430231"),
    ],
)
def test_vat_numbers_are_stored_compact_with_their_country_prefix(
    written: str, stored: str
) -> None:
    assert validate_vat_number(written) == stored


@pytest.mark.parametrize("written", ["", "GB220430232", "IE6388047X", "US123456789", "GB12"])
def test_invalid_vat_numbers_are_refused_with_a_reason(written: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        validate_vat_number(written)


@pytest.mark.parametrize("written", ["601613", "60 16 13", "60-16-13", " 60-1613 "])
def test_sort_codes_are_stored_as_pairs_of_digits(written: str) -> None:
    assert normalise_sort_code(written) == "60-16-13"


@pytest.mark.parametrize("written", ["60-16-1", "6016133", "AB-CD-EF"])
def test_a_sort_code_that_is_not_six_digits_is_refused(written: str) -> None:
    with pytest.raises(ValueError):
        normalise_sort_code(written)


def test_supplier_details_are_tidied_when_loaded(tmp_path: Path) -> None:
    text = BASE + supplier(
        'vat_number = "GB 643 3012 23"\nsort_code = "601613"\naccount_number = "4820 1937"\n'
        'iban = "GB79 NWBK 6016 1348 2019 37"',
        postcode="wr3  8sg",
    )
    loaded = load_council(write(tmp_path, text)).suppliers["SUP-9"]
    assert (loaded.vat_number, loaded.sort_code, loaded.account_number) == (
        "GB643301223",
        "60-16-13",
        "48201937",
    )
    assert (loaded.iban, loaded.postcode) == ("GB79NWBK60161348201937", "WR3 8SG")


# --- Export ---------------------------------------------------------------------------------------


def test_the_sample_dumped_and_loaded_again_is_equal(sample: ReferenceData, tmp_path: Path) -> None:
    assert load_council(write(tmp_path, dump_council_toml(sample))) == sample


def test_awkward_values_survive_the_round_trip(sample: ReferenceData, tmp_path: Path) -> None:
    leaver = replace(sample.people["s.jones"], name='Siân "Sal" O\'Neil \\\tJones', active=False)
    gone = replace(sample.suppliers["SUP-0009"], active=False, name="Ünïcödé & Sons Ltd")
    odd = replace(
        sample,
        people={**sample.people, leaver.id: leaver},
        suppliers={**sample.suppliers, gone.id: gone},
    )
    again = load_council(write(tmp_path, dump_council_toml(odd)))
    assert again == odd
    assert again.people["s.jones"].active is False


def test_the_dict_form_is_json_friendly_and_parses_back(sample: ReferenceData) -> None:
    data = council_to_dict(sample)
    assert json.loads(json.dumps(data)) == data
    assert data["people"][0]["approval_limit"] == "10000000.00"
    assert parse_council(data) == sample
