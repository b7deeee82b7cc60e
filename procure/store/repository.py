"""Queries and writes over one session: what the services need from the database, by name.

Imports: sqlalchemy/sqlmodel, ``procure.store`` and ``procure.domain``. Bulk writes use
SQLAlchemy Core ``insert`` with lists of rows (one round trip per table per batch).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import JSON, delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session
from sqlmodel import col

from procure.domain.approval import ApprovalTask, TaskState
from procure.domain.calendar import uk_date
from procure.domain.events import Event
from procure.domain.order import GoodsReceipt, PurchaseOrder
from procure.domain.policy import RelatedSpend
from procure.domain.reference import ReferenceData
from procure.domain.requisition import LIVE_STATES, Requisition
from procure.errors import NotFound
from procure.store import mapping
from procure.store import tables as t

if TYPE_CHECKING:
    import psycopg

REFERENCE_TABLES: tuple[type[Any], ...] = (
    t.DelegationRow,
    t.CategoryRow,
    t.SupplierRow,
    t.VatCodeRow,
    t.GLCodeRow,
    t.CostCentreRow,
    t.PersonRow,
)


class JsonText(str):
    """A JSON column's value already serialised (e.g. by pydantic's ``model_dump_json``), for
    ``bulk_insert`` to pass through instead of encoding a dict again."""


def bulk_insert(session: Session, table: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL (one stream, no per-row statement), executemany
    elsewhere. Rows are plain column → value dicts; JSON columns are serialised here, unless
    the value is ``JsonText`` (serialised already)."""
    if not rows:
        return
    core = table.__table__
    if session.get_bind().dialect.name != "postgresql":
        decoded = [
            {c: json.loads(v) if isinstance(v, JsonText) else v for c, v in row.items()}
            for row in rows
        ]
        session.execute(insert(table), decoded)
        return
    columns = list(rows[0])
    json_columns = {c.name for c in core.columns if isinstance(c.type, JSON)}
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    raw = cast("psycopg.Connection[Any]", dbapi)
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur, cur.copy(f"COPY {core.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(v)
                    if c in json_columns and v is not None and not isinstance(v, JsonText)
                    else v
                    for c in columns
                    for v in (row[c],)
                ]
            )


# -- reference data ----------------------------------------------------------------------------
def load_reference(session: Session) -> ReferenceData:
    def rows(table: type[Any]) -> list[Any]:
        return list(session.scalars(select(table)))

    return mapping.reference_from_rows(
        rows(t.PersonRow),
        rows(t.CostCentreRow),
        rows(t.GLCodeRow),
        rows(t.VatCodeRow),
        rows(t.SupplierRow),
        rows(t.CategoryRow),
        rows(t.DelegationRow),
    )


def reference_stamp(session: Session) -> int | None:
    """Id of the latest ReferenceDataLoaded event: changes whenever reference data is replaced."""
    stmt = select(func.max(t.AuditEventRow.id)).where(
        col(t.AuditEventRow.event_name) == "ReferenceDataLoaded"
    )
    return session.scalar(stmt)


def replace_reference(session: Session, ref: ReferenceData) -> None:
    """Make the reference tables hold exactly ``ref`` (documents keep their own copies)."""
    for table in REFERENCE_TABLES:
        session.execute(delete(table))
    session.add_all(mapping.reference_to_rows(ref))
    session.flush()


