"""The ``procure`` command line (typer).

State-changing commands bootstrap the app once; on the embedded default they then drain the
in-process queue, so the command returns with the follow-up work (routing, next approval step,
purchase order) done. On RabbitMQ the workers (``procure worker``) do that work.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from entrypoints import cli_finance, render, render_matching
from entrypoints.cli_exceptions import exceptions_app
from procure.errors import ProcureError, ValidationFailed

app = typer.Typer(no_args_is_help=True, help="Electronic procurement: requisitions to orders.")
db_app = typer.Typer(help="Database schema.")
req_app = typer.Typer(help="Purchase requisitions.")
task_app = typer.Typer(help="Approval tasks.")
po_app = typer.Typer(help="Purchase orders.")
receipt_app = typer.Typer(help="Goods receipts.")
token_app = typer.Typer(help="API tokens.")
policy_app = typer.Typer(help="Approval policy.")
bench_app = typer.Typer(help="Benchmarks (JSON lines).")
invoice_app = typer.Typer(help="Supplier invoices and credit notes (UBL, CII, Excel).")
app.add_typer(db_app, name="db")
app.add_typer(req_app, name="requisition")
app.add_typer(task_app, name="task")
app.add_typer(po_app, name="po")
app.add_typer(receipt_app, name="receipt")
app.add_typer(token_app, name="token")
app.add_typer(policy_app, name="policy")
app.add_typer(bench_app, name="bench")
app.add_typer(invoice_app, name="invoice")
app.add_typer(cli_finance.finance_app, name="finance")
app.command("relay")(cli_finance.relay)
bench_app.command("posting")(cli_finance.bench_posting)
app.command("chaos")(cli_finance.chaos)
app.add_typer(exceptions_app, name="exceptions")

T = TypeVar("T")
AsUser = Annotated[str, typer.Option("--as", help="Who is acting (a person id).")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _emit(data: Any, as_json: bool, human: Callable[[Any], str] | None = None) -> None:
    if as_json or human is None:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        typer.echo(human(data))


def _fail(exc: ProcureError, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"error": exc.as_dict()}, indent=2), err=True)
    else:
        typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
        if isinstance(exc, ValidationFailed):
            for p in exc.problems:
                typer.echo(f"  - {p.field}: {p.message} ({p.code})", err=True)
    raise typer.Exit(2)


@contextmanager
def _app(as_json: bool = False, *, drain: bool = True) -> Iterator[Any]:
    from workers.bootstrap import bootstrap

    the_app = bootstrap()
    try:
        if the_app.embedded and drain:
            the_app.recover()
        yield the_app
        if drain:
            the_app.drain()
    except ProcureError as exc:
        _fail(exc, as_json)
    finally:
        the_app.close()


# -- database and reference data ------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema (SQLite or PostgreSQL) to the latest revision."""
    from procure.settings import Settings
    from procure.store import migrate
    from procure.store.database import make_engine

    settings = Settings()
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    typer.echo(f"database at revision {migrate.current_revision(engine)}")
    engine.dispose()


@app.command("load-sample")
def load_sample(
    file: Annotated[
        Path | None, typer.Option(help="A council file (TOML); default: sample.")
    ] = None,
) -> None:
    """Load reference data: the sample council, or your own file in the same format."""
    from procure.reference.council_file import load_council
    from procure.services.admin import load_reference_data

    with _app(drain=False) as a:
        counts = load_reference_data(a.ctx, load_council(file), source=str(file or "sample"))
    typer.echo("loaded " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))


@policy_app.command("show")
def policy_show() -> None:
    """Print the approval policy and the matching tolerances in force, in words."""
    from procure.reference.policy_file import load_policy, match_policy_as_text, policy_as_text
    from procure.services.matching_inputs import load_match_policy
    from procure.settings import Settings

    path = Settings().policy_file
    typer.echo(policy_as_text(load_policy(path)))
    typer.echo("")
    typer.echo(match_policy_as_text(load_match_policy(path)))


# -- requisitions ------------------------------------------------------------------------------
@req_app.command("submit")
def requisition_submit(file: Path, as_user: AsUser, as_json: JsonOut = False) -> None:
    """Submit a requisition from a JSON file (see schemas/requisition/v1.json)."""
    from procure.contracts import parse_requisition
    from procure.services import queries, requisitions

    with _app(as_json) as a:
        doc = parse_requisition(_read_json(file, as_json))
        req = requisitions.submit(a.ctx, doc.to_draft(as_user))
        a.drain()
        view = queries.requisition_status(a.ctx, req.id)
    _emit(view, as_json, render.requisition)


@req_app.command("show")
def requisition_show(number: str, as_json: JsonOut = False) -> None:
    """A requisition with its route, who has it now, and its timeline."""
    from procure.services import queries

    with _app(as_json, drain=False) as a:
        view = queries.requisition_status(a.ctx, number)
    _emit(view, as_json, render.requisition)


