"""Why a document could not be read at all (as opposed to findings on a readable one)."""

from __future__ import annotations


class UnsupportedDocument(Exception):
    """A well-formed file that is not a document we read (unknown root or namespace, a
    rejected profile such as CII MINIMUM or ZUGFeRD 1.0). ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