# -- numbering -------------------------------------------------------------------------------
def next_numbers(session: Session, prefix: str, year: int, count: int = 1) -> list[int]:
    """Reserve ``count`` consecutive numbers; gap-free because it commits with the documents."""
    stmt = (
        update(t.NumberSequenceRow)
        .where(
            col(t.NumberSequenceRow.prefix) == prefix,
            col(t.NumberSequenceRow.year) == year,
        )
        .values(last_value=col(t.NumberSequenceRow.last_value) + count)
        .returning(col(t.NumberSequenceRow.last_value))
    )
    last = session.execute(stmt).scalar_one_or_none()
    if last is None:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            session.execute(
                pg_insert(t.NumberSequenceRow)
                .values(prefix=prefix, year=year, last_value=0)
                .on_conflict_do_nothing()
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            session.execute(
                sqlite_insert(t.NumberSequenceRow)
                .values(prefix=prefix, year=year, last_value=0)
                .on_conflict_do_nothing()
            )
        last = session.execute(stmt).scalar_one()
    return list(range(last - count + 1, last + 1))


def format_number(prefix: str, year: int, value: int) -> str:
    return f"{prefix}-{year}-{value:06d}"


# -- audit trail -------------------------------------------------------------------------------
def append_events(session: Session, events: Iterable[Event]) -> None:
    values = [mapping.event_values(e) for e in events]
    if values:
        bulk_insert(session, t.AuditEventRow, values)


def events_for(session: Session, entity_ids: Sequence[str]) -> list[t.AuditEventRow]:
    stmt = (
        select(t.AuditEventRow)
        .where(col(t.AuditEventRow.entity_id).in_(entity_ids))
        .order_by(col(t.AuditEventRow.id))
    )
    return list(session.scalars(stmt))


# -- requisitions ------------------------------------------------------------------------------
def insert_requisitions(session: Session, reqs: Sequence[Requisition]) -> None:
    if not reqs:
        return
    now = reqs[0].submitted_at
    bulk_insert(
        session,
        t.RequisitionRow,
        [{**mapping.requisition_row_values(r), "updated_at": now, "route": None} for r in reqs],
    )
    lines = [v for r in reqs for v in mapping.requisition_line_values(r)]
    bulk_insert(session, t.RequisitionLineRow, lines)


def update_requisition(
    session: Session,
    req: Requisition,
    *,
    at: datetime,
    route: dict[str, Any] | None = None,
    replace_lines: bool = False,
) -> None:
    values = {**mapping.requisition_row_values(req), "updated_at": at}
    if route is not None:
        values["route"] = route
    session.execute(
        update(t.RequisitionRow).where(col(t.RequisitionRow.id) == req.id).values(values)
    )
    if replace_lines:
        session.execute(
            delete(t.RequisitionLineRow).where(col(t.RequisitionLineRow.requisition_id) == req.id)
        )
        session.execute(insert(t.RequisitionLineRow), mapping.requisition_line_values(req))


def update_routed_requisitions(
    session: Session,
    updates: Sequence[tuple[Requisition, dict[str, Any] | None]],
    *,
    at: datetime,
) -> None:
    """Bulk UPDATE by primary key (one executemany) of state, step and route after routing."""
    values = [
        {
            "id": req.id,
            "approval_state": req.approval_state.value,
            "current_step": req.current_step,
            "updated_at": at,
            **({"route": route} if route is not None else {}),
        }
        for req, route in updates
    ]
    with_route = [v for v in values if "route" in v]
    without = [v for v in values if "route" not in v]
    for chunk in (with_route, without):
        if chunk:
            session.execute(update(t.RequisitionRow), chunk)


def find_requisition_row(session: Session, key: str) -> t.RequisitionRow:
    """By id or by number (``REQ-2026-000001``)."""
    by_number = key.upper().startswith("REQ-")
    column = col(t.RequisitionRow.number) if by_number else col(t.RequisitionRow.id)
    value = key.upper() if by_number else key
    row = session.scalars(select(t.RequisitionRow).where(column == value)).first()
    if row is None:
        raise NotFound(f"no requisition {key}")
    return row


def get_requisitions(
    session: Session, ids: Sequence[str], *, for_update: bool = False
) -> list[Requisition]:
    if not ids:
        return []
    # Core rows, not ORM instances: routing reads hundreds at a time and never changes rows.
    req_table, line_table = t.RequisitionRow.__table__, t.RequisitionLineRow.__table__  # type: ignore[attr-defined]
    stmt = select(req_table).where(req_table.c.id.in_(list(ids))).order_by(req_table.c.id)
    if for_update:
        stmt = stmt.with_for_update()
    rows = list(session.execute(stmt))
    lines: dict[str, list[Any]] = {r.id: [] for r in rows}
    for ln in session.execute(
        select(line_table).where(line_table.c.requisition_id.in_(list(lines)))
    ):
        lines[ln.requisition_id].append(ln)
    return [mapping.requisition_from_rows(r, lines[r.id]) for r in rows]  # type: ignore[arg-type]


def get_requisition(session: Session, key: str, *, for_update: bool = False) -> Requisition:
    row = find_requisition_row(session, key)
    [req] = get_requisitions(session, [row.id], for_update=for_update)
    return req


def requisition_route(session: Session, req_id: str) -> dict[str, Any] | None:
    return session.scalar(
        select(col(t.RequisitionRow.route)).where(col(t.RequisitionRow.id) == req_id)
    )


def related_spend(
    session: Session, pairs: set[tuple[str, str | None]], since: datetime
) -> tuple[list[RelatedSpend], dict[str, str]]:
    """Live requisitions of the given (requester, supplier) pairs submitted since ``since``,
    and their numbers by id (for showing which requisitions were added together)."""
    if not pairs:
        return [], {}
    R = t.RequisitionRow  # noqa: N806 - table alias
    stmt = select(
        col(R.id),
        col(R.number),
        col(R.requester_id),
        col(R.supplier_id),
        col(R.net_total),
        col(R.submitted_at),
    ).where(
        tuple_(col(R.requester_id), col(R.supplier_id)).in_(sorted(pairs)),
        col(R.submitted_at) >= since,
        col(R.approval_state).in_([s.value for s in LIVE_STATES]),
    )
    rows = [r for r in session.execute(stmt) if (r.requester_id, r.supplier_id) in pairs]
    spend = [
        RelatedSpend(
            requisition_id=r.id,
            requester_id=r.requester_id,
            supplier_id=r.supplier_id,
            net_total=r.net_total,
            submitted_on=uk_date(r.submitted_at),
        )
        for r in rows
    ]
    return spend, {r.id: r.number for r in rows}


def requisitions_of(
    session: Session, requester_id: str, limit: int = 200
) -> list[t.RequisitionRow]:
    stmt = (
        select(t.RequisitionRow)
        .where(col(t.RequisitionRow.requester_id) == requester_id)
        .order_by(col(t.RequisitionRow.submitted_at).desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


# -- tasks -----------------------------------------------------------------------------------
def insert_tasks(session: Session, tasks: Sequence[ApprovalTask]) -> None:
    if tasks:
        bulk_insert(session, t.ApprovalTaskRow, [mapping.task_values(x) for x in tasks])


def update_task(session: Session, task: ApprovalTask) -> None:
    session.execute(
        update(t.ApprovalTaskRow)
        .where(col(t.ApprovalTaskRow.id) == task.id)
        .values(mapping.task_values(task))
    )


def get_task(session: Session, task_id: str, *, for_update: bool = False) -> ApprovalTask:
    stmt = select(t.ApprovalTaskRow).where(col(t.ApprovalTaskRow.id) == task_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound(f"no approval task {task_id}")
    return mapping.task_from_row(row)


def tasks_of_requisition(session: Session, req_id: str) -> list[ApprovalTask]:
    stmt = (
        select(t.ApprovalTaskRow)
        .where(col(t.ApprovalTaskRow.requisition_id) == req_id)
        .order_by(col(t.ApprovalTaskRow.created_at), col(t.ApprovalTaskRow.step_no))
    )
    return [mapping.task_from_row(r) for r in session.scalars(stmt)]


def tasks_with_state(
    session: Session,
    state: TaskState,
    *,
    assignee_id: str | None = None,
    requisition_ids: Sequence[str] | None = None,
) -> list[ApprovalTask]:
    stmt = select(t.ApprovalTaskRow).where(col(t.ApprovalTaskRow.state) == state.value)
    if assignee_id is not None:
        stmt = stmt.where(col(t.ApprovalTaskRow.assignee_id) == assignee_id)
    if requisition_ids is not None:
        stmt = stmt.where(col(t.ApprovalTaskRow.requisition_id).in_(list(requisition_ids)))
    stmt = stmt.order_by(col(t.ApprovalTaskRow.created_at))
    return [mapping.task_from_row(r) for r in session.scalars(stmt)]


# -- purchase orders and receipts ----------------------------------------------------------------
def insert_order(session: Session, po: PurchaseOrder) -> None:
    row, lines = mapping.order_rows(po)
    session.execute(insert(t.PurchaseOrderRow), [row.model_dump()])
    session.execute(insert(t.PurchaseOrderLineRow), [ln.model_dump() for ln in lines])


def get_order(session: Session, key: str, *, for_update: bool = False) -> PurchaseOrder:
    """By number (``PO-2026-000001``), id, or the requisition's id."""
    cond = (
        col(t.PurchaseOrderRow.number) == key.upper()
        if key.upper().startswith("PO-")
        else (col(t.PurchaseOrderRow.id) == key) | (col(t.PurchaseOrderRow.requisition_id) == key)
    )
    stmt = select(t.PurchaseOrderRow).where(cond)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound(f"no purchase order {key}")
    lines = list(
        session.scalars(
            select(t.PurchaseOrderLineRow).where(
                col(t.PurchaseOrderLineRow.purchase_order_id) == row.id
            )
        )
    )
    return mapping.order_from_rows(row, lines)


def order_exists_for(session: Session, requisition_id: str) -> bool:
    stmt = select(col(t.PurchaseOrderRow.id)).where(
        col(t.PurchaseOrderRow.requisition_id) == requisition_id
    )
    return session.scalar(stmt) is not None


def save_receipt(session: Session, po: PurchaseOrder, receipt: GoodsReceipt) -> None:
    row, lines = mapping.receipt_rows(receipt)
    session.execute(insert(t.GoodsReceiptRow), [row.model_dump()])
    session.execute(insert(t.GoodsReceiptLineRow), [ln.model_dump() for ln in lines])
    session.execute(
        update(t.PurchaseOrderRow)
        .where(col(t.PurchaseOrderRow.id) == po.id)
        .values(receipt_state=po.receipt_state.value, status=po.status.value)
    )
    for ln in po.lines:
        session.execute(
            update(t.PurchaseOrderLineRow)
            .where(
                col(t.PurchaseOrderLineRow.purchase_order_id) == po.id,
                col(t.PurchaseOrderLineRow.line_no) == ln.line_no,
            )
            .values(received_quantity=ln.received_quantity)
        )
    session.flush()


def receipts_of(
    session: Session, po_id: str
) -> list[tuple[t.GoodsReceiptRow, list[t.GoodsReceiptLineRow]]]:
    rows = list(
        session.scalars(
            select(t.GoodsReceiptRow)
            .where(col(t.GoodsReceiptRow.purchase_order_id) == po_id)
            .order_by(col(t.GoodsReceiptRow.recorded_at))
        )
    )
    out = []
    for r in rows:
        lines = list(
            session.scalars(
                select(t.GoodsReceiptLineRow).where(
                    col(t.GoodsReceiptLineRow.goods_receipt_id) == r.id
                )
            )
        )
        out.append((r, lines))
    return out


# -- access ------------------------------------------------------------------------------------
def save_token(session: Session, row: t.ApiTokenRow) -> None:
    session.add(row)


def person_for_token_hash(session: Session, token_hash: str) -> str | None:
    stmt = select(col(t.ApiTokenRow.person_id)).where(
        col(t.ApiTokenRow.token_hash) == token_hash,
        col(t.ApiTokenRow.revoked_at).is_(None),
    )
    return session.scalar(stmt)