@req_app.command("list")
def requisition_list(as_user: AsUser, as_json: JsonOut = False) -> None:
    """My requisitions and where each one is."""
    from procure.services import queries

    with _app(as_json, drain=False) as a:
        rows = queries.my_requisitions(a.ctx, as_user)
    _emit(rows, as_json, render.requisitions)


@req_app.command("amend")
def requisition_amend(number: str, file: Path, as_user: AsUser, as_json: JsonOut = False) -> None:
    """Replace a returned or pending requisition's content; it is routed again."""
    from procure.contracts import parse_requisition
    from procure.services import queries, requisitions

    with _app(as_json) as a:
        doc = parse_requisition(_read_json(file, as_json))
        req = requisitions.amend(a.ctx, number, doc.to_draft(as_user), by=as_user)
        a.drain()
        view = queries.requisition_status(a.ctx, req.id)
    _emit(view, as_json, render.requisition)


@req_app.command("choose-supplier")
def requisition_choose_supplier(number: str, supplier: str, as_user: AsUser) -> None:
    """Procurement names the supplier of a requisition that only suggested one."""
    from procure.services import requisitions

    with _app() as a:
        req = requisitions.choose_supplier(a.ctx, number, supplier, by=as_user)
        a.drain()
    typer.echo(f"{req.number}: supplier {supplier} chosen")


@req_app.command("withdraw")
def requisition_withdraw(number: str, as_user: AsUser) -> None:
    from procure.services import requisitions

    with _app() as a:
        req = requisitions.withdraw(a.ctx, number, by=as_user)
    typer.echo(f"{req.number} withdrawn")


def _read_json(file: Path, as_json: bool) -> Any:
    try:
        if file.stat().st_size > 5_000_000:
            raise ValidationFailed([], what=f"{file}: larger than 5 MB")
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        from procure.errors import FieldProblem

        _fail(
            ValidationFailed([FieldProblem("file", "unreadable", str(exc))], what=str(file)),
            as_json,
        )


# -- tasks -------------------------------------------------------------------------------------
@app.command("tasks")
def tasks(as_user: AsUser, as_json: JsonOut = False) -> None:
    """My approval inbox."""
    from procure.services import queries

    with _app(as_json, drain=False) as a:
        rows = queries.inbox(a.ctx, as_user)
    _emit(rows, as_json, render.inbox)


def _act(
    task_id: str, as_user: str, decision: str, reason: str | None, to: str | None, as_json: bool
) -> None:
    from procure.domain.approval import Decision
    from procure.services import approvals

    with _app(as_json) as a:
        result = approvals.decide(
            a.ctx, task_id, by=as_user, decision=Decision(decision), comment=reason, delegate_to=to
        )
    _emit(
        result.__dict__,
        as_json,
        lambda r: f"{r['requisition_number']}: {r['decision']} recorded on task {r['task_id']}",
    )


@task_app.command("approve")
def task_approve(
    task_id: str, as_user: AsUser, reason: str | None = None, as_json: JsonOut = False
) -> None:
    _act(task_id, as_user, "approve", reason, None, as_json)


@task_app.command("reject")
def task_reject(
    task_id: str,
    as_user: AsUser,
    reason: Annotated[str, typer.Option(help="Required: why.")],
    as_json: JsonOut = False,
) -> None:
    _act(task_id, as_user, "reject", reason, None, as_json)


@task_app.command("return")
def task_return(
    task_id: str,
    as_user: AsUser,
    reason: Annotated[str, typer.Option(help="Required: what is needed.")],
    as_json: JsonOut = False,
) -> None:
    _act(task_id, as_user, "return", reason, None, as_json)


@task_app.command("delegate")
def task_delegate(
    task_id: str,
    as_user: AsUser,
    to: Annotated[str, typer.Option()],
    reason: str | None = None,
    as_json: JsonOut = False,
) -> None:
    _act(task_id, as_user, "delegate", reason, to, as_json)


@app.command("escalate")
def escalate(
    today: Annotated[str | None, typer.Option(help="ISO date; default today")] = None,
) -> None:
    """Escalate tasks overdue by the policy's UK working days (the workers run this too)."""
    from procure.services import approvals

    with _app() as a:
        done = approvals.escalate_overdue(a.ctx, date.fromisoformat(today) if today else None)
    typer.echo(f"{len(done)} task(s) escalated")


# -- orders and receipts -------------------------------------------------------------------------
@po_app.command("show")
def po_show(number: str, as_json: JsonOut = False) -> None:
    from procure.services import queries
    from procure.services.matching_views import order_positions

    with _app(as_json, drain=False) as a:
        view = queries.order_view(a.ctx, number)
        billed = {p["line_no"]: p for p in order_positions(a.ctx, view["number"])}
    for ln in view["lines"]:  # billed is recomputed from the match ledger on every read
        ln["billed_quantity"] = billed[ln["line_no"]]["billed"]
        ln["matched"] = billed[ln["line_no"]]["matched"]
    _emit(view, as_json, render.order)


