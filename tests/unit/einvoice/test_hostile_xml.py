"""Hostile and broken bytes through ``xml_safety.parse_xml``: each is refused quickly with its
stable code and a message a clerk can act on, and nothing of the machine leaks into it.

Covers entity expansion (billion laughs), external entities and DTDs, truncation, binary,
empty and oversize input, deep nesting, a ZIP archive, and a property: any byte string gives
either a parsed root or ``XmlRejected``, never another exception.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from procure.einvoice.xml_safety import Limits, XmlRejected, parse_xml

HANG = 30.0
"""A hang guard, not a speed claim (speed is shown by ``procure bench intake``): a refusal that
has not come within this many seconds means the parser expanded or waited on something."""

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<lolz>&lol9;</lolz>"
)
PASSWD = Path("/etc/passwd")
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
    "<Note>&xxe;</Note></Invoice>"
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/invoice.dtd">\n'
    '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>'
)


@contextmanager
def refused(code: str) -> Iterator[pytest.ExceptionInfo[XmlRejected]]:
    """Expect an ``XmlRejected`` with ``code``, and no hang on the way."""
    start = time.perf_counter()
    with pytest.raises(XmlRejected) as info:
        yield info
    assert time.perf_counter() - start < HANG
    assert info.value.code == code, info.value.message


def everything_said(exc: BaseException) -> str:
    """All text an exception could show: message, repr, attributes, the formatted chain."""
    return "\n".join([str(exc), repr(exc), str(vars(exc)), *traceback.format_exception(exc)])


def passwd_lines() -> list[str]:
    if not PASSWD.is_file():
        pytest.skip("no /etc/passwd on this machine")
    return [line for line in PASSWD.read_text().splitlines() if len(line) > 8]


# -- entities and DTDs -----------------------------------------------------------------------------


def test_billion_laughs_is_refused_before_any_expansion() -> None:
    with refused("doctype_refused") as info:
        parse_xml(LAUGHS.encode())
    assert "DOCTYPE" in info.value.message
    assert "lol" not in info.value.message


@pytest.mark.parametrize("xml", [XXE, PARAMETER_ENTITY], ids=["general", "parameter"])
def test_an_external_entity_is_refused_and_the_file_never_shows(xml: str) -> None:
    lines = passwd_lines()
    with refused("doctype_refused") as info:
        parse_xml(xml.encode())
    said = everything_said(info.value)
    assert not any(line in said for line in lines)
    assert "root:" not in said


def test_an_external_dtd_is_refused_without_fetching_it() -> None:
    with refused("doctype_refused"):
        parse_xml(EXTERNAL_DTD.encode())


@pytest.mark.parametrize("xml", [LAUGHS, XXE, EXTERNAL_DTD], ids=["laughs", "xxe", "dtd"])
def test_utf16_hostile_documents_never_expand_fetch_or_leak(xml: str) -> None:
    """The DOCTYPE check looks at the bytes, which in UTF-16 it does not recognise; libxml2's
    own guards (no entity substitution, no network, amplification limit) still hold."""
    lines = passwd_lines()
    data = xml.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    start = time.perf_counter()
    try:
        root = parse_xml(data.encode("utf-16"))
    except XmlRejected as exc:
        said = everything_said(exc)
    else:
        said = etree.tostring(root, encoding="unicode")
        assert len(said) < 1_000
    assert time.perf_counter() - start < HANG
    assert not any(line in said for line in lines)


@pytest.mark.parametrize("xml", [LAUGHS, XXE, EXTERNAL_DTD], ids=["laughs", "xxe", "dtd"])
def test_utf16_doctype_is_refused_with_the_doctype_code(xml: str) -> None:
    data = xml.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    with refused("doctype_refused"):
        parse_xml(data.encode("utf-16"))


# -- broken, foreign and oversize input ------------------------------------------------------------


def test_a_truncated_document_names_the_line_and_column() -> None:
    data = b'<?xml version="1.0"?>\n<Invoice>\n  <ID>INV-1</ID>\n  <Note>cut off he'
    with refused("malformed") as info:
        parse_xml(data)
    assert info.value.line == 4
    assert info.value.column is not None
    assert "line 4" in info.value.message


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"BM6\x00\x00\x00\x00\x00"],
    ids=["bytes", "png", "bmp"],
)
def test_binary_bytes_are_refused_as_not_xml(data: bytes) -> None:
    with refused("not_xml"):
        parse_xml(data)


@pytest.mark.parametrize("data", [b"", b"   \n\t  ", b"\n"], ids=["empty", "spaces", "newline"])
def test_an_empty_file_is_refused_as_empty(data: bytes) -> None:
    with refused("empty") as info:
        parse_xml(data)
    assert "empty" in info.value.message


def test_a_file_over_the_size_limit_is_refused_before_parsing() -> None:
    data = b"<Invoice>" + b"x" * 5_000 + b"</Invoice>"
    with refused("too_large") as info:
        parse_xml(data, Limits(max_bytes=1_000))
    assert "1,000" in info.value.message
    assert parse_xml(data, Limits(max_bytes=10_000)).tag == "Invoice"


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    with refused("too_deep"):
        parse_xml(b"<a>" * 100 + b"</a>" * 100)
    assert parse_xml(b"<a>" * 10 + b"</a>" * 10, Limits(max_depth=10)).tag == "a"
    with refused("too_deep"):
        parse_xml(b"<a>" * 11 + b"</a>" * 11, Limits(max_depth=10))


def test_extremely_deep_nesting_is_refused_without_hanging() -> None:
    start = time.perf_counter()
    with pytest.raises(XmlRejected):
        parse_xml(b"<a>" * 100_000 + b"</a>" * 100_000)
    assert time.perf_counter() - start < HANG


def test_extremely_deep_nesting_is_refused_as_too_deep() -> None:
    with refused("too_deep"):
        parse_xml(b"<a>" * 100_000 + b"</a>" * 100_000)


def test_a_zip_archive_is_refused_as_not_xml() -> None:
    with refused("not_xml") as info:
        parse_xml(b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"\x00" * 200)
    assert "ZIP" in info.value.message


def test_a_pdf_is_refused_as_not_xml() -> None:
    with refused("not_xml") as info:
        parse_xml(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    assert "PDF" in info.value.message


# -- any bytes at all ------------------------------------------------------------------------------

XML_LIKE = st.one_of(
    st.binary(max_size=2_000),
    st.text(max_size=500).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.tuples(
        st.sampled_from(
            [
                b"",
                b'<?xml version="1.0"?>',
                b'<?xml version="1.0" encoding="UTF-16"?>',
                b"<?xml version='1.0' encoding='no-such-encoding'?>",
                b"\xef\xbb\xbf",
                b"\xff\xfe",
                b"PK\x03\x04",
                b"<!DOCTYPE a [",
            ]
        ),
        st.lists(
            st.sampled_from(
                [
                    b"<a>",
                    b"</a>",
                    b"<b x='1'>",
                    b"</b>",
                    b"&amp;",
                    b"&#0;",
                    b"&lol;",
                    b"<![CDATA[",
                    b"]]>",
                    b"<!--",
                    b"-->",
                    b"<?pi ?>",
                    b"text",
                    b"\x00",
                    b"\xff",
                    b"\n",
                ]
            ),
            max_size=60,
        ),
    ).map(lambda parts: parts[0] + b"".join(parts[1])),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(XML_LIKE)
def test_any_bytes_give_a_root_or_a_refusal_and_nothing_else(data: bytes) -> None:
    try:
        root = parse_xml(data, Limits(max_bytes=1_500))
    except XmlRejected as exc:
        assert exc.code in {
            "too_large",
            "empty",
            "not_xml",
            "doctype_refused",
            "malformed",
            "too_deep",
        }
        assert exc.message
    else:
        assert isinstance(root.tag, str)
