"""Building blocks of the UN/CEFACT CII reader: element access, typed values, parties, lines.

``cii`` maps the document header onto the canonical model; this module holds what it is built
from. Elements are read through a one-pass child index (``kids``) keyed by local name, which is
faster than evaluating one XPath per business term and keeps the mapping code close to the
CII element names (``k["SellerTradeParty"]``). Only children in the UN/CEFACT namespaces are
indexed, so a foreign element never stands in for a CII one.

Values are read leniently: what is missing is ``None``; what is present but unreadable (an
amount that is not an ``xs:decimal``, a date that is not ``YYYYMMDD``) is ``None`` plus a fatal
``PROCURE-PARSE-01`` finding naming the business term and the element.

Imports: lxml (elements only, no parsing), the canonical model; nothing else from procure.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from lxml import etree

from procure.einvoice.model import (
    Address,
    AllowanceCharge,
    CodeUse,
    Contact,
    Finding,
    Identifier,
    InvoiceLine,
    ItemAttribute,
    Party,
    Period,
)

Element = Any
"""An lxml element (lxml ships no type information)."""
Kids = dict[str, list[Element]]
"""The CII children of one element, by local name, in document order."""

NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
NS_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NS_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_PREFIXES = {NS_RSM: "rsm", NS_RAM: "ram", NS_UDT: "udt", NS_QDT: "qdt"}
_CII_TAG = "{urn:un:unece:uncefact:data:standard:"
CODE_ATTRIBUTES = ("currencyID", "unitCode", "schemeID", "listID", "mimeCode")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATE_102 = re.compile(r"\d{8}")
_VAT_NOISE = re.compile(r"[\s.\-]")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_EMPTY: list[Element] = []
_LOCAL: dict[object, str] = {}
"""Tag → local name (``""`` when not a CII element); bounded by the vocabulary's size."""
_STEPS: dict[str, str] = {}
_FEW_SIBLINGS = 32
"""Children up to which ``code_uses`` counts an element's namesakes for its step alone."""


def kids(el: Element | None) -> Kids:
    """Index the UN/CEFACT children of ``el`` by local name (empty for a missing element)."""
    out: Kids = {}
    if el is None:
        return out
    local = _LOCAL
    for child in el:
        tag = child.tag
        name = local.get(tag)
        if name is None:
            name = local[tag] = _local_name(tag)
        if not name:
            continue  # processing instructions, foreign elements
        found = out.get(name)
        if found is None:
            out[name] = [child]
        else:
            found.append(child)
    return out


def _local_name(tag: object) -> str:
    """The local name of a UN/CEFACT element tag, ``""`` for anything else."""
    if not isinstance(tag, str) or not tag.startswith(_CII_TAG):
        return ""
    return tag[tag.index("}") + 1 :]


def first(k: Kids, name: str) -> Element | None:
    found = k.get(name)
    return found[0] if found else None


def every(k: Kids, name: str) -> list[Element]:
    return k.get(name, _EMPTY)


def clean(value: str | None) -> str | None:
    """Text as written without surrounding white space; empty text is absent."""
    return (value.strip() or None) if value is not None else None


def raw_text(el: Element) -> str:
    """A leaf's text as written; a processing instruction inside it does not cut it short."""
    return "".join(el.itertext()) if len(el) else (el.text or "")


def text(k: Kids, name: str) -> str | None:
    el = first(k, name)
    return None if el is None else clean(raw_text(el))


def texts(k: Kids, name: str) -> list[str]:
    return [t for t in (clean(raw_text(el)) for el in every(k, name)) if t is not None]


def child_text(el: Element | None, name: str) -> str | None:
    """The text of one named child of ``el`` (one level, for single look-ups)."""
    return text(kids(el), name)


def identifier(el: Element | None) -> Identifier | None:
    """An ID element with its optional ``schemeID``."""
    if el is None:
        return None
    value = clean(raw_text(el))
    return None if value is None else Identifier(value=value, scheme=clean(el.get("schemeID")))


def normalise_vat(value: str | None) -> str | None:
    """No spaces, dots or dashes, upper case: ``gb 123.456-78`` → ``GB12345678``."""
    return (_VAT_NOISE.sub("", value).upper() or None) if value is not None else None


def element_path(el: Element) -> str:
    """A readable XPath of ``el`` with the standard CII prefixes (``rsm:``, ``ram:``...)."""
    steps: list[str] = []
    parent = el.getparent()
    while parent is not None:
        steps.append(_child_steps(parent)[el])
        el, parent = parent, parent.getparent()
    steps.append(_step(el.tag))
    return "/" + "/".join(reversed(steps))