@receipt_app.command("record")
def receipt_record(
    po: str,
    as_user: AsUser,
    line: Annotated[list[str], typer.Option(help="LINE=QTY, e.g. --line 1=5 (repeatable)")],
    is_return: Annotated[bool, typer.Option("--return", help="A return to the supplier")] = False,
    note: str = "",
    as_json: JsonOut = False,
) -> None:
    """Record goods received (or returned) against purchase order lines."""
    from procure.contracts import parse_receipt
    from procure.services import orders, queries

    pairs = [x.split("=", 1) for x in line]
    doc = None
    with _app(as_json) as a:
        doc = parse_receipt(
            {
                "lines": [
                    {
                        "po_line": int(p[0]) if p[0].isdigit() else -1,
                        "quantity": p[1] if len(p) > 1 else "",
                    }
                    for p in pairs
                ],
                "note": note,
                "is_return": is_return,
            }
        )
        qty = [(ln.po_line, -abs(ln.quantity) if is_return else ln.quantity) for ln in doc.lines]
        receipt = orders.record_receipt(a.ctx, po, qty, by=as_user, note=note, is_return=is_return)
        view = queries.order_view(a.ctx, po)
    if not as_json:
        typer.echo(f"recorded {receipt.number}")
    _emit(view, as_json, render.order)


# -- supplier invoices -------------------------------------------------------------------------


PARALLEL_FROM = 200
"""Files from which ``invoice ingest`` reads in one process per core: below it, starting the
processes costs more than they save."""


def _read_upload(path: Path) -> bytes:
    """The file, capped one byte past PROCURE_MAX_UPLOAD_BYTES: an oversize file is then refused
    by intake as ``too_large`` (and kept in quarantine) instead of stopping a whole batch."""
    from procure.services.intake import read_capped
    from procure.settings import Settings

    return read_capped(path, Settings().max_upload_bytes)


@invoice_app.command("parse")
def invoice_parse(file: Path, as_json: JsonOut = False) -> None:
    """Parse and validate one document; exit 0 if accepted, 1 if rejected (findings on stderr)."""
    from procure.einvoice.json_view import outcome_json
    from procure.einvoice.reader import read_document
    from procure.einvoice.schematron import OfficialSchematron
    from procure.settings import Settings

    try:
        where = Settings().schematron_dir
        strict = OfficialSchematron.at(where) if where is not None else None
        outcome = read_document(_read_upload(file), filename=file.name, strict=strict)
    except (OSError, ProcureError) as exc:
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    body = outcome_json(outcome)
    if as_json:
        typer.echo(json.dumps(body, indent=2))
    else:
        typer.echo(render.invoice(body))
    for f in outcome.findings:
        if f.severity == "fatal" or not outcome.accepted:
            at = f" at {f.location}" if f.location else ""
            typer.echo(f"{f.severity} [{f.rule}]{at}: {f.message}", err=True)
    raise typer.Exit(0 if outcome.accepted else 1)


@invoice_app.command("ingest")
def invoice_ingest(
    paths: list[Path],
    as_json: JsonOut = False,
    source: Annotated[str, typer.Option(help="Where the files came from")] = "cli",
    jobs: Annotated[
        int,
        typer.Option(
            help="Processes reading documents; 0: one per core when there are "
            f"{PARALLEL_FROM} files or more, else one"
        ),
    ] = 0,
) -> None:
    """Take in files or folders: originals kept, rejects quarantined, duplicates recognised."""
    from procure.services.intake import Received, ingest_stream

    files = sorted(
        {f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()}
    )
    if jobs <= 0:
        jobs = min(os.cpu_count() or 1, 8) if len(files) >= PARALLEL_FROM else 1
    batches = (
        [Received(_read_upload(f), f.name, source) for f in files[i : i + 100]]
        for i in range(0, len(files), 100)
    )
    results = []
    with (
        _app(as_json) as a,
        typer.progressbar(
            length=len(files), label="ingesting", file=sys.stderr, hidden=as_json
        ) as bar,
    ):
        for stored in ingest_stream(a.ctx, batches, workers=jobs):
            results += stored
            bar.update(len(stored))
    counts = {s: sum(r.status == s for r in results) for s in ("accepted", "rejected", "duplicate")}
    if as_json:
        typer.echo(
            json.dumps({"counts": counts, "documents": [r.as_dict() for r in results]}, indent=2)
        )
        return
    for r in results:
        if r.status != "accepted":
            reasons = "; ".join(
                f"{f['rule']}: {f['message']}" for f in r.findings if f["severity"] == "fatal"
            )[:300]
            extra = f" (duplicate of {r.duplicate_of})" if r.duplicate_of else f": {reasons}"
            typer.echo(f"  {r.status:<9} {r.filename}{extra}")
    typer.echo(", ".join(f"{n} {s}" for s, n in counts.items()))


