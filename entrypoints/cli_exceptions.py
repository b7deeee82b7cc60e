"""``procure exceptions``: the matching exception queue on the command line.

``procure exceptions [--all] [--json]`` lists held invoices with why; ``procure exceptions resolve
ID --release|--reject|--wait --reason TEXT --as PERSON`` resolves one; ``procure exceptions export
FILE.xlsx`` writes the queue as a workbook (for the team's spreadsheet habit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from entrypoints import render_matching

exceptions_app = typer.Typer(
    help="Matching exceptions: invoices held for a person, and their resolution.",
    invoke_without_command=True,
)

AsUser = Annotated[str, typer.Option("--as", help="Who is acting (a person id).")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


@exceptions_app.callback()
def exceptions_list(
    ctx: typer.Context,
    as_json: JsonOut = False,
    show_all: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
) -> None:
    """The open exceptions, oldest first, each with its reasons."""
    if ctx.invoked_subcommand is not None:
        return
    from entrypoints.cli import _app, _emit
    from procure.services.matching_views import exception_queue

    with _app(as_json, drain=False) as a:
        rows = exception_queue(a.ctx, state=None if show_all else "open")
    _emit(rows, as_json, render_matching.exceptions)


@exceptions_app.command("resolve")
def exceptions_resolve(
    exception_id: str,
    as_user: AsUser,
    reason: Annotated[str, typer.Option(help="Required: why (kept in the audit trail).")],
    release: Annotated[bool, typer.Option("--release", help="Match it as it stands.")] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="Reject it (the supplier is told).")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the goods receipt.")] = False,
    as_json: JsonOut = False,
) -> None:
    """Release (a large variance goes back to the PO's approver), reject, or wait for goods."""
    from entrypoints.cli import _app, _emit, _fail
    from procure.domain.invoice_match import Resolution
    from procure.errors import FieldProblem, ValidationFailed
    from procure.services import matching

    chosen = [r for r, on in ((Resolution.RELEASE, release), (Resolution.REJECT, reject),
                              (Resolution.WAIT, wait)) if on]  # fmt: skip
    if len(chosen) != 1:
        _fail(
            ValidationFailed(
                [
                    FieldProblem(
                        "resolution", "choose_one", "give one of --release, --reject, --wait"
                    )
                ],
                what="resolution",
            ),
            as_json,
        )
    with _app(as_json) as a:
        result = matching.resolve_exception(
            a.ctx, exception_id, by=as_user, resolution=chosen[0], reason=reason
        )
    _emit(
        result.__dict__,
        as_json,
        lambda r: f"invoice {r['invoice_id']} is now {r['state'].replace('_', ' ')}",
    )


@exceptions_app.command("export")
def exceptions_export(
    file: Path,
    show_all: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
) -> None:
    """Write the exception queue to an Excel workbook."""
    from entrypoints.cli import _app
    from procure.services.matching_views import exception_queue

    with _app(drain=False) as a:
        rows = exception_queue(a.ctx, state=None if show_all else "open")
    write_workbook(rows, file)
    typer.echo(f"wrote {len(rows)} exception(s) to {file}")


COLUMNS = (
    ("Exception", "id"),
    ("State", "state"),
    ("Invoice", "invoice_number"),
    ("Supplier", "supplier_id"),
    ("Issue date", "issue_date"),
    ("Payable", "payable"),
    ("Currency", "currency"),
    ("Reasons", "reasons"),
    ("Why", "summary"),
    ("Queued for", "role"),
    ("Since", "created_at"),
    ("Resolution", "resolution"),
    ("Resolution reason", "resolution_reason"),
    ("Resolved by", "resolved_by"),
    ("Invoice id", "invoice_id"),
)


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @, or a tab/CR before one) is
    written as text with a leading apostrophe; numbers stay numbers."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_workbook(rows: list[dict[str, Any]], file: Path) -> None:
    from decimal import Decimal

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Exceptions"
    ws.append([title for title, _ in COLUMNS])
    for row in rows:
        values = []
        for _, key in COLUMNS:
            value = row.get(key)
            values.append(Decimal(value) if key == "payable" and value is not None else value)
        ws.append([safe_cell(v) for v in values])
    ws.freeze_panes = "A2"
    wb.save(file)
