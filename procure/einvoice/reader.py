"""Read any supplier document: detect its syntax, parse it safely, validate it.

``read_document(bytes)`` never raises for bad input: every refusal is an outcome with findings
that name the problem (rule id, message, where), so intake can quarantine the file and carry on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from procure.einvoice.collector import collector_paused
from procure.einvoice.errors import UnsupportedDocument
from procure.einvoice.model import Finding, Invoice
from procure.einvoice.validate import validate, with_findings
from procure.einvoice.xml_safety import Limits, XmlRejected, namespace, parse_xml

if TYPE_CHECKING:
    from procure.einvoice.schematron import OfficialSchematron

UBL_NAMESPACES = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CII_NAMESPACES = {
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "urn:ferd:CrossIndustryDocument:invoice:1p0",
}

Syntax = Literal["ubl", "cii", "xlsx"]


@dataclass(frozen=True)
class ReadOutcome:
    data: bytes = field(repr=False, compare=False)
    """The bytes read (not a copy)."""
    syntax: Syntax | None
    document: Invoice | None
    findings: tuple[Finding, ...] = field(default=())

    @property
    def size(self) -> int:
        return len(self.data)

    @cached_property
    def sha256(self) -> str:
        """The file's identity, taken when asked (intake stores and recognises files by it;
        reading and validating do not need it)."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def accepted(self) -> bool:
        return self.document is not None and not any(f.severity == "fatal" for f in self.findings)


def _refused(data: bytes, syntax: Syntax | None, rule: str, message: str) -> ReadOutcome:
    return ReadOutcome(
        data=data,
        syntax=syntax,
        document=None,
        findings=(Finding(rule=rule, severity="fatal", message=message, location=None),),
    )


def read_document(
    data: bytes,
    *,
    filename: str | None = None,
    limits: Limits = Limits(),
    strict: OfficialSchematron | None = None,
) -> ReadOutcome:
    """``strict``: also run the official Schematron on an XML document and add what it finds
    that our rules do not report (see ``procure.einvoice.schematron``)."""
    with collector_paused():
        return _read(data, filename, limits, strict)


def _read(
    data: bytes, filename: str | None, limits: Limits, strict: OfficialSchematron | None
) -> ReadOutcome:
    if data[:4] == b"PK\x03\x04" or (filename or "").lower().endswith((".xlsx", ".xlsm")):
        from procure.einvoice.xlsx import parse_xlsx

        try:
            doc = parse_xlsx(data, max_bytes=limits.max_bytes)
        except UnsupportedDocument as exc:
            return _refused(data, "xlsx", f"PROCURE-XLSX-{exc.code}", exc.message)
        checked = validate(doc)
        return ReadOutcome(data, "xlsx", checked, checked.findings)
    try:
        root = parse_xml(data, limits)
    except XmlRejected as exc:
        return _refused(data, None, f"PROCURE-XML-{exc.code}", exc.message)
    ns = namespace(root)
    try:
        if ns in UBL_NAMESPACES:
            from procure.einvoice.ubl import parse_ubl

            syntax: Syntax = "ubl"
            doc = parse_ubl(root)
        elif ns in CII_NAMESPACES:
            from procure.einvoice.cii import parse_cii

            syntax = "cii"
            doc = parse_cii(root)
        else:
            raise UnsupportedDocument(
                "unknown_document",
                f"root element {root.tag!s} is not a UBL Invoice/CreditNote or a CII "
                "CrossIndustryInvoice",
            )
    except UnsupportedDocument as exc:
        return _refused(data, None, f"PROCURE-DOC-{exc.code}", exc.message)
    checked = validate(doc)
    if strict is not None and syntax != "xlsx":
        extra = strict.missed(root, syntax, checked.findings)
        if extra:
            checked = with_findings(checked, [*checked.findings, *extra])
    return ReadOutcome(data, syntax, checked, checked.findings)
