"""The cyclic collector is paused only while a document is read, and left as it was found."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from procure.einvoice import reader
from procure.einvoice.collector import collector_paused
from procure.einvoice.reader import read_document


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_reading_pauses_the_collector_and_switches_it_back_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gc.enable()
    seen: list[bool] = []
    real = reader._read

    def observed(*args: Any) -> Any:
        seen.append(gc.isenabled())  # as the reader sees it, while it reads
        return real(*args)

    monkeypatch.setattr(reader, "_read", observed)
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
