"""The API's error responses and its request size limit.

Role: every error leaves the API in one JSON shape, ``{"error": {"code", "message", "problems"?}}``:
``procure.errors`` exceptions with their stable codes (``STATUS_OF`` maps them to HTTP statuses),
401 for ``NotAuthenticated`` (with ``WWW-Authenticate``), 422 for request bodies that do not parse
(field paths numbered from 1, ``lines[1].quantity``, as ``procure.contracts`` does), Starlette's
HTTP errors and anything unexpected (logged, 500). ``BodySizeLimit`` refuses bodies that are too
large with 413 in the same shape. ``add_error_handlers`` installs the handlers on an application.

Imports: fastapi/starlette, ``procure.contracts`` and ``procure.errors`` only (never
``entrypoints.api``, which imports this module).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from procure.contracts import field_path
from procure.errors import (
    FieldProblem,
    InvalidTransition,
    NotAllowed,
    NotFound,
    OverReceipt,
    ProcureError,
    ValidationFailed,
)

__all__ = [
    "HTTP_CODES",
    "MAX_BODY_BYTES",
    "MAX_UPLOAD",
    "STATUS_OF",
    "BodySizeLimit",
    "NotAuthenticated",
    "add_error_handlers",
    "request_problems",
]

# The API's logger, so that unexpected errors are logged where they were before this split.
log = logging.getLogger("procure.api")

MAX_BODY_BYTES = 1_048_576
MAX_UPLOAD = 20 * 1024 * 1024
STATUS_OF: tuple[tuple[type[ProcureError], int], ...] = (
    (ValidationFailed, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (NotFound, status.HTTP_404_NOT_FOUND),
    (NotAllowed, status.HTTP_403_FORBIDDEN),
    (InvalidTransition, status.HTTP_409_CONFLICT),
    (OverReceipt, status.HTTP_409_CONFLICT),
)


class NotAuthenticated(Exception):
    """No bearer token, or one that names nobody (an API concern, not a business error)."""

    def __init__(self, message: str, *, invalid: bool) -> None:
        super().__init__(message)
        self.message = message
        self.invalid = invalid


# -- errors ----------------------------------------------------------------------------------------
def _error(
    status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": body}, status_code=status_code, headers=headers)


async def _procure_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProcureError)
    code = next((s for cls, s in STATUS_OF if isinstance(exc, cls)), status.HTTP_400_BAD_REQUEST)
    return _error(code, exc.as_dict())


async def _not_authenticated(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotAuthenticated)
    challenge = 'Bearer error="invalid_token"' if exc.invalid else "Bearer"
    body = {"code": "not_authenticated", "message": exc.message}
    return _error(status.HTTP_401_UNAUTHORIZED, body, {"WWW-Authenticate": challenge})


def request_problems(exc: RequestValidationError) -> list[FieldProblem]:
    """FastAPI's errors as ``FieldProblem``s with contract paths (``lines[1].quantity``)."""
    problems = []
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        if loc and loc[0] in {"body", "query", "path", "header", "cookie"}:
            loc = loc[1:]
        where = "document" if e.get("type") == "json_invalid" else field_path(loc)
        problems.append(FieldProblem(where, str(e.get("type")), str(e.get("msg"))))
    return problems


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    refused = ValidationFailed(request_problems(exc), what="request")
    return _error(status.HTTP_422_UNPROCESSABLE_CONTENT, refused.as_dict())


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return _error(
        exc.status_code, {"code": code, "message": str(exc.detail)}, dict(exc.headers or {})
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    body = {"code": "internal_error", "message": "something went wrong; it has been logged"}
    return _error(status.HTTP_500_INTERNAL_SERVER_ERROR, body)


# -- request size ----------------------------------------------------------------------------------
class BodySizeLimit:
    """Refuse request bodies above ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, upload_max_bytes: int = MAX_UPLOAD
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Invoice files may be larger than JSON bodies; everything else keeps the 1 MB limit.
        is_upload = scope["path"].rstrip("/") == "/invoices" and scope["method"] == "POST"
        limit = self.upload_max_bytes if is_upload else self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read the body here, up to the limit, then replay it.
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        body = {
            "code": "body_too_large",
            "message": f"request body larger than {limit:,} bytes",
        }
        await _error(status.HTTP_413_CONTENT_TOO_LARGE, body)(scope, receive, send)


def add_error_handlers(api: FastAPI) -> None:
    """Answer every error in the one JSON shape (most specific handler first, as registered)."""
    api.add_exception_handler(ProcureError, _procure_error)
    api.add_exception_handler(NotAuthenticated, _not_authenticated)
    api.add_exception_handler(RequestValidationError, _request_invalid)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(Exception, _unexpected)
