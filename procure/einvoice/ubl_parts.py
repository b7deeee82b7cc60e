"""Building blocks of the UBL 2.1 reader: typed values, locations, and declarative read tables.

``ubl`` describes the UBL structure as nested tables (``Spec``): each maps a child element's tag
to a ``Handler`` that stores its value under a canonical-model field name. ``read`` makes one
pass over the document (lxml's own iteration, no recursion), handing each element to the table
of its parent with one dictionary look-up, and produces a tree of plain dicts shaped like
``Invoice`` that pydantic validates in one call. That is several times cheaper than one XPath
evaluation per business term, and keeps each table next to the UBL structure it mirrors.

Handlers keep the first occurrence of a single-valued term (the binding allows one; a second
is ignored, not merged) and every occurrence of a repeatable one. Values are read leniently:
what is missing is absent (``None`` in the model); what is present but unreadable (an amount
that is not an ``xs:decimal``, a date that is not ``YYYY-MM-DD``, a boolean that is not an
``xs:boolean``) is ``None`` plus a fatal ``PROCURE-PARSE-01`` finding naming the element, the
text and where it is. The tables and finishing steps for the parties (BG-4, BG-7, BG-10, BG-11)
live here too; the rest of the structure is in ``ubl``.

Imports: lxml (elements only, no parsing); nothing from procure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, cast

from lxml import etree

NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS_EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
PARSE_RULE = "PROCURE-PARSE-01"
CODE_ATTRIBUTES = frozenset({"currencyID", "unitCode", "schemeID", "listID", "mimeCode"})

_CODE_ATTRIBUTES = etree.XPath(
    "descendant-or-self::*/@*["
    + " or ".join(f"name()='{name}'" for name in sorted(CODE_ATTRIBUTES))
    + "]"
)
"""The code attributes without a namespace (``name()`` has no prefix), in document order."""
_PREFIXES = {NS_CAC: "cac", NS_CBC: "cbc", NS_EXT: "ext"}
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?")
"""xs:date: YYYY-MM-DD, with an optional time zone that a calendar date does not need."""
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_VAT_NOISE = str.maketrans("", "", " \t\r\n.-")
_FEW = 200
"""Children of the document element up to which ``getpath`` is asked from the top."""

Out = dict[str, Any]
"""What a table read produces: canonical field names (``_``-prefixed ones are working
values that the finishing step removes) to values, dicts and lists."""


class Tags:
    """Clark-notation tags of one namespace as attributes: ``cbc.ID`` is ``"{...}ID"``."""

    def __init__(self, uri: str) -> None:
        self._uri = uri

    def __getattr__(self, name: str) -> str:
        tag = f"{{{self._uri}}}{name}"
        setattr(self, name, tag)  # computed once; later look-ups are plain attributes
        return tag


cac = Tags(NS_CAC)
cbc = Tags(NS_CBC)


def normalise_vat(value: str | None) -> str | None:
    """``"GB 220 4302 31"`` → ``"GB220430231"``: no spaces, dots or dashes; upper case."""
    if value is None:
        return None
    return value.translate(_VAT_NOISE).upper() or None


def text_of(el: etree._Element) -> str | None:
    """The element's text without surrounding whitespace; ``None`` when blank."""
    text = el.text
    if text is None:
        return None
    return text.strip() or None


def attribute(el: etree._Element, name: str) -> str | None:
    value = el.get(name)
    return (value.strip() or None) if value is not None else None


def _shown(raw: str) -> str:
    text = raw.strip()
    return repr(text if len(text) <= 40 else text[:40] + "…")


