"""The HTTP API (FastAPI): requisitions, approval tasks, purchase orders and goods receipts.

``create_app()`` builds the application; nothing is built at import time. Without an ``App`` it
bootstraps the composition root in the lifespan (and closes it on shutdown); tests pass their own.

- Authentication: ``Authorization: Bearer <token>`` (``procure token create``; only its hash is
  stored). Missing or unknown tokens, and tokens of leavers, get 401 with ``WWW-Authenticate``.
- Authorisation is the services' (segregation of duties, viewing rights); the API adds one role
  rule: only requisitioners (or admins) submit requisitions.
- Errors: one JSON shape, ``{"error": {"code", "message", "problems"?}}``, with the stable codes
  of ``procure.errors``; request bodies that do not parse give the same 422 shape with field
  paths numbered from 1 (``lines[1].quantity``), as ``procure.contracts`` does. The handlers and
  the request size limit are in ``entrypoints.api_errors``.
- On the embedded broker a state-changing call drains the in-process queue before it answers,
  so the follow-up work (routing, next step, purchase order) is visible at once; on RabbitMQ the
  workers do it.

Imports: fastapi/starlette, ``procure`` services and contracts, ``workers.bootstrap`` and the
other ``entrypoints.api_*`` modules.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from entrypoints import api_models as m
from entrypoints.api_errors import (
    MAX_BODY_BYTES,
    BodySizeLimit,
    NotAuthenticated,
    add_error_handlers,
)
from entrypoints.api_periodic import run_periodic
from procure.contracts import DecisionIn, ReceiptIn, RequisitionIn
from procure.domain.approval import Decision
from procure.domain.reference import Person, Role
from procure.errors import FieldProblem, NotAllowed, ValidationFailed
from procure.services import admin, approvals, orders, queries, requisitions
from workers.bootstrap import App

log = logging.getLogger("procure.api")


# -- the running application and the caller ---------------------------------------------------
@dataclass
class Runtime:
    """The composition root's ``App`` as the API holds it, with a lock for draining."""

    app: App
    drain_lock: threading.Lock

    def settle(self) -> None:
        """Embedded broker: finish the follow-up work before answering (one drain at a time)."""
        if self.app.embedded:
            with self.drain_lock:
                self.app.drain()


@dataclass(frozen=True)
class Caller:
    """The authenticated person."""

    id: str
    person: Person

    def require_role(self, *roles: str) -> None:
        if not any(self.person.has_role(r) for r in (*roles, Role.ADMIN)):
            raise NotAllowed(
                f"{self.id} needs the role {' or '.join(roles)} for this", code="role_required"
            )


