"""The generated list of UN/ECE Rec 20/21 unit codes."""

from __future__ import annotations

import pytest

from procure.domain.unit_codes import COMMON_UNITS, UNIT_CODES, is_unit_code


@pytest.mark.parametrize("code", ["C62", "HUR", "KGM", "EA", "XBX", "LS"])
def test_common_units_of_measure_are_codes(code: str) -> None:
    assert is_unit_code(code)


@pytest.mark.parametrize("code", ["ZZZ", "BX", "PK", "c62", "", " C62"])
def test_made_up_or_mistyped_units_are_not_codes(code: str) -> None:
    assert not is_unit_code(code)


def test_the_list_is_the_whole_recommendation() -> None:
    assert 1000 < len(UNIT_CODES) < 5000
    assert all(code == code.strip() and code for code in UNIT_CODES)


def test_every_common_unit_is_in_the_list() -> None:
    assert set(COMMON_UNITS) <= UNIT_CODES
    assert COMMON_UNITS["HUR"] == "hour"