class Reader:
    """Per-document state: the base element (for locations) and the findings so far."""

    def __init__(self, base: etree._Element) -> None:
        self.base = base
        self.base_path = "/" + etree.QName(base).localname
        self.findings: list[dict[str, Any]] = []
        self.targets: dict[Any, tuple[Out, Spec]] = {}
        """Aggregates to read, each with the dict to fill and its table (see ``read``)."""
        self.pending: list[tuple[Finish, etree._Element, Out, list[Out] | None]] = []
        """Finishing steps to run once the pass is over, with the list an entry sits in."""
        self.unreadable: list[tuple[Out, str]] = []
        """(dict, key) of every value written but unreadable (see ``unreadable_locations``)."""
        self._prefixes = {**{uri: p for p, uri in base.nsmap.items() if p}, **_PREFIXES}
        self._prefixes[etree.QName(base).namespace or ""] = ""  # the document's own: bare
        self._names: dict[Any, str] = {}
        self._paths: dict[Any, str] = {base: self.base_path}
        self._steps: dict[Any, dict[Any, str]] = {}
        self._trees: dict[Any, etree._ElementTree] = {}
        self._few_children = len(base) <= _FEW
        self._usual_prefixes = base.nsmap.get("cac") == NS_CAC and base.nsmap.get("cbc") == NS_CBC

    def where(self, el: etree._Element) -> str:
        """An XPath-like location: ``/Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount``.

        libxml2's ``getpath`` writes it, in C, when the document uses the cac/cbc prefixes.
        It rescans every ancestor's siblings, though, so below a base with many children (a
        10,000-line invoice) it is asked only within the base's child, whose own step comes
        from one count of the base's children. Other prefixes: every step is counted here."""
        path = self._paths.get(el)
        if path is not None:
            return path
        if self._usual_prefixes:
            top = tree = None
            if self._few_children:
                tree = self._trees.get(None)
                if tree is None:
                    tree = self._trees[None] = etree.ElementTree(self.base)
            else:
                top, parent = el, el.getparent()
                while parent is not None and parent is not self.base:
                    top, parent = parent, parent.getparent()
                if parent is not None:
                    tree = self._trees.get(top)
                    if tree is None:
                        tree = self._trees[top] = etree.ElementTree(top)
            if tree is not None:
                inner = tree.getpath(el)  # "/*/cac:InvoiceLine[2]/cbc:LineExtensionAmount"
                rest = inner[inner.find("/", 1) :] if el is not top else ""
                if "*" not in rest:  # "*": an element in a default namespace, name it here
                    return (self.base_path if top is None else self._step_path(top)) + rest
        return self._step_path(el)

    def _step_path(self, el: etree._Element) -> str:
        """The location counted step by step, memoised per element."""
        path = self._paths.get(el)
        if path is None:
            parent = el.getparent()
            if parent is None:  # not below the base: never expected, never fatal
                return f"{self.base_path}/{self.name(el)}"
            steps = self._steps.get(parent)
            if steps is None:
                steps = self._steps[parent] = self._child_steps(parent)
            path = self._paths[el] = f"{self._step_path(parent)}/{steps[el]}"
        return path

    def _child_steps(self, parent: etree._Element) -> dict[Any, str]:
        """Each child's location step, with ``[n]`` where the parent has several of its name."""
        children = list(parent.iterchildren("{*}*"))
        counts: dict[str, int] = {}
        for child in children:
            counts[child.tag] = counts.get(child.tag, 0) + 1
        seen: dict[str, int] = {}
        steps: dict[Any, str] = {}
        for child in children:
            tag = child.tag
            if counts[tag] > 1:
                seen[tag] = n = seen.get(tag, 0) + 1
                steps[child] = f"{self.name(child)}[{n}]"
            else:
                steps[child] = self.name(child)
        return steps

    def code_uses(self) -> list[dict[str, str]]:
        """Every currencyID / unitCode / schemeID / listID / mimeCode at or below the base, in
        document order (one compiled XPath selects the attributes, in C)."""
        where = self.where
        return [
            {"attribute": a.attrname, "value": str(a), "location": where(a.getparent())}
            for a in cast("list[Any]", _CODE_ATTRIBUTES(self.base))
        ]

    def forget_locations(self) -> None:
        """Drop the memoised paths (and the element proxies they keep alive)."""
        self._paths = {self.base: self.base_path}
        self._steps.clear()
        self._trees.clear()

    def written_but_unreadable(self, el: etree._Element, out: Out, key: str) -> None:
        """Note a value whose text is there (not blank) but did not read: present for the
        Schematron's "shall have" tests, unreadable for us (``bad`` has said why)."""
        if (el.text or "").strip():
            self.unreadable.append((out, key))

    def bad(self, el: etree._Element, message: str) -> None:
        self.findings.append(
            {
                "rule": PARSE_RULE,
                "severity": "fatal",
                "message": message,
                "location": self.where(el),
            }
        )

    def decimal(self, el: etree._Element) -> Decimal | None:
        """An amount, quantity or rate exactly as written (``"100.00"`` keeps its scale)."""
        raw = el.text or ""
        text = raw.strip()
        if _DECIMAL.fullmatch(text):
            return Decimal(text)
        self.bad(
            el,
            f"{self.name(el)} {_shown(raw)} is not a number: write digits with an optional "
            "decimal point and no thousands separators, e.g. 1234.56",
        )
        return None

    def date(self, el: etree._Element) -> dt.date | None:
        raw = el.text or ""
        match = _DATE.fullmatch(raw.strip())
        if match:
            try:
                return dt.date.fromisoformat(match[1])
            except ValueError:  # 2024-02-30
                pass
        self.bad(el, f"{self.name(el)} {_shown(raw)} is not a date in the form YYYY-MM-DD")
        return None

    def boolean(self, el: etree._Element, consequence: str = "") -> bool | None:
        """xs:boolean: true / false / 1 / 0, surrounding whitespace allowed."""
        raw = el.text or ""
        text = raw.strip()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self.bad(el, f"{self.name(el)} {_shown(raw)} is not true, false, 1 or 0{consequence}")
        return None

    def name(self, el: etree._Element) -> str:
        """``cbc:PayableAmount``: the element's name with the usual UBL prefix."""
        tag = el.tag
        name = self._names.get(tag)
        if name is None:
            qname = etree.QName(el)
            prefix = self._prefixes.get(qname.namespace or "", el.prefix)
            name = self._names[tag] = f"{prefix}:{qname.localname}" if prefix else qname.localname
        return name