def _step(tag: str) -> str:
    """``{ram namespace}ID`` → ``ram:ID`` (the standard prefix, whatever the document used)."""
    step = _STEPS.get(tag)
    if step is None:
        ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        prefix = _PREFIXES.get(ns)
        step = _STEPS[tag] = f"{prefix}:{local}" if prefix else local
    return step


_REFERENCE_TYPE_CODE = f"{{{NS_RAM}}}ReferenceTypeCode"


def code_uses(root: Element) -> list[CodeUse]:
    """Every currencyID / unitCode / schemeID / listID / mimeCode attribute, in document order,
    with the XPath of its element below ``root``; and every ``ram:ReferenceTypeCode`` element
    (attribute ``ReferenceTypeCode``): the CII binding of BR-CL-07 checks each one, not only
    the scheme of BT-18 / BT-128 that the model keeps."""
    paths: dict[Element, str] = {root: "/" + _step(root.tag)}
    steps: dict[Element, dict[Element, str]] = {}

    def where(el: Element) -> str:
        path = paths.get(el)
        if path is None:
            parent = el.getparent()
            assert parent is not None  # the root's path is known
            if len(parent) > _FEW_SIBLINGS:  # every child's step at once, kept for the others
                if parent not in steps:
                    steps[parent] = _child_steps(parent)
                step = steps[parent][el]
            else:  # just this one: its namesakes, counted in C
                tag = el.tag
                same = list(parent.iterchildren(tag))
                step = _step(tag) if len(same) == 1 else f"{_step(tag)}[{same.index(el) + 1}]"
            path = paths[el] = f"{where(parent)}/{step}"
        return path

    uses = []
    for el in root.iter(etree.Element):  # in Python: cheaper than an XPath with predicates
        if el.tag == _REFERENCE_TYPE_CODE:  # BR-CL-07 checks each, whatever its document
            uses.append(
                CodeUse(attribute="ReferenceTypeCode", value=raw_text(el), location=where(el))
            )
        if el.keys():
            for name in CODE_ATTRIBUTES:
                value = el.get(name)
                if value is not None:
                    uses.append(CodeUse(attribute=name, value=value, location=where(el)))
    return uses


def _child_steps(parent: Element) -> dict[Element, str]:
    """Each child's location step, with ``[n]`` where the parent has several of that name."""
    children = [c for c in parent if c.tag.__class__ is str]
    counts: dict[str, int] = {}
    for c in children:
        counts[c.tag] = counts.get(c.tag, 0) + 1
    seen: dict[str, int] = {}
    out: dict[Element, str] = {}
    for c in children:
        step = _step(c.tag)
        if counts[c.tag] > 1:
            seen[c.tag] = n = seen.get(c.tag, 0) + 1
            step += f"[{n}]"
        out[c] = step
    return out


