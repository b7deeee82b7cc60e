"""``procure finance …`` (what finance runs) and ``procure relay`` (what the pipeline runs).

- ``procure finance receive``: the receiver on RabbitMQ (adapters from
  ``PROCURE_FINANCE_ADAPTERS`` or ``--adapter``), until interrupted;
- ``procure finance replay [--acks] [--limit N]``: dead-letter queue → its queue;
- ``procure finance trial-balance``: the reference ledger's trial balance;
- ``procure finance topology``: declare the exchanges and queues (both sides also do at start);
- ``procure relay``: publish the outbox, sweep, clean up, record acknowledgements.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

finance_app = typer.Typer(help="The finance side: receiver, dead letters, trial balance.")


def _settings(adapters: list[str] | None = None) -> tuple[object, str]:
    from connectors.finance.settings import FinanceSettings
    from procure.settings import Settings

    finance = FinanceSettings()
    if adapters:
        finance = finance.model_copy(update={"adapters": adapters})
    url = finance.broker_url or Settings().broker_url
    if not url.startswith("amqp"):
        typer.echo(
            "error [no_broker]: set PROCURE_FINANCE_BROKER_URL or PROCURE_BROKER_URL to an "
            "amqp:// URL (with the embedded default, postings are drained in-process)",
            err=True,
        )
        raise typer.Exit(2)
    return finance, url


@finance_app.command("receive")
def receive(
    adapter: Annotated[
        list[str] | None, typer.Option("--adapter", help="ledger and/or export")
    ] = None,
) -> None:
    """Consume AP postings, apply them once each, acknowledge on the reply queue."""
    from connectors.finance.consumer import run_receiver
    from connectors.finance.runtime import build_receiver
    from connectors.finance.settings import FinanceSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    finance, url = _settings(adapter)
    assert isinstance(finance, FinanceSettings)
    receiver = build_receiver(finance)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    typer.echo(f"finance receiver: adapters {', '.join(finance.adapters)}; Ctrl-C stops")
    stats = run_receiver(receiver, url, prefetch=finance.prefetch, batch=finance.batch, stop=stop)
    receiver.store.dispose()
    typer.echo(json.dumps(stats.__dict__))


@finance_app.command("replay")
def replay_command(
    acks: Annotated[bool, typer.Option("--acks", help="Replay acknowledgements instead.")] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
) -> None:
    """Move dead-lettered postings (or acknowledgements) back to their queue."""
    from connectors.finance.replay import replay

    _, url = _settings()
    typer.echo(f"replayed {replay(url, acks=acks, limit=limit)} message(s)")


@finance_app.command("trial-balance")
def trial_balance_command() -> None:
    """Print the reference ledger's trial balance (exit 1 if it does not balance)."""
    from connectors.finance.ledger import trial_balance
    from connectors.finance.settings import FinanceSettings
    from connectors.finance.store import FinanceStore

    store = FinanceStore.from_url(FinanceSettings().database_url)
    store.create()
    tb = trial_balance(store)
    typer.echo(tb.render())
    raise typer.Exit(0 if tb.balanced else 1)


@finance_app.command("topology")
def topology_command() -> None:
    """Declare the finance exchanges, queues and dead-letter queues on RabbitMQ."""
    from connectors.finance.replay import queue_depths
    from connectors.finance.topology import declare_at

    _, url = _settings()
    declare_at(url)
    typer.echo(json.dumps(queue_depths(url)))


def relay() -> None:
    """Publish the posting outbox to RabbitMQ and record finance's acknowledgements."""
    from workers.relay import run_relay

    run_relay()


def bench_posting(
    count: Annotated[int, typer.Option(help="Invoices per run")] = 1000,
    runs: Annotated[int, typer.Option(help="Measured runs (after one warm-up)")] = 3,
) -> None:
    """Relay messages/s beside a plain pika confirm loop; end-to-end invoices/s (PostgreSQL +
    RabbitMQ from PROCURE_BENCH_DATABASE_URL / PROCURE_BENCH_BROKER_URL)."""
    from benchmarks.posting import main as bench_main

    bench_main(count=count, runs=runs)


def chaos(
    invoices: Annotated[
        int, typer.Option(help="Supplier documents driven through (invoices and credit notes)")
    ] = 300,
    credit_every: Annotated[
        int, typer.Option(help="Every Nth document is a credit note for an earlier invoice")
    ] = 7,
    duration: Annotated[float, typer.Option(help="Seconds of faults")] = 45.0,
    fault_min: Annotated[float, typer.Option(help="Shortest pause between faults (s)")] = 1.0,
    fault_max: Annotated[float, typer.Option(help="Longest pause between faults (s)")] = 4.0,
    settle_timeout: Annotated[float, typer.Option(help="Seconds allowed to settle")] = 300.0,
    seed: Annotated[int, typer.Option(help="Random seed of the fault schedule")] = 5,
    resend_after: Annotated[int, typer.Option(help="Relay resends unacknowledged after (s)")] = 15,
    database_url: Annotated[
        str, typer.Option(envvar="PROCURE_CHAOS_DATABASE_URL", help="Pipeline database (recreated)")
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/procure_chaos",
    finance_url: Annotated[
        str, typer.Option(envvar="PROCURE_CHAOS_FINANCE_URL", help="Finance database (recreated)")
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/procure_chaos_finance",
    broker_url: Annotated[
        str, typer.Option(envvar="PROCURE_CHAOS_BROKER_URL", help="RabbitMQ (finance queues reset)")
    ] = "amqp://guest:guest@127.0.0.1:5672/%2F",
    pg_cluster: Annotated[
        str,
        typer.Option(envvar="PROCURE_CHAOS_PG_CLUSTER", help="'VERSION NAME' for pg_ctlcluster"),
    ] = "15 main",
    rabbit_node: Annotated[
        str, typer.Option(envvar="PROCURE_CHAOS_RABBIT_NODE", help="Node for rabbitmqctl -n")
    ] = "rabbit@localhost",
) -> None:
    """Drive N supplier documents through intake, matching (procure worker) and posting to
    finance while killing processes and restarting RabbitMQ and PostgreSQL; print one JSON
    object; exit 1 unless lost = duplicated = double_matched = 0."""
    from entrypoints.chaos import Targets, run_chaos

    logging.basicConfig(level=logging.WARNING)
    status = run_chaos(
        invoices=invoices,
        targets=Targets(database_url, finance_url, broker_url, pg_cluster, rabbit_node),
        duration=duration,
        fault_every=(fault_min, fault_max),
        settle_timeout=settle_timeout,
        seed=seed,
        resend_after=resend_after,
        credit_every=credit_every,
    )
    raise typer.Exit(status)