# -- declarative read tables --------------------------------------------------------------------

Handler = Callable[[Reader, etree._Element, Out], None]
Spec = dict[str, Handler]
Finish = Callable[[Reader, etree._Element, Out], bool | None]
"""Completes an aggregate's dict once all of it has been read; returning False drops it."""


def read(r: Reader, base: etree._Element, spec: Spec) -> Out:
    """Read ``base`` by its table in a single pass, in document order, over the elements the
    tables ask for.

    Not a recursion: an explicit stack holds, for each aggregate being read, the iteration
    over its children and the dict and table they go to. Each child is handled by that table;
    an aggregate handler registers the child in ``r.targets`` when it wants it read, and the
    pass then reads the child's own children before going on with its siblings.
    Descendants of elements no table asked for are never visited. Finishing steps then run
    deepest first, so each sees its parts finished."""
    out: Out = {}
    targets = r.targets
    stack: list[tuple[Iterator[Any], Out, Spec]] = [(iter(base), out, spec)]
    push, pop = stack.append, stack.pop
    while stack:
        children, found, table = stack[-1]
        for el in children:  # comments and processing instructions: no table has their tag
            handle = table.get(el.tag)
            if handle is not None:
                handle(r, el, found)
                if targets:
                    target = targets.pop(el, None)
                    if target is not None:  # read this aggregate's children first
                        push((iter(el), *target))
                        break
        else:
            pop()
    for finish, el, found, siblings in reversed(r.pending):
        if finish(r, el, found) is False and siblings is not None:
            siblings[:] = [s for s in siblings if s is not found]
    targets.clear()  # let the element proxies go: fewer objects for the collector to walk
    r.pending.clear()
    return out


def text(key: str) -> Handler:
    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        if key not in out:
            value = text_of(el)
            if value is not None:
                out[key] = value

    return handle


def texts(key: str) -> Handler:
    """Every non-blank occurrence, in order (notes)."""

    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        value = text_of(el)
        if value is not None:
            out.setdefault(key, []).append(value)

    return handle


def decimal(key: str, attribute_as: tuple[str, str] | None = None) -> Handler:
    """A number; with ``attribute_as=(name, key)`` also that attribute of it, e.g. the
    quantity's unitCode (BT-130) or the TaxAmount's currencyID (BT-110 or BT-111?)."""

    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        if key not in out:
            value = out[key] = r.decimal(el)
            if value is None:
                r.written_but_unreadable(el, out, key)
            if attribute_as is not None:
                out[attribute_as[1]] = attribute(el, attribute_as[0])

    return handle