class Reader:
    """Typed values out of one document, collecting a finding for each unreadable one."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def _unreadable(self, el: Element, what: str, problem: str) -> None:
        self.findings.append(
            Finding(
                rule="PROCURE-PARSE-01",
                severity="fatal",
                message=f"{what}: {problem}; ask the supplier to correct and resend the invoice",
                location=element_path(el),
            )
        )

    def unused(self, el: Element, message: str) -> None:
        """A value that is present but not read into the model (a warning, PROCURE-PARSE-02)."""
        self.findings.append(
            Finding(
                rule="PROCURE-PARSE-02",
                severity="warning",
                message=message,
                location=element_path(el),
            )
        )

    def decimal(self, el: Element | None, what: str) -> Decimal | None:
        """An amount, quantity or rate exactly as written (``100.00`` keeps two decimals)."""
        if el is None:
            return None
        raw = raw_text(el).strip()
        if _DECIMAL.fullmatch(raw):
            return Decimal(raw)
        self._unreadable(el, what, f"{raw!r} is not a decimal number")
        return None

    def dec(self, k: Kids, name: str, what: str) -> Decimal | None:
        return self.decimal(first(k, name), what)

    def date(self, wrapper: Element | None, what: str) -> dt.date | None:
        """A date from ``<X><udt:DateTimeString format="102">YYYYMMDD</...></X>`` (also
        ``udt:DateString`` and ``qdt:DateTimeString``)."""
        if wrapper is None:
            return None
        inner = next((c for c in wrapper if c.tag.__class__ is str), None)
        if inner is None:
            self._unreadable(wrapper, what, "the date element is empty")
            return None
        raw = raw_text(inner).strip()
        fmt = inner.get("format")
        if _DATE_102.fullmatch(raw) and fmt in (None, "102"):
            try:
                return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
            except ValueError:
                pass
        self._unreadable(
            inner, what, f"{raw!r} (format {fmt!r}) is not a date in format 102 (YYYYMMDD)"
        )
        return None

    def indicator(self, wrapper: Element | None, what: str) -> bool | None:
        """A ``udt:Indicator``: xs:boolean, so exactly true / false / 1 / 0 (``TRUE`` is not)."""
        if wrapper is None:
            return None
        el = first(kids(wrapper), "Indicator")
        raw = "" if el is None else raw_text(el).strip()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        self._unreadable(el if el is not None else wrapper, what, f"{raw!r} is not true or false")
        return None

    def period(self, el: Element | None, what: str, code: str | None = None) -> Period | None:
        """BG-14 / BG-26 from a ``BillingSpecifiedPeriod`` (and, at document level, BT-8)."""
        if el is None and code is None:
            return None
        k = kids(el)
        return Period(
            start=self.date(first(k, "StartDateTime"), f"{what} start date"),
            end=self.date(first(k, "EndDateTime"), f"{what} end date"),
            description_code=code,
        )

    def allowance_charge(self, el: Element, level: str) -> AllowanceCharge | None:
        """One ``SpecifiedTradeAllowanceCharge`` (BG-20/21 document, BG-27/28 line). An entry
        whose charge indicator cannot be read is dropped with a fatal finding: we cannot tell
        whether it adds to or takes from the total."""
        k = kids(el)
        is_charge = self.indicator(
            first(k, "ChargeIndicator"), f"{level} allowance/charge indicator (ChargeIndicator)"
        )
        if is_charge is None:
            if "ChargeIndicator" not in k:
                self._unreadable(el, f"{level} allowance/charge", "ChargeIndicator is missing")
            return None
        # BT-95/96, BT-102/103: a VAT category is a document-level term only
        tax = kids(first(k, "CategoryTradeTax")) if level == "document" else {}
        ac = "charge" if is_charge else "allowance"
        return AllowanceCharge(
            is_charge=is_charge,
            amount=self.decimal(first(k, "ActualAmount"), f"{level} {ac} amount"),
            base_amount=self.dec(k, "BasisAmount", f"{level} {ac} base amount"),
            percent=self.dec(k, "CalculationPercent", f"{level} {ac} percentage"),
            vat_category=text(tax, "CategoryCode"),
            vat_rate=self.dec(tax, "RateApplicablePercent", f"{level} {ac} VAT rate"),
            reason=text(k, "Reason"),
            reason_code=text(k, "ReasonCode"),
        )

    def allowances_charges(
        self, elements: list[Element], level: str
    ) -> tuple[tuple[AllowanceCharge, ...], tuple[AllowanceCharge, ...]]:
        read = [self.allowance_charge(el, level) for el in elements]
        return (
            tuple(a for a in read if a is not None and not a.is_charge),
            tuple(a for a in read if a is not None and a.is_charge),
        )

    def line(self, el: Element) -> InvoiceLine:
        """BG-25 from one ``IncludedSupplyChainTradeLineItem``."""
        k = kids(el)
        doc = kids(first(k, "AssociatedDocumentLineDocument"))
        product = kids(first(k, "SpecifiedTradeProduct"))
        agreement = kids(first(k, "SpecifiedLineTradeAgreement"))
        gross = kids(first(agreement, "GrossPriceProductTradePrice"))
        net = kids(first(agreement, "NetPriceProductTradePrice"))
        settlement = kids(first(k, "SpecifiedLineTradeSettlement"))
        tax = kids(first(settlement, "ApplicableTradeTax"))
        billed = first(kids(first(k, "SpecifiedLineTradeDelivery")), "BilledQuantity")
        base = first(net, "BasisQuantity")
        if base is None:  # (never ``or``: a childless lxml element is falsy)
            base = first(gross, "BasisQuantity")
        discount = kids(first(gross, "AppliedTradeAllowanceCharge"))
        allowances, charges = self.allowances_charges(
            every(settlement, "SpecifiedTradeAllowanceCharge"), "line"
        )
        notes = [t for n in every(doc, "IncludedNote") for t in texts(kids(n), "Content")]
        return InvoiceLine(
            id=text(doc, "LineID"),
            note="\n".join(notes) or None,
            object_id=invoiced_object(every(settlement, "AdditionalReferencedDocument")),
            quantity=self.decimal(billed, "BT-129 invoiced quantity"),
            unit_code=None if billed is None else clean(billed.get("unitCode")),
            net_amount=self.dec(
                kids(first(settlement, "SpecifiedTradeSettlementLineMonetarySummation")),
                "LineTotalAmount",
                "BT-131 invoice line net amount",
            ),
            order_line_reference=text(
                kids(first(agreement, "BuyerOrderReferencedDocument")), "LineID"
            ),
            accounting_reference=child_text(
                first(settlement, "ReceivableSpecifiedTradeAccountingAccount"), "ID"
            ),
            period=self.period(first(settlement, "BillingSpecifiedPeriod"), "BG-26 line period"),
            allowances=allowances,
            charges=charges,
            unit_price=self.dec(net, "ChargeAmount", "BT-146 item net price"),
            price_discount=self.dec(discount, "ActualAmount", "BT-147 item price discount"),
            gross_price=self.dec(gross, "ChargeAmount", "BT-148 item gross price"),
            price_base_quantity=self.decimal(base, "BT-149 item price base quantity"),
            price_base_unit=None if base is None else clean(base.get("unitCode")),
            vat_category=text(tax, "CategoryCode"),
            vat_rate=self.dec(tax, "RateApplicablePercent", "BT-152 invoiced item VAT rate"),
            item_name=text(product, "Name"),
            item_description=text(product, "Description"),
            seller_item_id=text(product, "SellerAssignedID"),
            buyer_item_id=text(product, "BuyerAssignedID"),
            standard_item_id=identifier(first(product, "GlobalID")),
            classifications=tuple(
                Identifier(value=v, scheme=clean(c.get("listID")))
                for d in every(product, "DesignatedProductClassification")
                for c in every(kids(d), "ClassCode")
                if (v := clean(raw_text(c))) is not None
            ),
            origin_country=child_text(first(product, "OriginTradeCountry"), "ID"),
            attributes=tuple(
                ItemAttribute(name=text(ck, "Description") or "", value=text(ck, "Value"))
                for ck in map(kids, every(product, "ApplicableProductCharacteristic"))
            ),
        )


def invoiced_object(documents: list[Element]) -> Identifier | None:
    """BT-18 / BT-128: the ``AdditionalReferencedDocument`` with TypeCode 130, its
    ``ReferenceTypeCode`` as the scheme."""
    for el in documents:
        k = kids(el)
        if text(k, "TypeCode") == "130" and (value := text(k, "IssuerAssignedID")) is not None:
            return Identifier(value=value, scheme=text(k, "ReferenceTypeCode"))
    return None


def address(el: Element | None) -> Address | None:
    """BG-5 / BG-8 / BG-12 / BG-15 from a ``PostalTradeAddress``."""
    if el is None:
        return None
    k = kids(el)
    return Address(
        line1=text(k, "LineOne"),
        line2=text(k, "LineTwo"),
        line3=text(k, "LineThree"),
        city=text(k, "CityName"),
        postcode=text(k, "PostcodeCode"),
        subdivision=text(k, "CountrySubDivisionName"),
        country=text(k, "CountryID"),
    )


def contact(el: Element | None) -> Contact | None:
    """BG-6 / BG-9 from a ``DefinedTradeContact`` (the person, else the department, is BT-41)."""
    if el is None:
        return None
    k = kids(el)
    return Contact(
        name=text(k, "PersonName") or text(k, "DepartmentName"),
        phone=child_text(first(k, "TelephoneUniversalCommunication"), "CompleteNumber"),
        email=child_text(first(k, "EmailURIUniversalCommunication"), "URIID"),
    )


def tax_registration(k: Kids, scheme: str) -> str | None:
    """The ``SpecifiedTaxRegistration/ID`` with the given schemeID (VA = VAT, FC = tax number)."""
    for reg in every(k, "SpecifiedTaxRegistration"):
        for el in every(kids(reg), "ID"):
            if (el.get("schemeID") or "").strip().upper() == scheme:
                return clean(raw_text(el))
    return None


def party_ids(k: Kids) -> list[Identifier]:
    """``ID`` then ``GlobalID`` (with schemeID), as BT-29 / BT-46 / BT-60 / BT-71."""
    return [i for el in (*every(k, "ID"), *every(k, "GlobalID")) if (i := identifier(el))]


def party(el: Element | None, *, seller: bool) -> Party:
    """BG-4 seller / BG-7 buyer from a ``SellerTradeParty`` / ``BuyerTradeParty`` (BT-32, the
    tax registration identifier, is the seller's only)."""
    if el is None:
        return Party()
    k = kids(el)
    legal = kids(first(k, "SpecifiedLegalOrganization"))
    return Party(
        name=text(k, "Name"),
        trading_name=text(legal, "TradingBusinessName"),
        identifiers=tuple(party_ids(k)),
        legal_id=identifier(first(legal, "ID")),
        vat_id=normalise_vat(tax_registration(k, "VA")),
        tax_registration_id=tax_registration(k, "FC") if seller else None,
        legal_info=text(k, "Description"),
        endpoint_id=identifier(first(kids(first(k, "URIUniversalCommunication")), "URIID")),
        address=address(first(k, "PostalTradeAddress")),
        contact=contact(first(k, "DefinedTradeContact")),
    )
