"""Generate ``procure/einvoice/codelist_data.py``: the code lists of the EN 16931 BR-CL rules.

A development tool, not part of the product. The lists come from the CEN EN 16931 validation
artefacts, which are authoritative for the BR-CL rules: the code-list Schematron of each syntax
(``{ubl,cii}/schematron/codelist/EN16931-*-codes.sch``, one inline list per assertion) and, for
BR-CL-08 in UBL, the UBL binding of the model (``ubl/schematron/UBL/EN16931-UBL-model.sch``).
Where a list is stated more than once (UBL and CII, or BR-CL-10/11/21/26 for the ICD list) the
statements must agree, or the generator stops and says where they differ; lists that differ
on purpose between the syntaxes (BR-CL-01, BR-CL-06, BR-CL-08, BR-CL-14/15) are written once per syntax.

It also compares each list with the OpenPeppol BIS 3 copy (``peppol-bis3/structure/codelist``,
vefa ``CodeList`` XML) and prints the differences: the Peppol files are informative only.

    .venv/bin/python scripts/generate_einvoice_codelists.py [CORPUS_DIR] [OUTPUT_PY]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

DEFAULT_CORPUS = Path("/work/shared/corpus")
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent / "procure" / "einvoice" / "codelist_data.py"
)
SCH = "{http://purl.oclc.org/dsdl/schematron}"
VEFA = {"cl": "urn:fdc:difi.no:2017:vefa:structure:CodeList-1"}
SOURCES = {
    "ubl": "en16931-cen/ubl/schematron/codelist/EN16931-UBL-codes.sch",
    "cii": "en16931-cen/cii/schematron/codelist/EN16931-CII-codes.sch",
    "ubl-model": "en16931-cen/ubl/schematron/UBL/EN16931-UBL-model.sch",
}
PEPPOL_DIR = "peppol-bis3/structure/codelist"
_LIST = re.compile(r"contains\(\s*'( [^']* )'")
_MIME = re.compile(r"@mimeCode\s*=\s*'([^']+)'")
CODES_PER_LINE = 12


@dataclass(frozen=True)
class Spec:
    """One generated constant: where the CEN Schematron states it, and its Peppol counterpart."""

    name: str
    doc: str
    sources: tuple[tuple[str, str, int], ...]
    """(source key, rule id, index of the inline list within the assertion)."""
    peppol: str | None = None


SPECS: tuple[Spec, ...] = (
    Spec(
        "INVOICE_TYPE_CODES_UBL",
        "BR-CL-01, UBL Invoice/InvoiceTypeCode: the UNTDID 1001 invoice codes.",
        (("ubl", "BR-CL-01", 0),),
        "UNCL1001-inv.xml",
    ),
    Spec(
        "CREDIT_NOTE_TYPE_CODES_UBL",
        "BR-CL-01, UBL CreditNote/CreditNoteTypeCode: the UNTDID 1001 credit-note codes.",
        (("ubl", "BR-CL-01", 1),),
        "UNCL1001-cn.xml",
    ),
    Spec(
        "DOCUMENT_TYPE_CODES_CII",
        "BR-CL-01, CII ExchangedDocument/TypeCode: invoice and credit-note codes in one list.",
        (("cii", "BR-CL-01", 0),),
    ),
    Spec(
        "CURRENCY_CODES",
        "BR-CL-03 (every currencyID), BR-CL-04 (BT-5), BR-CL-05 (BT-6): ISO 4217 alpha-3.",
        (
            ("ubl", "BR-CL-03", 0),
            ("ubl", "BR-CL-04", 0),
            ("ubl", "BR-CL-05", 0),
            ("cii", "BR-CL-03", 0),
            ("cii", "BR-CL-04", 0),
            ("cii", "BR-CL-05", 0),
        ),
        "ISO4217_2015.xml",
    ),
    Spec(
        "VAT_POINT_DATE_CODES_UBL",
        "BR-CL-06, UBL InvoicePeriod/DescriptionCode (BT-8): restriction of UNTDID 2005.",
        (("ubl", "BR-CL-06", 0),),
        "UNCL2005.xml",
    ),
    Spec(
        "VAT_POINT_DATE_CODES_CII",
        "BR-CL-06, CII ApplicableTradeTax/DueDateTypeCode (BT-8): restriction of UNTDID 2475.",
        (("cii", "BR-CL-06", 0),),
    ),
    Spec(
        "OBJECT_SCHEME_CODES",
        "BR-CL-07: invoiced object identifier scheme (BT-18-1), restriction of UNTDID 1153.",
        (("ubl", "BR-CL-07", 0), ("cii", "BR-CL-07", 0)),
        "UNCL1153.xml",
    ),
    Spec(
        "NOTE_SUBJECT_CODES_UBL",
        "BR-CL-08, UBL (``#CODE#`` in cbc:Note): invoice note subject code (BT-21), UNTDID 4451.",
        (("ubl-model", "BR-CL-08", 0),),
    ),
    Spec(
        "NOTE_SUBJECT_CODES_CII",
        "BR-CL-08, CII IncludedNote/SubjectCode: invoice note subject code (BT-21), UNTDID 4451.",
        (("cii", "BR-CL-08", 0),),
    ),
    Spec(
        "ICD_CODES",
        "BR-CL-10/11/21/26: identifier scheme identifiers, ISO 6523 ICD.",
        (
            ("ubl", "BR-CL-10", 0),
            ("ubl", "BR-CL-11", 0),
            ("ubl", "BR-CL-21", 0),
            ("ubl", "BR-CL-26", 0),
            ("cii", "BR-CL-10", 0),
            ("cii", "BR-CL-11", 0),
            ("cii", "BR-CL-21", 0),
            ("cii", "BR-CL-26", 0),
        ),
        "icd.xml",
    ),
    Spec(
        "PARTY_ID_EXTRA_SCHEMES_UBL",
        "BR-CL-10, UBL only: schemes also allowed for seller and payee identifiers (SEPA).",
        (("ubl", "BR-CL-10", 1),),
        "SEPA.xml",
    ),
    Spec(
        "ITEM_CLASSIFICATION_CODES",
        "BR-CL-13: item classification identifier scheme (BT-158-1), UNTDID 7143.",
        (("ubl", "BR-CL-13", 0), ("cii", "BR-CL-13", 0)),
        "UNCL7143.xml",
    ),
    Spec(
        "COUNTRY_CODES_UBL",
        "BR-CL-14 (addresses) and BR-CL-15 (origin, BT-159) in UBL: ISO 3166-1 alpha-2.",
        (("ubl", "BR-CL-14", 0), ("ubl", "BR-CL-15", 0)),
        "ISO3166-1_Alpha2.xml",
    ),
    Spec(
        "COUNTRY_CODES_CII",
        "BR-CL-14 (addresses) and BR-CL-15 (origin, BT-159) in CII: ISO 3166-1 alpha-2.",
        (("cii", "BR-CL-14", 0), ("cii", "BR-CL-15", 0)),
        "ISO3166-1_Alpha2.xml",
    ),
    Spec(
        "PAYMENT_MEANS_CODES",
        "BR-CL-16: payment means type code (BT-81), UNTDID 4461.",
        (("ubl", "BR-CL-16", 0), ("cii", "BR-CL-16", 0)),
        "UNCL4461.xml",
    ),
    Spec(
        "VAT_CATEGORY_CODES",
        "BR-CL-17/18: VAT category codes (BT-95, BT-102, BT-118, BT-151), UNTDID 5305 subset.",
        (
            ("ubl", "BR-CL-17", 0),
            ("ubl", "BR-CL-18", 0),
            ("cii", "BR-CL-17", 0),
            ("cii", "BR-CL-18", 0),
        ),
        "UNCL5305.xml",
    ),
    Spec(
        "ALLOWANCE_REASON_CODES",
        "BR-CL-19: allowance reason codes (BT-98, BT-140), UNTDID 5189 subset.",
        (("ubl", "BR-CL-19", 0), ("cii", "BR-CL-19", 0)),
        "UNCL5189.xml",
    ),
    Spec(
        "CHARGE_REASON_CODES",
        "BR-CL-20: charge reason codes (BT-105, BT-145), UNTDID 7161.",
        (("ubl", "BR-CL-20", 0), ("cii", "BR-CL-20", 0)),
        "UNCL7161.xml",
    ),
    Spec(
        "VATEX_CODES",
        "BR-CL-22: VAT exemption reason codes (BT-121), CEF VATEX.",
        (("ubl", "BR-CL-22", 0), ("cii", "BR-CL-22", 0)),
        "VATEX.xml",
    ),
    Spec(
        "UNIT_CODES",
        "BR-CL-23: unit of measure codes (BT-130, BT-150), UN/ECE Rec 20 with Rec 21.",
        (("ubl", "BR-CL-23", 0), ("cii", "BR-CL-23", 0)),
        "UNECERec20-11e.xml",
    ),
    Spec(
        "MIME_CODES",
        "BR-CL-24: attached document MIME codes (BT-125-1).",
        (("ubl", "BR-CL-24", 0), ("cii", "BR-CL-24", 0)),
        "MimeCode.xml",
    ),
    Spec(
        "EAS_CODES",
        "BR-CL-25: electronic address scheme identifiers (BT-34-1, BT-49-1), CEF EAS.",
        (("ubl", "BR-CL-25", 0), ("cii", "BR-CL-25", 0)),
        "eas.xml",
    ),
)


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


def _lists(test: str) -> list[list[str]]:
    found = [chunk.split() for chunk in _LIST.findall(test)]
    mimes = _MIME.findall(test)
    return [*found, mimes] if mimes else found


def read_schematron(corpus: Path) -> dict[tuple[str, str], list[list[str]]]:
    """Every inline code list, by (source key, rule id): assertions of the code-list
    Schematrons, and the ``param`` of the UBL model binding for BR-CL-08."""
    out: dict[tuple[str, str], list[list[str]]] = {}
    for key in ("ubl", "cii"):
        for a in _parse(corpus / SOURCES[key]).iter(f"{SCH}assert"):
            rule_id = a.get("id")
            if rule_id and rule_id.startswith("BR-CL-"):
                out[(key, rule_id)] = _lists(a.get("test") or "")
    for p in _parse(corpus / SOURCES["ubl-model"]).iter(f"{SCH}param"):
        if (p.get("name") or "").strip() == "BR-CL-08":
            out[("ubl-model", "BR-CL-08")] = _lists(p.get("value") or "")
    return out


def read_peppol(path: Path) -> set[str]:
    ids = _parse(path).findall("cl:Code/cl:Id", namespaces=VEFA)
    return {(el.text or "").strip() for el in ids}


def resolve(spec: Spec, lists: dict[tuple[str, str], list[list[str]]]) -> list[str]:
    """The codes of ``spec``; every statement of the list must hold the same codes."""
    seen: dict[frozenset[str], list[str]] = {}
    for key, rule_id, index in spec.sources:
        stated = lists.get((key, rule_id))
        if stated is None or len(stated) <= index:
            raise SystemExit(f"{spec.name}: no inline list {index} in {key} {rule_id}")
        codes = stated[index]
        if len(codes) != len(set(codes)):
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            print(f"note: {key} {rule_id} lists {dupes} more than once", file=sys.stderr)
        seen.setdefault(frozenset(codes), []).append(f"{key} {rule_id}")
    if len(seen) > 1:
        variants = "; ".join(
            f"{', '.join(where)}: {len(codes)} codes" for codes, where in seen.items()
        )
        raise SystemExit(f"{spec.name}: the CEN Schematron states different lists ({variants})")
    return sorted(next(iter(seen)))


def compare(spec: Spec, codes: list[str], corpus: Path) -> str | None:
    """A one-paragraph difference between the CEN list and the Peppol file, if any."""
    if spec.peppol is None:
        return None
    peppol = read_peppol(corpus / PEPPOL_DIR / spec.peppol)
    cen = set(codes)
    if cen == peppol:
        return f"{spec.name}: same as Peppol {spec.peppol} ({len(cen)} codes)"
    only_cen, only_peppol = sorted(cen - peppol), sorted(peppol - cen)
    return (
        f"{spec.name}: CEN {len(cen)} codes, Peppol {spec.peppol} {len(peppol)} codes; "
        f"only in CEN ({len(only_cen)}): {' '.join(only_cen) or '-'}; "
        f"only in Peppol ({len(only_peppol)}): {' '.join(only_peppol) or '-'}"
    )


def render(resolved: list[tuple[Spec, list[str]]]) -> str:
    out = [
        "# Generated by scripts/generate_einvoice_codelists.py from the CEN EN 16931 Schematron:",
        *(f"#   {SOURCES[k]}" for k in ("ubl", "cii", "ubl-model")),
        "# Do not edit: run the generator again.",
        '"""The code lists of the EN 16931 code-list rules (BR-CL-*), exactly as the CEN Schematron',
        "states them (one inline list per assertion). Where the UBL and CII bindings list different",
        "codes, both are kept (``_UBL`` / ``_CII``).",
        "",
        "Imports: nothing (plain data).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "# fmt: off",
    ]
    for spec, codes in resolved:
        out.append("")
        out.append(f"# {spec.doc} ({len(codes)} codes)")
        out.append(f"{spec.name}: frozenset[str] = frozenset({{")
        for i in range(0, len(codes), CODES_PER_LINE):
            out.append("    " + " ".join(f'"{c}",' for c in codes[i : i + CODES_PER_LINE]))
        out.append("})")
    out.append("# fmt: on")
    out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> None:
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    output = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    lists = read_schematron(corpus)
    resolved = [(spec, resolve(spec, lists)) for spec in SPECS]
    output.write_text(render(resolved), encoding="utf-8")
    print(f"wrote {output}")
    for spec, codes in resolved:
        print(f"  {spec.name}: {len(codes)}")
    print("CEN Schematron compared with the Peppol BIS 3 code lists:")
    for spec, codes in resolved:
        line = compare(spec, codes, corpus)
        if line:
            print("  " + line)


if __name__ == "__main__":
    main(sys.argv)