def date(key: str) -> Handler:
    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        if key not in out:
            value = out[key] = r.date(el)
            if value is None:
                r.written_but_unreadable(el, out, key)

    return handle


def ident(
    key: str, scheme: str = "schemeID", *, many: bool = False, keep_scheme: bool = False
) -> Handler:
    """An identifier with its scheme attribute, as an ``Identifier``-shaped dict. Without a
    value it is absent, unless ``keep_scheme`` and a scheme is written: then it is kept with
    an empty value, so that the code-list rule on the scheme (BR-CL-07) can judge it."""

    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        if many or key not in out:
            value = text_of(el)
            found_scheme = attribute(el, scheme)
            if value is None and keep_scheme and found_scheme is not None:
                value = ""
            if value is not None:
                found = {"value": value, "scheme": found_scheme}
                if many:
                    out.setdefault(key, []).append(found)
                else:
                    out[key] = found

    return handle


def attributes(**keys: str) -> Handler:
    """Only attributes (``key=attribute name``): the element's content is never read."""

    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        for key, name in keys.items():
            if key not in out:
                out[key] = attribute(el, name)

    return handle


def element(key: str) -> Handler:
    """The element itself, for a finishing step that needs more than its text."""

    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        out.setdefault(key, el)

    return handle


def both(*handlers: Handler) -> Handler:
    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        for h in handlers:
            h(r, el, out)

    return handle


def flat(spec: Spec) -> Handler:
    """Read a wrapper aggregate's children into the current dict (``cac:Country`` → country)."""

    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        r.targets[el] = (out, spec)

    return handle


def one(key: str, spec: Spec, finish: Finish | None = None) -> Handler:
    """A single aggregate as a nested dict (the first occurrence)."""

    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        if key not in out:
            found: Out = {}
            out[key] = found
            r.targets[el] = (found, spec)
            if finish is not None:
                r.pending.append((finish, el, found, None))

    return handle


def each(key: str, spec: Spec, finish: Finish | None = None) -> Handler:
    """A repeatable aggregate as a list of dicts, in document order."""

    def handle(r: Reader, el: etree._Element, out: Out) -> None:
        siblings = out.setdefault(key, [])
        found: Out = {}
        siblings.append(found)
        r.targets[el] = (found, spec)
        if finish is not None:
            r.pending.append((finish, el, found, siblings))

    return handle


def requires(key: str) -> Finish:
    """Keep an occurrence whose mandatory value is missing or blank, with that value empty: the
    group is there, so the rule that asks for the value (BR-50, BR-54, BR-55…) must see it."""

    def finish(r: Reader, el: etree._Element, found: Out) -> bool:
        if found.get(key) is None:
            found[key] = ""
        return True

    return finish


def unreadable_locations(doc: Out, marks: list[tuple[Out, str]]) -> list[str]:
    """The canonical locations (``lines[2].net_amount``) of the marked (dict, key) pairs in
    the finished document tree, counting list items from 1 as the rules do. A mark whose dict
    a finishing step replaced is not found and left out: its rule then reports the value
    missing as well, which errs on the side of saying more."""
    wanted: dict[int, list[str]] = {}
    for out, key in marks:
        wanted.setdefault(id(out), []).append(key)
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, here = stack.pop()
        if isinstance(here, dict):
            for key in wanted.get(id(here), ()):
                if here.get(key) is None:
                    found.append(f"{path}.{key}" if path else key)
            for key, value in here.items():
                if isinstance(value, (dict, list)) and not key.startswith("_"):
                    stack.append((f"{path}.{key}" if path else key, value))
        else:
            stack.extend(
                (f"{path}[{n}]", item)
                for n, item in enumerate(here, start=1)
                if isinstance(item, (dict, list))
            )
    return sorted(found)


# -- parties: BG-4 seller, BG-7 buyer, BG-10 payee, BG-11 tax representative -------------

SEPA = "SEPA"
"""The PartyIdentification schemeID that marks BT-90, the bank assigned creditor identifier."""


