"""The cyclic collector is paused only while a document is read, and left as it was found."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from procure.einvoice.collector import collector_paused
from procure.einvoice.reader import read_document


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_reading_pauses_the_collector_and_switches_it_back_on() -> None:
    gc.enable()
    seen = []
    with collector_paused():
        seen.append(gc.isenabled())
    read_document(b"<not-xml")  # refused: an outcome with findings, no exception
    assert seen == [False] and gc.isenabled()


def test_a_collector_switched_off_by_the_application_stays_off() -> None:
    gc.disable()
    read_document(b"\x00\x01binary")
    assert not gc.isenabled()


def test_the_collector_comes_back_on_when_reading_fails() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