bearer = HTTPBearer(
    auto_error=False, description="An API token from `procure token create <person>`."
)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def current_caller(
    rt: Annotated[Runtime, Depends(runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("send Authorization: Bearer <token>", invalid=False)
    person_id = admin.person_for_token(rt.app.ctx, credentials.credentials)
    person = admin.reference_data(rt.app.ctx).people.get(person_id) if person_id else None
    if person is None or not person.active:
        raise NotAuthenticated(
            "the token is not valid (unknown, revoked or a leaver's)", invalid=True
        )
    return Caller(person.id, person)


Procure = Annotated[Runtime, Depends(runtime)]
CurrentCaller = Annotated[Caller, Depends(current_caller)]


# -- requisitions ------------------------------------------------------------------------------
requisitions_router = APIRouter(prefix="/requisitions", tags=["requisitions"])


@requisitions_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=m.RequisitionStatusOut,
    responses=m.error_responses(401, 403, 413, 422),
    summary="Submit a requisition",
)
def submit_requisition(
    body: RequisitionIn, caller: CurrentCaller, rt: Procure, response: Response
) -> dict[str, Any]:
    """Submit as the authenticated person; answers with its status view (route included)."""
    caller.require_role(Role.REQUISITIONER)
    req = requisitions.submit(rt.app.ctx, body.to_draft(caller.id))
    rt.settle()
    response.headers["Location"] = f"/requisitions/{req.number}"
    return queries.requisition_status(rt.app.ctx, req.id, viewer=caller.id)


@requisitions_router.get(
    "",
    response_model=list[m.RequisitionSummaryOut],
    responses=m.error_responses(401, 422),
    summary="List my requisitions",
)
def list_requisitions(
    caller: CurrentCaller,
    rt: Procure,
    mine: Annotated[bool, Query(description="Only true is supported: your own")] = True,
) -> list[dict[str, Any]]:
    if not mine:
        raise ValidationFailed(
            [FieldProblem("mine", "unsupported", "only your own requisitions can be listed")],
            what="query",
        )
    return queries.my_requisitions(rt.app.ctx, caller.id)


@requisitions_router.get(
    "/{number}",
    response_model=m.RequisitionStatusOut,
    responses=m.error_responses(401, 403, 404),
    summary="A requisition with its route and timeline",
)
def get_requisition(number: str, caller: CurrentCaller, rt: Procure) -> dict[str, Any]:
    """Its requester, its approvers, and finance, procurement or admin staff may see it."""
    return queries.requisition_status(rt.app.ctx, number, viewer=caller.id)


@requisitions_router.put(
    "/{number}",
    response_model=m.RequisitionStatusOut,
    responses=m.error_responses(401, 403, 404, 409, 413, 422),
    summary="Amend a returned or pending requisition",
)
def amend_requisition(
    number: str, body: RequisitionIn, caller: CurrentCaller, rt: Procure
) -> dict[str, Any]:
    """Replace its content (requester only); open tasks are cancelled and it is routed afresh."""
    req = requisitions.amend(rt.app.ctx, number, body.to_draft(caller.id), by=caller.id)
    rt.settle()
    return queries.requisition_status(rt.app.ctx, req.id, viewer=caller.id)


@requisitions_router.post(
    "/{number}/withdraw",
    response_model=m.RequisitionStatusOut,
    responses=m.error_responses(401, 403, 404, 409),
    summary="Withdraw a requisition",
)
def withdraw_requisition(number: str, caller: CurrentCaller, rt: Procure) -> dict[str, Any]:
    req = requisitions.withdraw(rt.app.ctx, number, by=caller.id)
    rt.settle()
    return queries.requisition_status(rt.app.ctx, req.id, viewer=caller.id)


# -- approval tasks ------------------------------------------------------------------------------
tasks_router = APIRouter(prefix="/tasks", tags=["approval tasks"])


@tasks_router.get(
    "",
    response_model=list[m.InboxTaskOut],
    responses=m.error_responses(401),
    summary="My open approval tasks",
)
def inbox(caller: CurrentCaller, rt: Procure) -> list[dict[str, Any]]:
    return queries.inbox(rt.app.ctx, caller.id)


@tasks_router.post(
    "/{task_id}/decision",
    response_model=m.DecisionOut,
    responses=m.error_responses(401, 403, 404, 409, 413, 422),
    summary="Approve, reject, return or delegate a task",
)
def decide(task_id: str, body: DecisionIn, caller: CurrentCaller, rt: Procure) -> dict[str, Any]:
    """Reject and return need a reason; delegate needs ``delegate_to``. Only the assignee acts,
    and never on a requisition they raised (``self_approval``)."""
    decision = Decision(body.decision)
    _check_decision_shape(decision, body)
    result = approvals.decide(
        rt.app.ctx,
        task_id,
        by=caller.id,
        decision=decision,
        comment=body.reason,
        delegate_to=body.delegate_to,
    )
    rt.settle()
    return asdict(result)


def _check_decision_shape(decision: Decision, body: DecisionIn) -> None:
    problems: list[FieldProblem] = []
    if decision is Decision.REJECT and not (body.reason or "").strip():
        problems.append(FieldProblem("reason", "missing", "a rejection needs a reason"))
    if decision is Decision.RETURN and not (body.reason or "").strip():
        problems.append(FieldProblem("reason", "missing", "say what information is needed"))
    if decision is Decision.DELEGATE and not body.delegate_to:
        problems.append(FieldProblem("delegate_to", "missing", "say who the task goes to"))
    if decision is not Decision.DELEGATE and body.delegate_to:
        problems.append(FieldProblem("delegate_to", "unexpected", "only for decision=delegate"))
    if problems:
        raise ValidationFailed(problems, what="decision")


# -- purchase orders and goods receipts ----------------------------------------------------------
orders_router = APIRouter(prefix="/purchase-orders", tags=["purchase orders"])


@orders_router.get(
    "/{number}",
    response_model=m.PurchaseOrderOut,
    responses=m.error_responses(401, 403, 404),
    summary="A purchase order with its receipts",
)
def get_order(number: str, caller: CurrentCaller, rt: Procure) -> dict[str, Any]:
    return queries.order_view(rt.app.ctx, number, viewer=caller.id)


@orders_router.post(
    "/{number}/receipts",
    status_code=status.HTTP_201_CREATED,
    response_model=m.ReceiptRecordedOut,
    responses=m.error_responses(401, 403, 404, 409, 413, 422),
    summary="Record goods received, or returned to the supplier",
)
def record_receipt(
    number: str, body: ReceiptIn, caller: CurrentCaller, rt: Procure
) -> dict[str, Any]:
    """The order's requester or a receiver records. For a return (``is_return``) give the
    quantities sent back; they are recorded as negative. Above the order's quantity plus the
    over-receipt allowance is refused whole (409 ``over_receipt``)."""
    quantities = [
        (ln.po_line, -abs(ln.quantity) if body.is_return else ln.quantity) for ln in body.lines
    ]
    receipt = orders.record_receipt(
        rt.app.ctx,
        number,
        quantities,
        by=caller.id,
        received_on=body.received_on,
        note=body.note,
        is_return=body.is_return,
    )
    rt.settle()
    view = queries.order_view(rt.app.ctx, number, viewer=caller.id)
    return {"receipt": receipt.number, "is_return": receipt.is_return, "purchase_order": view}


# -- identity and health -------------------------------------------------------------------------
system_router = APIRouter(tags=["system"])


@system_router.get(
    "/me", response_model=m.MeOut, responses=m.error_responses(401), summary="Who I am"
)
def me(caller: CurrentCaller) -> dict[str, Any]:
    p = caller.person
    return {
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "roles": sorted(p.roles),
        "approval_limit": str(p.approval_limit),
        "line_manager": p.line_manager_id,
        "department": p.department,
    }


@system_router.get(
    "/health",
    response_model=m.HealthOut,
    responses={503: {"model": m.HealthOut, "description": "The database cannot be reached"}},
    summary="Database reachable, and which broker (no authentication)",
)
def health(rt: Procure) -> JSONResponse:
    try:
        with rt.app.db.reading() as session:
            session.execute(text("select 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        log.warning("health: database unreachable: %s", exc)
        database = "unreachable"
    body = m.HealthOut(
        status="ok" if database == "ok" else "unavailable",
        database=database,
        dialect=rt.app.db.dialect,
        broker="embedded" if rt.app.embedded else "rabbitmq",
    )
    code = status.HTTP_200_OK if database == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(body.model_dump(), status_code=code)


# -- the application factory ---------------------------------------------------------------------
def create_app(app: App | None = None, *, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The FastAPI application; ``app`` (tests) is used as given, else bootstrapped on startup."""

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        if app is not None:  # the caller owns it (and closes it)
            yield
            return
        from starlette.concurrency import run_in_threadpool

        from workers.bootstrap import bootstrap

        owned = await run_in_threadpool(bootstrap)
        rt = Runtime(owned, threading.Lock())
        api.state.runtime = rt
        periodic: asyncio.Task[None] | None = None
        try:
            if owned.embedded:  # work a previous run left pending, then the worker's rounds
                await run_in_threadpool(owned.recover)
                await run_in_threadpool(rt.settle)
                periodic = asyncio.create_task(run_periodic(owned, rt.settle))
            yield
        finally:
            if periodic is not None:
                periodic.cancel()
                with suppress(asyncio.CancelledError):
                    await periodic
            await run_in_threadpool(owned.close)

    api = FastAPI(
        title="procure",
        summary="E-procurement: requisitions, approvals, purchase orders and goods receipts.",
        version="1",
        lifespan=lifespan,
        openapi_tags=[
            {"name": "requisitions", "description": "Raise, follow, amend and withdraw."},
            {"name": "approval tasks", "description": "My inbox, and decisions on tasks."},
            {"name": "purchase orders", "description": "Orders and goods receipts."},
            {"name": "supplier invoices", "description": "Upload, view and quarantine."},
            {"name": "matching", "description": "Match decisions and the exception queue."},
            {"name": "system", "description": "Identity and health."},
        ],
    )
    if app is not None:  # usable before (or without) the lifespan, e.g. a client not in `with`
        api.state.runtime = Runtime(app, threading.Lock())
    api.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    add_error_handlers(api)
    from entrypoints.api_exceptions import exceptions_router
    from entrypoints.api_invoices import invoices_router

    for router in (
        requisitions_router,
        tasks_router,
        orders_router,
        system_router,
        invoices_router,
        exceptions_router,
    ):
        api.include_router(router)
    return api