def _split_sepa(found: Out) -> list[dict[str, Any]]:
    """Party identifiers without the SEPA creditor id, which goes to ``_creditor`` (BT-90)."""
    ids = []
    for i in found.pop("_ids", ()):
        if (i["scheme"] or "").upper() == SEPA:
            found.setdefault("_creditor", i["value"])
        else:
            ids.append(i)
    return ids


def _vat_and_other(found: Out) -> tuple[str | None, str | None]:
    """PartyTaxScheme/CompanyID: (the one whose TaxScheme/ID is VAT, the first other one)."""
    vat = other = None
    for scheme in found.pop("_tax_schemes", ()):
        company_id = scheme.get("company_id")
        if company_id is None:
            continue
        if (scheme.get("scheme") or "").upper() == "VAT":
            vat = vat or normalise_vat(company_id)
        else:
            other = other or company_id
    return vat, other


def finish_seller(r: Reader, el: etree._Element, found: Out) -> None:
    """BG-4: identifiers (BT-29) apart from BT-90; BT-31 VAT and BT-32 other tax id."""
    found["identifiers"] = _split_sepa(found)
    found["vat_id"], found["tax_registration_id"] = _vat_and_other(found)


def finish_buyer(r: Reader, el: etree._Element, found: Out) -> None:
    """BG-7: every identifier (BT-46) as written; BT-48 VAT id."""
    found["identifiers"] = found.pop("_ids", [])  # BT-90 is the seller's or payee's only
    found["vat_id"], _ = _vat_and_other(found)  # and so is BT-32


def finish_payee(r: Reader, el: etree._Element, found: Out) -> None:
    """BG-10: the first identifier that is not BT-90 is BT-60."""
    ids = _split_sepa(found)
    found["identifier"] = ids[0] if ids else None


def finish_tax_representative(r: Reader, el: etree._Element, found: Out) -> None:
    """BG-11: BT-63, its VAT identifier (normalised)."""
    # Only a CompanyID under the VAT tax scheme is BT-63 (BR-56 binds it so); another scheme's
    # number is not the representative's VAT identifier.
    found["vat_id"], _ = _vat_and_other(found)


ADDRESS: Spec = {
    cbc.StreetName: text("line1"),
    cbc.AdditionalStreetName: text("line2"),
    cac.AddressLine: flat({cbc.Line: text("line3")}),
    cbc.CityName: text("city"),
    cbc.PostalZone: text("postcode"),
    cbc.CountrySubentity: text("subdivision"),
    cac.Country: flat({cbc.IdentificationCode: text("country")}),
}
TAX_SCHEME: Spec = {
    cbc.CompanyID: text("company_id"),
    cac.TaxScheme: flat({cbc.ID: text("scheme")}),
}
PARTY: Spec = {
    cbc.EndpointID: ident("endpoint_id"),
    cac.PartyIdentification: flat({cbc.ID: ident("_ids", many=True)}),
    cac.PartyName: flat({cbc.Name: text("trading_name")}),
    cac.PostalAddress: one("address", ADDRESS),
    cac.PartyTaxScheme: each("_tax_schemes", TAX_SCHEME),
    cac.PartyLegalEntity: flat(
        {
            cbc.RegistrationName: text("name"),
            cbc.CompanyID: ident("legal_id"),
            cbc.CompanyLegalForm: text("legal_info"),
        }
    ),
    cac.Contact: one(
        "contact",
        {cbc.Name: text("name"), cbc.Telephone: text("phone"), cbc.ElectronicMail: text("email")},
    ),
}
PAYEE: Spec = {
    cac.PartyIdentification: flat({cbc.ID: ident("_ids", many=True)}),
    cac.PartyName: flat({cbc.Name: text("name")}),
    cac.PartyLegalEntity: flat({cbc.CompanyID: ident("legal_id")}),
}
TAX_REPRESENTATIVE: Spec = {
    cac.PartyName: flat({cbc.Name: text("name")}),
    cac.PostalAddress: one("address", ADDRESS),
    cac.PartyTaxScheme: each("_tax_schemes", TAX_SCHEME),
}
