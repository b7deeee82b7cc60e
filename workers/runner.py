"""``procure worker``: consume messages, re-send pending work at start, run the periodic sweeps.

Scale out by starting more ``procure worker`` processes (on this or other machines) against the
same RabbitMQ and PostgreSQL: messages are shared through the RabbitMQ queue and every actor
locks the rows it changes, so two workers never do the same step twice.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

import dramatiq
from sqlalchemy.exc import SQLAlchemyError

from workers.bootstrap import bootstrap

log = logging.getLogger("procure.worker")


def run_worker(threads: int | None = None, *, stop: threading.Event | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = bootstrap()
    stop = stop or threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after current messages", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
    app.start_worker(threads)
    try:
        sent: int | str = app.recover()
    except (dramatiq.errors.BrokerError, SQLAlchemyError) as exc:
        # PostgreSQL or RabbitMQ not reachable yet: consume anyway; the reconcile sweep re-sends.
        log.warning("could not re-send pending work at start (%s); the sweep will", exc)
        sent = "no"
    log.info(
        "worker started (%s broker); %s pending item(s) re-sent",
        "embedded" if app.embedded else "RabbitMQ",
        sent,
    )
    settings = app.settings
    next_sweep = time.monotonic() + settings.escalation_sweep_seconds
    try:
        while not stop.wait(timeout=settings.inbox_scan_seconds if settings.inbox_dir else 1.0):
            try:
                sweep = time.monotonic() >= next_sweep
                app.send_round(sweep=sweep)
                if sweep:
                    next_sweep = time.monotonic() + settings.escalation_sweep_seconds
            except (dramatiq.errors.BrokerError, SQLAlchemyError) as exc:  # the next tick sends
                log.warning("could not send the periodic work (%s); trying again", exc)
    finally:
        app.close()
        log.info("worker stopped")
