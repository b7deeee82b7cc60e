"""Strict mode: the official EN 16931 Schematron, compiled to XSLT, run with saxonche.

Our rules (``procure.einvoice.rules``) are the EN 16931 rules in Python. When a path to the
official CEN validation artefacts is configured (``PROCURE_SCHEMATRON_DIR``: the ``en16931-cen``
folder of the CEN release, or a folder holding it, such as the conformance corpus), strict mode
also runs ``ubl/xslt/EN16931-UBL-validation.xslt`` or ``cii/xslt/EN16931-CII-validation.xslt``
on each XML document and reads the SVRL report back. Every failed assert whose rule the Python
rules did not already report becomes a finding with the official id, flag (``fatal`` or
``warning``), text and location, its message ending ``(official Schematron)``: the syntax
rules (UBL-CR-*, UBL-SR-*, CII-SR-*…) that we do not implement, and any disagreement, can then
only make a document stricter, never let one through. A run the Schematron cannot finish (a
dynamic error in one of its rules) is the fatal finding ``PROCURE-SCHEMATRON-01``.

Only a document that passed the hardened parse (``xml_safety.parse_xml``: no DOCTYPE, so no
entities; size and depth limits) reaches Saxon, and Saxon receives the tree lxml built,
serialised again, not the bytes as sent. The report is read back with the hardened parser.
Each stylesheet is compiled once per process (about half a second); a document then takes a
few milliseconds. saxonche is an optional dependency (``pip install 'procure[strict]'``);
without it, configuring strict mode is a ``ConfigurationError`` that says so.

Imports: lxml, the canonical model, ``xml_safety``, ``procure.errors``; saxonche when used.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from procure.einvoice.model import Finding, Severity
from procure.einvoice.xml_safety import parse_xml
from procure.errors import ConfigurationError

__all__ = ["RUN_FAILED", "SOURCE_NOTE", "OfficialSchematron"]

SVRL = "{http://purl.oclc.org/dsdl/svrl}"
SOURCE_NOTE = "(official Schematron)"
RUN_FAILED = "PROCURE-SCHEMATRON-01"
"""The official Schematron could not be run to the end on a document (a dynamic XPath error in
one of its rules, as the official validator also reports): fatal, as strict mode asks for the
official verdict and there is none."""
_XSLT = {
    "ubl": Path("ubl/xslt/EN16931-UBL-validation.xslt"),
    "cii": Path("cii/xslt/EN16931-CII-validation.xslt"),
}
_SEVERITY: dict[str, Severity] = {"fatal": "fatal", "warning": "warning"}
_LOCK = threading.Lock()
"""One Saxon processor per process; transforms are serialised (a few ms each)."""


@dataclass(frozen=True)
class OfficialSchematron:
    """The CEN EN 16931 validation artefacts in ``root`` (the ``en16931-cen`` folder)."""

    root: Path

    @classmethod
    def at(cls, path: Path | str) -> OfficialSchematron:
        """The artefacts at ``path`` or in its ``en16931-cen`` subfolder; a clear
        ``ConfigurationError`` when neither holds both stylesheets or saxonche is missing."""
        path = Path(path)
        for root in (path, path / "en16931-cen"):
            if all((root / xslt).is_file() for xslt in _XSLT.values()):
                _processor()  # saxonche is there, or the error says how to get it
                return cls(root.resolve())
        raise ConfigurationError(
            f"strict mode: no EN 16931 validation stylesheets under {path} (expected "
            f"{_XSLT['ubl']} and {_XSLT['cii']} there or in its en16931-cen folder)"
        )

    def failed_asserts(self, root: etree._Element, syntax: Literal["ubl", "cii"]) -> list[Finding]:
        """Every failed assert (and successful report) of the official Schematron on the
        document whose parsed root is ``root``, in report order."""
        executable = _compiled(str(self.root / _XSLT[syntax]))
        text = etree.tostring(root, encoding="unicode")
        try:
            with _LOCK:
                node = _processor().parse_xml(xml_text=text)
                report = executable.transform_to_string(xdm_node=node)
        except Exception as exc:  # saxonche's PySaxonApiError: a dynamic error in a rule
            return [
                Finding(
                    rule=RUN_FAILED,
                    severity="fatal",
                    message=f"the official Schematron stopped on this document, so strict mode "
                    f"cannot confirm it: {' '.join(str(exc).split())[:300]}",
                    location=None,
                )
            ]
        found = []
        for el in parse_xml(report.encode("utf-8")).iter(
            f"{SVRL}failed-assert", f"{SVRL}successful-report"
        ):
            message = " ".join("".join(str(t) for t in el.itertext()).split())
            found.append(
                Finding(
                    rule=el.get("id") or "SCHEMATRON",
                    severity=_SEVERITY.get(el.get("flag") or "", "information"),
                    message=f"{message} {SOURCE_NOTE}",
                    location=el.get("location"),
                )
            )
        return found

    def missed(
        self, root: etree._Element, syntax: Literal["ubl", "cii"], ours: tuple[Finding, ...]
    ) -> list[Finding]:
        """The official findings of rules that ``ours`` does not report."""
        reported = {f.rule for f in ours}
        return [f for f in self.failed_asserts(root, syntax) if f.rule not in reported]


@lru_cache(maxsize=1)
def _processor() -> Any:
    try:
        from saxonche import PySaxonProcessor
    except ImportError:
        raise ConfigurationError(
            "strict mode needs saxonche (pip install 'procure[strict]'), which is not installed"
        ) from None
    return PySaxonProcessor(license=False)


@lru_cache(maxsize=4)
def _compiled(stylesheet: str) -> Any:
    with _LOCK:
        return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=stylesheet)
