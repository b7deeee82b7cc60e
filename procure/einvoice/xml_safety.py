"""Hardened XML loading for supplier documents (lxml).

Entity resolution, DTD loading and network access are off; a DOCTYPE is refused outright (no
e-invoice syntax uses one, and entity-expansion attacks need one); huge trees are refused; the
input size is capped before parsing. Every refusal is an ``XmlRejected`` with a stable code and,
where lxml gives one, the line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class XmlRejected(Exception):
    """The bytes are not a document we will read; ``code`` is stable, ``message`` says why."""

    def __init__(self, code: str, message: str, line: int | None = None, column: int | None = None):
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.code = code
        self.message = f"{message}{where}"
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = 64


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=False,
        collect_ids=False,
    )


def parse_xml(data: bytes, limits: Limits = Limits()) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise XmlRejected."""
    if len(data) > limits.max_bytes:
        raise XmlRejected(
            "too_large",
            f"document is larger than the limit of {limits.max_bytes:,} bytes "
            f"(at least {len(data):,} read)",
        )
    head = data[:4096].lstrip()
    if not head:
        raise XmlRejected("empty", "the file is empty")
    if head.startswith(b"PK\x03\x04"):
        raise XmlRejected("not_xml", "this is a ZIP archive (an .xlsx or .zip?), not XML")
    if head.startswith(b"%PDF"):
        raise XmlRejected("not_xml", "this is a PDF, not XML")
    if b"\x00" in data[:1024] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise XmlRejected("not_xml", "this is a binary file, not XML")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data or _declares_doctype_wide(data):
        raise XmlRejected(
            "doctype_refused",
            "the document declares a DOCTYPE or entities; e-invoices never need one, and they "
            "can be used to attack a parser",
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        if "Excessive depth" in (exc.msg or ""):
            raise XmlRejected(
                "too_deep", f"elements nested deeper than {limits.max_depth}", line, column
            ) from None
        raise XmlRejected("malformed", f"not well-formed XML: {exc.msg}", line, column) from None
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
    if docinfo.doctype or docinfo.internalDTD is not None:
        # The byte check above misses other encodings (UTF-16); the parsed tree does not.
        raise XmlRejected(
            "doctype_refused",
            "the document declares a DOCTYPE or entities; e-invoices never need one, and they "
            "can be used to attack a parser",
        )
    if _depth(root, limits.max_depth) > limits.max_depth:
        raise XmlRejected("too_deep", f"elements nested deeper than {limits.max_depth}")
    return root


def _declares_doctype_wide(data: bytes) -> bool:
    """The same check for UTF-16/32 documents, whose markup is not ASCII bytes."""
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            text = data[len(bom) :].decode(codec, errors="ignore")
            return "<!DOCTYPE" in text or "<!ENTITY" in text
    return False


@lru_cache(maxsize=8)
def _deeper_than(limit: int) -> etree.XPath:
    # From the root, ``*/*/…`` with ``limit`` steps selects elements at depth limit + 1;
    # libxml2 evaluates it in C, so the check costs little on a 10,000-line invoice.
    return etree.XPath("boolean(" + "/".join(["*"] * limit) + ")")


def _depth(root: etree._Element, cap: int) -> int:
    """``cap + 1`` if some element is nested deeper than ``cap``, else ``cap`` (or less)."""
    return cap + 1 if bool(_deeper_than(cap)(root)) else cap


def local_name(el: etree._Element) -> str:
    return etree.QName(el).localname


def namespace(el: etree._Element) -> str | None:
    return etree.QName(el).namespace
