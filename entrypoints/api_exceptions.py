"""HTTP endpoints for matching: the exception queue and its resolution, an invoice's decision."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from entrypoints.api import CurrentCaller, Procure
from entrypoints.api_models import error_responses
from procure.domain.invoice_match import Resolution
from procure.domain.reference import Role
from procure.services import matching, matching_views

exceptions_router = APIRouter(tags=["matching"])
FINANCE_ROLES = (Role.FINANCE, Role.PROCUREMENT)


class ResolutionIn(BaseModel):
    resolution: Literal["release", "reject", "wait"] = Field(
        description="release: match it as it stands (a variance beyond the re-approval "
        "threshold goes back to the PO's approver); reject: the supplier is told; wait: for "
        "the goods receipt, re-matched when it arrives"
    )
    reason: str = Field(min_length=1, max_length=2000, description="Why (audit trail).")


@exceptions_router.get(
    "/exceptions",
    responses=error_responses(401, 403),
    summary="The matching exception queue (held invoices and why), oldest first",
)
def list_exceptions(
    caller: CurrentCaller,
    rt: Procure,
    state: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
) -> list[dict[str, Any]]:
    caller.require_role(*FINANCE_ROLES)
    return matching_views.exception_queue(rt.app.ctx, state=None if state == "all" else state)


@exceptions_router.get(
    "/exceptions/{exception_id}",
    responses=error_responses(401, 403, 404),
    summary="One matching exception",
)
def get_exception(exception_id: str, caller: CurrentCaller, rt: Procure) -> dict[str, Any]:
    caller.require_role(*FINANCE_ROLES)
    return matching_views.exception_of(rt.app.ctx, exception_id)


@exceptions_router.post(
    "/exceptions/{exception_id}/resolve",
    responses=error_responses(401, 403, 404, 409, 422),
    summary="Release, reject or wait on a held invoice (a reason is required)",
)
def resolve_exception(
    exception_id: str, body: ResolutionIn, caller: CurrentCaller, rt: Procure
) -> dict[str, Any]:
    caller.require_role(*FINANCE_ROLES)
    result = matching.resolve_exception(
        rt.app.ctx,
        exception_id,
        by=caller.id,
        resolution=Resolution(body.resolution),
        reason=body.reason,
    )
    rt.settle()
    return dict(result.__dict__)


@exceptions_router.get(
    "/invoices/{document_id}/matching",
    responses=error_responses(401, 403, 404),
    summary="An invoice's match state, decision line by line with its figures, ledger rows",
)
def get_invoice_matching(document_id: str, caller: CurrentCaller, rt: Procure) -> dict[str, Any]:
    caller.require_role(*FINANCE_ROLES)
    return matching_views.match_view(rt.app.ctx, document_id)