@invoice_app.command("show")
def invoice_show(document_id: str, as_json: JsonOut = False) -> None:
    """A received document: status, findings, its match decision line by line, its events."""
    from procure.services.intake import invoice_view
    from procure.services.matching_views import match_view

    with _app(as_json, drain=False) as a:
        view = invoice_view(a.ctx, document_id)
        view["matching"] = match_view(a.ctx, view["id"])
    _emit(view, as_json, render_matching.invoice)


@invoice_app.command("quarantine")
def invoice_quarantine(as_json: JsonOut = False) -> None:
    """Rejected documents and why."""
    from procure.services.intake import quarantine

    with _app(as_json, drain=False) as a:
        rows = quarantine(a.ctx)
    _emit(rows, as_json, render.quarantine)


@invoice_app.command("template")
def invoice_template(file: Path) -> None:
    """Write a clean Excel invoice template suppliers can fill in."""
    from procure.einvoice.xlsx import write_template

    write_template(file)
    typer.echo(f"wrote {file}")


# -- runtime -----------------------------------------------------------------------------------
@app.command("worker")
def worker(threads: Annotated[int | None, typer.Option()] = None) -> None:
    """Run the workers until interrupted (RabbitMQ: start as many as you like, anywhere)."""
    from workers.runner import run_worker

    run_worker(threads)


@app.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from entrypoints.api import create_app

    uvicorn.run(create_app(), host=host, port=port)


@token_app.command("create")
def token_create(person: str, label: str = "") -> None:
    """Issue an API token for a person (printed once; only its hash is kept)."""
    from procure.services.admin import issue_token

    with _app(drain=False) as a:
        typer.echo(issue_token(a.ctx, person, label=label))


@app.command("demo")
def demo(
    database: Annotated[
        str, typer.Option(help="SQLite file for the demo (recreated).")
    ] = "procure-demo.db",
) -> None:
    """Run the whole pipeline on a sample council and print a summary."""
    from entrypoints.demo import run_demo

    sys.exit(run_demo(database))


@bench_app.command("requisitions")
def bench_requisitions(
    count: Annotated[int, typer.Option(help="Requisitions per run")] = 2000,
    runs: Annotated[int, typer.Option(help="Measured runs (after one warm-up)")] = 3,
    embedded: Annotated[bool, typer.Option(help="Also measure the embedded default")] = True,
    postgres: Annotated[bool, typer.Option(help="Also measure PostgreSQL + RabbitMQ")] = True,
) -> None:
    """Requisitions/s from submit to approval tasks created, with PostgreSQL's commit rate."""
    from benchmarks.requisitions import main as bench_main

    bench_main(count=count, runs=runs, embedded=embedded, postgres=postgres)


@bench_app.command("intake")
def bench_intake(
    runs: Annotated[int, typer.Option(help="Measured runs (after one warm-up)")] = 5,
    corpus: Annotated[Path, typer.Option(help="The conformance corpus")] = Path("../shared/corpus"),
    postgres: Annotated[
        bool, typer.Option(help="Also measure through the store on PostgreSQL")
    ] = True,
) -> None:
    """Intake documents/s beside the raw lxml floor; lines/s; Excel rows/s; store invoices/s."""
    from benchmarks.intake import main as bench_main

    bench_main(runs=runs, corpus=corpus, postgres=postgres)


@bench_app.command("matching")
def bench_matching(
    orders: Annotated[
        int, typer.Option(help="Orders in the full book (10 invoice lines each)")
    ] = 100_000,
    runs: Annotated[int, typer.Option(help="Measured runs (after one warm-up)")] = 3,
) -> None:
    """Invoice lines/s matched by the engine in memory, and the time of 10x the data."""
    from benchmarks.matching import main as bench_main

    bench_main(orders=orders, runs=runs)


@bench_app.command("matching-db")
def bench_matching_db(
    batch: Annotated[int, typer.Option(help="Invoices matched per run")] = 300,
    runs: Annotated[int, typer.Option(help="Measured runs (after one warm-up)")] = 3,
    per_transaction: Annotated[
        int, typer.Option(help="Invoices per match_invoices transaction (the workers' batch)")
    ] = 200,
) -> None:
    """Invoices/s matched through the database on PostgreSQL (PROCURE_BENCH_DATABASE_URL),
    in batches as the workers do and one by one, alternately."""
    from benchmarks.matching_db import main as bench_main

    bench_main(batch=batch, runs=runs, per_transaction=per_transaction)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
