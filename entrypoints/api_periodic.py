"""The periodic work of ``procure worker``, done by ``procure serve`` itself on the embedded
default.

With RabbitMQ, ``procure worker`` processes escalate overdue approval tasks, re-send quiet
pending work and scan the inbox folder on their schedule. On the embedded default (SQLite and an
in-process broker) the API server is usually the only process running, so it does the same:
every ``inbox_scan_seconds`` it scans the inbox (when one is configured) and every
``escalation_sweep_seconds`` it escalates and reconciles, then finishes the follow-up work in
process, one drain at a time with the requests' own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from workers.bootstrap import App

log = logging.getLogger("procure.serve")


def periodic_work(app: App, *, sweep: bool, settle: Callable[[], None]) -> None:
    """One round (``App.send_round``), its follow-up work finished in process."""
    app.send_round(sweep=sweep)
    settle()


async def run_periodic(app: App, settle: Callable[[], None]) -> None:
    """Rounds of ``periodic_work`` until cancelled (at the server's shutdown); a round that
    fails is logged and the next one tries again."""
    settings = app.settings
    tick = settings.inbox_scan_seconds if settings.inbox_dir else settings.escalation_sweep_seconds
    next_sweep = time.monotonic() + settings.escalation_sweep_seconds
    while True:
        await asyncio.sleep(tick)
        sweep = time.monotonic() >= next_sweep
        try:
            await asyncio.to_thread(periodic_work, app, sweep=sweep, settle=settle)
        except Exception:  # the loop outlives any one round: log it, try again next round
            log.exception("periodic work failed; trying again next round")
            continue
        if sweep:
            next_sweep = time.monotonic() + settings.escalation_sweep_seconds
