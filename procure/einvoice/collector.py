"""The cyclic garbage collector paused while one document is read.

Reading a document allocates many small objects (dicts, Decimals, element proxies, models) that
form no reference cycles: reference counting frees them. Python's cyclic collector still runs
every few hundred allocations and, now and then, walks the whole heap; on a 10,000-row workbook
that was a quarter of the time. ``collector_paused()`` switches it off for the duration and back
on afterwards, unless it was already off (another thread's read, or the application's choice):
nothing is leaked, collection is only deferred to the next allocation threshold.

Imports: the standard library only.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
