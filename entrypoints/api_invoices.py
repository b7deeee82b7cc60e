"""HTTP endpoints for supplier invoices: upload (UBL, CII or Excel), view, quarantine."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from entrypoints.api import CurrentCaller, Procure
from entrypoints.api_models import error_responses
from procure.domain.reference import Role
from procure.services import intake, matching_views

invoices_router = APIRouter(prefix="/invoices", tags=["supplier invoices"])
FINANCE_ROLES = (Role.FINANCE, Role.PROCUREMENT)


@invoices_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 413, 422),
    summary="Upload a supplier invoice or credit note (the raw file as the request body)",
)
async def upload_invoice(
    request: Request,
    caller: CurrentCaller,
    rt: Procure,
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    """Send the file's bytes as the body (``Content-Type: application/xml`` or the xlsx type).
    The answer says ``accepted``, ``rejected`` (kept in quarantine, with findings naming each
    problem) or ``duplicate`` (the first copy's id). The original bytes are always kept."""
    caller.require_role(*FINANCE_ROLES)
    data = await request.body()
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(
        intake.ingest, rt.app.ctx, data, filename=filename, source="api"
    )
    return result.as_dict()


@invoices_router.get(
    "/quarantine",
    responses=error_responses(401, 403),
    summary="Rejected documents and why",
)
def list_quarantine(caller: CurrentCaller, rt: Procure) -> list[dict[str, Any]]:
    caller.require_role(*FINANCE_ROLES)
    return intake.quarantine(rt.app.ctx)


@invoices_router.get(
    "/{document_id}",
    responses=error_responses(401, 403, 404),
    summary="A received document: status, findings, match decision and events",
)
def get_invoice(document_id: str, caller: CurrentCaller, rt: Procure) -> dict[str, Any]:
    caller.require_role(*FINANCE_ROLES)
    view = intake.invoice_view(rt.app.ctx, document_id)
    view["matching"] = matching_views.match_view(rt.app.ctx, view["id"])
    return view
