"""The one exception tree of procure, with stable codes a clerk (or a program) can act on.

Imports: the standard library only, so that every layer can raise and catch these.

    ProcureError (code)
    ├── ValidationFailed          input names a field and what is wrong with it (many at once)
    ├── NotFound                  an id or number that does not exist
    ├── NotAllowed                the actor may not do this (segregation of duties, role, limit)
    ├── InvalidTransition         the document is not in a state where this action applies
    ├── OverReceipt               a goods receipt above what the order allows
    └── ConfigurationError        a policy or reference file that cannot be used

Every error has a stable ``code`` (``snake_case``) that the CLI prints and the API returns
beside a human message; codes never change meaning once released.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of an input, e.g. ``lines[2].quantity``: must be above zero."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class ProcureError(Exception):
    """Base of every error procure raises on purpose."""

    code = "procure_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class ValidationFailed(ProcureError):
    """Input was refused; ``problems`` names each field and what is wrong with it."""

    code = "validation_failed"

    def __init__(self, problems: list[FieldProblem], *, what: str = "input") -> None:
        self.problems = list(problems)
        lines = "; ".join(f"{p.field}: {p.message}" for p in self.problems)
        super().__init__(f"{what} refused: {lines}")

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "problems": [p.as_dict() for p in self.problems],
        }


class NotFound(ProcureError):
    code = "not_found"


class NotAllowed(ProcureError):
    code = "not_allowed"


class InvalidTransition(ProcureError):
    code = "invalid_transition"


class OverReceipt(ProcureError):
    code = "over_receipt"


class ConfigurationError(ProcureError):
    code = "configuration_error"
