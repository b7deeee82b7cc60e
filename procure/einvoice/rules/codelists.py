"""EN 16931 code-list rules (BR-CL-01 .. BR-CL-26 as the CEN Schematron has them), all fatal.

The lists are those of the CEN Schematron, generated into ``procure.einvoice.codelist_data`` by
``scripts/generate_einvoice_codelists.py``; where the UBL and CII bindings list different codes
(BR-CL-01 type codes, BR-CL-06 VAT point date codes, BR-CL-08 note subjects, BR-CL-14/15
countries) the document's syntax picks the list (``xlsx`` takes the UBL one).

Codes written as element values are checked on the canonical fields. Codes written as
attributes (currencyID, schemeID, listID, unitCode, mimeCode) are checked on every occurrence
the parser recorded in ``Invoice.code_uses``, each found by its element the way the syntax's
Schematron rule finds it (BR-CL-03: UBL every amount's currencyID, CII ``TaxTotalAmount`` only;
BR-CL-11: UBL ``PartyLegalEntity/CompanyID``, CII every ``ram:ID`` outside a tax registration;
BR-CL-07: UBL the scheme of BT-18 / BT-128, CII every ``ram:ReferenceTypeCode`` element);
a document without a recorded syntax path (``xlsx``) is checked on the canonical fields.

Values are compared as ``normalize-space`` does (trimmed), VATEX codes also ignoring case
(``upper-case``), MIME codes as written (the Schematron compares them with ``=``). An absent
code holds: the rule that needs it reports it. Codes the canonical model does not keep (a
second payment means, an empty element other than an object identifier (BT-18, BT-128, kept
empty with its scheme), a non-130 referenced document's scheme) are not seen.

Imports: the standard library, the canonical model, the generated lists, the rules registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from procure.einvoice import codelist_data as cl
from procure.einvoice.model import Identifier, Invoice
from procure.einvoice.rules import Violation, rule
from procure.einvoice.rules.support import code_uses_of

Found = Iterator[tuple[str | None, str]]
"""(code as written, location) pairs."""

_INDEX = re.compile(r"\[\d+\]")


def _outside(value: str | None, codes: frozenset[str], *, exact: bool, upper: bool) -> bool:
    if value is None:
        return False
    if not exact:
        value = value.strip()
    return (value.upper() if upper else value) not in codes


def _breaches(found: Iterable[tuple[str | None, str]], codes: frozenset[str], what: str, *, exact: bool = False, upper: bool = False) -> Iterator[Violation]:  # fmt: skip
    """``exact``: compared as written (BR-CL-24); ``upper``: case-insensitive (BR-CL-22)."""
    for value, where in found:
        if _outside(value, codes, exact=exact, upper=upper):
            yield Violation(f"{what} {value!r} is not in the code list EN 16931 allows", where)


def _ubl_lists(doc: Invoice) -> bool:
    return doc.syntax != "cii"


# --- codes written as element values ---------------------------------------------------------


@rule("BR-CL-01", "fatal", "The document type code MUST be coded by the invoice and credit note related code lists of UNTDID 1001.")  # fmt: skip
def _type_code(doc: Invoice) -> Iterator[Violation]:
    if doc.syntax == "ubl":
        codes = cl.CREDIT_NOTE_TYPE_CODES_UBL if doc.kind == "credit_note" else cl.INVOICE_TYPE_CODES_UBL  # fmt: skip
    else:
        codes = cl.DOCUMENT_TYPE_CODES_CII
    yield from _breaches([(doc.type_code, "type_code (BT-3)")], codes, "Invoice type code")


@rule("BR-CL-04", "fatal", "Invoice currency code MUST be coded using ISO code list 4217 alpha-3")
def _currency(doc: Invoice) -> Iterator[Violation]:
    yield from _breaches([(doc.currency, "currency (BT-5)")], cl.CURRENCY_CODES, "Currency")


@rule("BR-CL-05", "fatal", "Tax currency code MUST be coded using ISO code list 4217 alpha-3")
def _tax_currency(doc: Invoice) -> Iterator[Violation]:
    found = [(doc.tax_currency, "tax_currency (BT-6)")]
    yield from _breaches(found, cl.CURRENCY_CODES, "VAT accounting currency")


@rule("BR-CL-06", "fatal", "Value added tax point date code MUST be coded using a restriction of UNTDID 2005 (UBL) / 2475 (CII).")  # fmt: skip
def _tax_point_code(doc: Invoice) -> Iterator[Violation]:
    codes = cl.VAT_POINT_DATE_CODES_UBL if _ubl_lists(doc) else cl.VAT_POINT_DATE_CODES_CII
    found = [(doc.tax_point_date_code, "tax_point_date_code (BT-8)")]
    yield from _breaches(found, codes, "VAT point date code")


@rule("BR-CL-07", "fatal", "Object identifier identification scheme identifier MUST be coded using a restriction of UNTDID 1153.")  # fmt: skip
def _object_scheme(doc: Invoice) -> Iterator[Violation]:
    if doc.syntax == "cii" and doc.code_uses:  # CII: every ram:ReferenceTypeCode, as written
        uses = code_uses_of(doc, "ReferenceTypeCode")
        yield from _breaches(((u.value, u.location) for u in uses), cl.OBJECT_SCHEME_CODES, "Reference type code")  # fmt: skip
        return
    found = [(_scheme(doc.invoiced_object), "invoiced_object.scheme (BT-18-1)")]
    found += [(_scheme(ln.object_id), f"lines[{n}].object_id.scheme (BT-128-1)") for n, ln in enumerate(doc.lines, 1)]  # fmt: skip
    yield from _breaches(found, cl.OBJECT_SCHEME_CODES, "Object identifier scheme")


_SUBJECT = re.compile(r"#([^#]*)#")


@rule("BR-CL-08", "fatal", "Invoice note subject code (BT-21) shall be coded using UNCL4451.")
def _note_subject(doc: Invoice) -> Iterator[Violation]:
    # UBL writes the subject code as ``#CODE#`` in the note and the Schematron checks the
    # text between the first two '#' when it is three characters long; the CII parser writes
    # ram:SubjectCode the same way, and CII checks every subject code.
    ubl = _ubl_lists(doc)
    codes = cl.NOTE_SUBJECT_CODES_UBL if ubl else cl.NOTE_SUBJECT_CODES_CII
    for n, note in enumerate(doc.notes, 1):
        m = _SUBJECT.search(note) if ubl else _SUBJECT.match(note)
        if m is None or (ubl and len(m.group(1)) != 3):
            continue
        if m.group(1) not in codes:
            yield Violation(f"Note subject code {m.group(1)!r} is not in UNTDID 4451 as EN 16931 restricts it", f"notes[{n}] (BT-21)")  # fmt: skip


def _addresses(doc: Invoice) -> Found:
    parties = (("seller.address", doc.seller.address, "BT-40"), ("buyer.address", doc.buyer.address, "BT-55"))  # fmt: skip
    for where, address, bt in parties:
        if address is not None:
            yield address.country, f"{where}.country ({bt})"
    rep = doc.tax_representative
    if rep is not None and rep.address is not None:
        yield rep.address.country, "tax_representative.address.country (BT-69)"
    if doc.delivery is not None and doc.delivery.address is not None:
        yield doc.delivery.address.country, "delivery.address.country (BT-80)"


@rule("BR-CL-14", "fatal", "Country codes in an invoice MUST be coded using ISO code list 3166-1")
def _countries(doc: Invoice) -> Iterator[Violation]:
    codes = cl.COUNTRY_CODES_UBL if _ubl_lists(doc) else cl.COUNTRY_CODES_CII
    yield from _breaches(_addresses(doc), codes, "Country code")


@rule("BR-CL-15", "fatal", "Country codes in an invoice MUST be coded using ISO code list 3166-1")
def _origin_countries(doc: Invoice) -> Iterator[Violation]:
    codes = cl.COUNTRY_CODES_UBL if _ubl_lists(doc) else cl.COUNTRY_CODES_CII
    found = [(ln.origin_country, f"lines[{n}].origin_country (BT-159)") for n, ln in enumerate(doc.lines, 1)]  # fmt: skip
    yield from _breaches(found, codes, "Country of origin")


@rule("BR-CL-16", "fatal", "Payment means in an invoice MUST be coded using UNCL4461 code list")
def _payment_means(doc: Invoice) -> Iterator[Violation]:
    means = doc.payment.means_code if doc.payment is not None else None
    found = [(means, "payment.means_code (BT-81)")]
    yield from _breaches(found, cl.PAYMENT_MEANS_CODES, "Payment means code")


def _breakdown_categories(doc: Invoice) -> Found:
    for n, b in enumerate(doc.vat_breakdown, 1):
        yield b.category, f"vat_breakdown[{n}].category (BT-118)"


@rule("BR-CL-17", "fatal", "Invoice tax categories MUST be coded using UNCL5305 code list")
def _tax_categories(doc: Invoice) -> Iterator[Violation]:
    # UBL cac:TaxCategory: allowances, charges and the VAT breakdown; CII
    # ram:CategoryTradeTax: allowances and charges only.
    found = [(a.vat_category, f"allowances[{n}].vat_category (BT-95)") for n, a in enumerate(doc.allowances, 1)]  # fmt: skip
    found += [(c.vat_category, f"charges[{n}].vat_category (BT-102)") for n, c in enumerate(doc.charges, 1)]  # fmt: skip
    if _ubl_lists(doc):
        found += _breakdown_categories(doc)
    yield from _breaches(found, cl.VAT_CATEGORY_CODES, "VAT category code")


@rule("BR-CL-18", "fatal", "Invoice tax categories MUST be coded using UNCL5305 code list")
def _line_tax_categories(doc: Invoice) -> Iterator[Violation]:
    # UBL cac:ClassifiedTaxCategory: lines; CII ram:ApplicableTradeTax: lines and breakdown.
    found = [(ln.vat_category, f"lines[{n}].vat_category (BT-151)") for n, ln in enumerate(doc.lines, 1)]  # fmt: skip
    if not _ubl_lists(doc):
        found += _breakdown_categories(doc)
    yield from _breaches(found, cl.VAT_CATEGORY_CODES, "VAT category code")


def _reasons(doc: Invoice, *, charges: bool) -> Found:
    field, bt, line_bt = ("charges", "BT-105", "BT-145") if charges else ("allowances", "BT-98", "BT-140")  # fmt: skip
    for n, ac in enumerate(getattr(doc, field), 1):
        yield ac.reason_code, f"{field}[{n}].reason_code ({bt})"
    for ln_n, ln in enumerate(doc.lines, 1):
        for n, ac in enumerate(getattr(ln, field), 1):
            yield ac.reason_code, f"lines[{ln_n}].{field}[{n}].reason_code ({line_bt})"


@rule("BR-CL-19", "fatal", "Coded allowance reasons MUST belong to the UNCL 5189 code list")
def _allowance_reasons(doc: Invoice) -> Iterator[Violation]:
    found = _reasons(doc, charges=False)
    yield from _breaches(found, cl.ALLOWANCE_REASON_CODES, "Allowance reason code")


@rule("BR-CL-20", "fatal", "Coded charge reasons MUST belong to the UNCL 7161 code list")
def _charge_reasons(doc: Invoice) -> Iterator[Violation]:
    yield from _breaches(_reasons(doc, charges=True), cl.CHARGE_REASON_CODES, "Charge reason code")


@rule("BR-CL-22", "fatal", "Tax exemption reason code identifier scheme identifier MUST belong to the CEF VATEX code list")  # fmt: skip
def _exemption_codes(doc: Invoice) -> Iterator[Violation]:
    found = [(b.exemption_code, f"vat_breakdown[{n}].exemption_code (BT-121)") for n, b in enumerate(doc.vat_breakdown, 1)]  # fmt: skip
    yield from _breaches(found, cl.VATEX_CODES, "VAT exemption reason code", upper=True)


# --- codes written as attributes: every recorded code use ------------------------------------


def _scheme(ident: Identifier | None) -> str | None:
    return ident.scheme if ident is not None else None


def _steps(location: str) -> list[str]:
    """The element names of a recorded location, without positions."""
    return _INDEX.sub("", location).split("/")


Match = Callable[[list[str]], bool]


def _ends(*names: str) -> Match:
    return lambda steps: steps[-len(names) :] == list(names)


def _last_in(*names: str) -> Match:
    return lambda steps: steps[-1] in names


_UBL_AMOUNTS = ("Amount", "BaseAmount", "PriceAmount", "TaxAmount", "TaxableAmount", "LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "AllowanceTotalAmount", "ChargeTotalAmount", "PrepaidAmount", "PayableRoundingAmount", "PayableAmount")  # fmt: skip


def _cii_party_global_id(steps: list[str]) -> bool:
    return steps[-1] == "ram:GlobalID" and not {"ram:SpecifiedTradeProduct", "ram:ShipToTradeParty"} & set(steps)  # fmt: skip


def _cii_registration_id(steps: list[str]) -> bool:
    return steps[-1] == "ram:ID" and "ram:SpecifiedTaxRegistration" not in steps


def _party_ids(doc: Invoice) -> Found:
    for n, i in enumerate(doc.seller.identifiers, 1):
        yield i.scheme, f"seller.identifiers[{n}].scheme (BT-29-1)"
    for n, i in enumerate(doc.buyer.identifiers, 1):
        yield i.scheme, f"buyer.identifiers[{n}].scheme (BT-46-1)"
    yield _scheme(doc.payee.identifier if doc.payee else None), "payee.identifier.scheme (BT-60-1)"


def _legal_ids(doc: Invoice) -> Found:
    yield _scheme(doc.seller.legal_id), "seller.legal_id.scheme (BT-30-1)"
    yield _scheme(doc.buyer.legal_id), "buyer.legal_id.scheme (BT-47-1)"
    yield _scheme(doc.payee.legal_id if doc.payee else None), "payee.legal_id.scheme (BT-61-1)"


def _classifications(doc: Invoice) -> Found:
    for ln_n, ln in enumerate(doc.lines, 1):
        for n, c in enumerate(ln.classifications, 1):
            yield c.scheme, f"lines[{ln_n}].classifications[{n}].scheme (BT-158-1)"


def _standard_ids(doc: Invoice) -> Found:
    for n, ln in enumerate(doc.lines, 1):
        yield _scheme(ln.standard_item_id), f"lines[{n}].standard_item_id.scheme (BT-157-1)"


def _units(doc: Invoice) -> Found:
    for n, ln in enumerate(doc.lines, 1):
        yield ln.unit_code, f"lines[{n}].unit_code (BT-130)"
        yield ln.price_base_unit, f"lines[{n}].price_base_unit (BT-150)"


def _mime_codes(doc: Invoice) -> Found:
    for n, d in enumerate(doc.supporting_documents, 1):
        yield d.mime_code, f"supporting_documents[{n}].mime_code (BT-125-1)"


def _endpoints(doc: Invoice) -> Found:
    yield _scheme(doc.seller.endpoint_id), "seller.endpoint_id.scheme (BT-34-1)"
    yield _scheme(doc.buyer.endpoint_id), "buyer.endpoint_id.scheme (BT-49-1)"


def _delivery_location(doc: Invoice) -> Found:
    location = doc.delivery.location_id if doc.delivery else None
    yield _scheme(location), "delivery.location_id.scheme (BT-71-1)"


def _nothing(doc: Invoice) -> Found:
    return iter(())


def _sepa_for_seller_or_payee(where: str) -> frozenset[str]:
    """UBL BR-CL-10 also allows schemeID SEPA (BT-90) under the seller or the payee."""
    parties = ("cac:AccountingSupplierParty", "cac:PayeeParty")
    if any(p in where for p in parties) or where.startswith(("seller.", "payee.")):
        return cl.PARTY_ID_EXTRA_SCHEMES_UBL
    return frozenset()


@dataclass(frozen=True)
class AttributeRule:
    """A rule on a coded attribute: where each syntax writes it, and the canonical fields to
    check when the document has no syntax paths (``xlsx``)."""

    rule_id: str
    text: str
    attribute: str
    ubl: Match
    cii: Match
    fields: Callable[[Invoice], Found]
    codes: frozenset[str]
    what: str
    extra: Callable[[str], frozenset[str]] | None = None
    """Codes also allowed at some places (UBL and the canonical fields only)."""

    def check(self, doc: Invoice) -> Iterator[Violation]:
        exact = self.attribute == "mimeCode"
        if doc.syntax in ("ubl", "cii"):
            match = self.ubl if doc.syntax == "ubl" else self.cii
            found: Iterable[tuple[str | None, str]] = (
                (use.value, f"{use.location}/@{use.attribute}")
                for use in code_uses_of(doc, self.attribute)
                # A code in the list holds wherever it is: decide that before the costlier
                # path match and location text (most codes on most documents are fine).
                if (use.value if exact else use.value.strip()) not in self.codes
                and match(_steps(use.location))
            )
        else:
            found = self.fields(doc)
        for value, where in found:
            extra = self.extra(where) if self.extra and doc.syntax != "cii" else frozenset()
            codes = self.codes | extra if extra else self.codes
            yield from _breaches([(value, where)], codes, self.what, exact=exact)


ATTRIBUTE_RULES = (
    AttributeRule(
        "BR-CL-03",
        "currencyID MUST be coded using ISO code list 4217 alpha-3",
        "currencyID",
        ubl=_last_in(*(f"cbc:{a}" for a in _UBL_AMOUNTS)),
        cii=_last_in("ram:TaxTotalAmount"),
        fields=_nothing,
        codes=cl.CURRENCY_CODES,
        what="Currency",
    ),
    AttributeRule(
        "BR-CL-10",
        "Any identifier identification scheme identifier MUST be coded using one of the ISO 6523 ICD list.",
        "schemeID",
        ubl=_ends("cac:PartyIdentification", "cbc:ID"),
        cii=_cii_party_global_id,
        fields=_party_ids,
        codes=cl.ICD_CODES,
        what="Identifier scheme",
        extra=_sepa_for_seller_or_payee,
    ),
    AttributeRule(
        "BR-CL-11",
        "Any registration identifier identification scheme identifier MUST be coded using one of the ISO 6523 ICD list.",
        "schemeID",
        ubl=_ends("cac:PartyLegalEntity", "cbc:CompanyID"),
        cii=_cii_registration_id,
        fields=_legal_ids,
        codes=cl.ICD_CODES,
        what="Registration identifier scheme",
    ),
    AttributeRule(
        "BR-CL-13",
        "Item classification identifier identification scheme identifier MUST be coded using one of the UNTDID 7143 list.",
        "listID",
        ubl=_ends("cac:CommodityClassification", "cbc:ItemClassificationCode"),
        cii=_last_in("ram:ClassCode"),
        fields=_classifications,
        codes=cl.ITEM_CLASSIFICATION_CODES,
        what="Item classification scheme",
    ),
    AttributeRule(
        "BR-CL-21",
        "Item standard identifier scheme identifier MUST belong to the ISO 6523 ICD code list",
        "schemeID",
        ubl=_ends("cac:StandardItemIdentification", "cbc:ID"),
        cii=_ends("ram:SpecifiedTradeProduct", "ram:GlobalID"),
        fields=_standard_ids,
        codes=cl.ICD_CODES,
        what="Item standard identifier scheme",
    ),
    AttributeRule(
        "BR-CL-23",
        "Unit code MUST be coded according to the UN/ECE Recommendation 20 with Rec 21 extension",
        "unitCode",
        ubl=_last_in("cbc:InvoicedQuantity", "cbc:BaseQuantity", "cbc:CreditedQuantity"),
        cii=_last_in("ram:BasisQuantity", "ram:BilledQuantity"),
        fields=_units,
        codes=cl.UNIT_CODES,
        what="Unit of measure code",
    ),
    AttributeRule(
        "BR-CL-24",
        "For Mime code in attribute use MIMEMediaType.",
        "mimeCode",
        ubl=_last_in("cbc:EmbeddedDocumentBinaryObject"),
        cii=_last_in("ram:AttachmentBinaryObject"),
        fields=_mime_codes,
        codes=cl.MIME_CODES,
        what="MIME code",
    ),
    AttributeRule(
        "BR-CL-25",
        "Endpoint identifier scheme identifier MUST belong to the CEF EAS code list",
        "schemeID",
        ubl=_last_in("cbc:EndpointID"),
        cii=_ends("ram:URIUniversalCommunication", "ram:URIID"),
        fields=_endpoints,
        codes=cl.EAS_CODES,
        what="Electronic address scheme",
    ),
    AttributeRule(
        "BR-CL-26",
        "Delivery location identifier scheme identifier MUST belong to the ISO 6523 ICD code list",
        "schemeID",
        ubl=_ends("cac:DeliveryLocation", "cbc:ID"),
        cii=_ends("ram:ApplicableHeaderTradeDelivery", "ram:ShipToTradeParty", "ram:GlobalID"),
        fields=_delivery_location,
        codes=cl.ICD_CODES,
        what="Delivery location identifier scheme",
    ),
)

for _spec in ATTRIBUTE_RULES:
    rule(_spec.rule_id, "fatal", _spec.text)(_spec.check)
