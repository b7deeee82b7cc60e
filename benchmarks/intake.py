"""``procure bench intake``: how fast documents come in, beside the floors that bound it.

Figures (each the median of ``runs`` after a warm-up, anchors measured in the same run,
alternately with their figure, see ``paired``):
- intake_documents_per_second: parse + validate + canonical model over the corpus's valid UBL
  and CII documents, beside ``lxml_floor_documents_per_second`` (lxml parse plus compiled XPath
  extraction of 25 key fields: 20 header fields and 5 per line);
- intake_lines_per_second: a synthetic 10,000-line UBL invoice through the same path;
- xlsx_rows_per_second: a 10,000-row supplier workbook through ``parse_xlsx``, beside openpyxl
  read_only iterating the same rows;
- store_invoices_per_second: parse, validate, save and event on PostgreSQL (batches of 100),
  and ``store_1000_line_invoice_seconds`` for one 1,000-line invoice through the same path.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from lxml import etree

from benchmarks.report import emit, figure

UBL = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
UBL_HEADER = [
    "cbc:ID",
    "cbc:IssueDate",
    "cbc:InvoiceTypeCode|cbc:CreditNoteTypeCode",
    "cbc:DocumentCurrencyCode",
    "cbc:TaxCurrencyCode",
    "cbc:DueDate",
    "cbc:BuyerReference",
    "cac:OrderReference/cbc:ID",
    "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
    "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
    "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",
    "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode",
    "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
    "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",
    "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID",
    "cac:LegalMonetaryTotal/cbc:LineExtensionAmount",
    "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount",
    "cac:TaxTotal/cbc:TaxAmount",
    "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
    "cac:LegalMonetaryTotal/cbc:PayableAmount",
]
UBL_LINE = [
    "cbc:ID",
    "cbc:InvoicedQuantity|cbc:CreditedQuantity",
    "cbc:LineExtensionAmount",
    "cac:Price/cbc:PriceAmount",
    "cac:Item/cbc:Name",
]
H = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTrade"
CII_HEADER = [
    "rsm:ExchangedDocument/ram:ID",
    "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString",
    "rsm:ExchangedDocument/ram:TypeCode",
    f"{H}Settlement/ram:InvoiceCurrencyCode",
    f"{H}Settlement/ram:TaxCurrencyCode",
    f"{H}Settlement/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
    f"{H}Agreement/ram:BuyerReference",
    f"{H}Agreement/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID",
    f"{H}Settlement/ram:InvoiceReferencedDocument/ram:IssuerAssignedID",
    f"{H}Agreement/ram:SellerTradeParty/ram:Name",
    f"{H}Agreement/ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID",
    f"{H}Agreement/ram:SellerTradeParty/ram:PostalTradeAddress/ram:CountryID",
    f"{H}Agreement/ram:BuyerTradeParty/ram:Name",
    f"{H}Agreement/ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID",
    f"{H}Settlement/ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
    f"{H}Settlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:LineTotalAmount",
    f"{H}Settlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxBasisTotalAmount",
    f"{H}Settlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount",
    f"{H}Settlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount",
    f"{H}Settlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:DuePayableAmount",
]
CII_LINE = [
    "ram:AssociatedDocumentLineDocument/ram:LineID",
    "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity",
    "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
    "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount",
    "ram:SpecifiedTradeProduct/ram:Name",
]


def _compile(paths: list[str], ns: dict[str, str]) -> list[etree.XPath]:
    return [etree.XPath(f"string(({p})[1])", namespaces=ns) for p in paths]


UBL_X = (
    _compile(UBL_HEADER, UBL),
    etree.XPath("cac:InvoiceLine|cac:CreditNoteLine", namespaces=UBL),
    _compile(UBL_LINE, UBL),
)
CII_X = (
    _compile(CII_HEADER, CII),
    etree.XPath(
        "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", namespaces=CII
    ),
    _compile(CII_LINE, CII),
)


def lxml_floor(data: bytes) -> list[object]:
    """The least any reader must do: parse, then pull the same 25 fields with compiled XPath."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    header, lines, line_fields = UBL_X if "oasis" in (root.nsmap.get(None) or "") else CII_X
    out: list[object] = [x(root) for x in header]
    for line in cast("list[etree._Element]", lines(root)):  # the path selects elements
        out.extend(x(line) for x in line_fields)
    return out


def corpus_documents(corpus: Path) -> list[bytes]:
    """The corpus's valid UBL and CII instance documents (INDEX.tsv: 0 fatal EN 16931)."""
    with (corpus / "INDEX.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        (corpus / r["path"]).read_bytes()
        for r in rows
        if r["kind"] in {"ubl-invoice", "ubl-creditnote", "cii"} and r["en16931"] == "0 fatal"
    ]


def paired(
    anchor: Callable[[], Any], fn: Callable[[], Any], runs: int
) -> tuple[list[float], list[float]]:
    """Seconds per run of the anchor and of the figure, measured alternately (anchor, figure,
    anchor, figure…) after a warm-up of each: on a shared machine whose load drifts, both see
    the same moments, so their ratio compares like with like."""
    anchor()
    fn()
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        for fn_, out in ((anchor, a), (fn, b)):
            start = time.perf_counter()
            fn_()
            out.append(time.perf_counter() - start)
    return a, b


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main(*, runs: int, corpus: Path, postgres: bool) -> None:
    from procure.einvoice.reader import read_document

    docs = corpus_documents(corpus)
    n = len(docs)
    floor_s, intake_s = paired(
        lambda: [lxml_floor(d) for d in docs], lambda: [read_document(d) for d in docs], runs
    )
    floor, intake = [n / s for s in floor_s], [n / s for s in intake_s]
    emit(figure("lxml_floor_documents_per_second", floor, "documents/s"))
    emit(
        figure(
            "intake_documents_per_second",
            intake,
            "documents/s",
            anchor="lxml_floor_documents_per_second",
            anchor_samples=floor,
        )
    )

    from procure.einvoice.synthetic import synthetic_invoice
    from procure.einvoice.ubl_writer import render_ubl

    big = render_ubl(synthetic_invoice(10_000, seed=1))
    big_floor_s, big_intake_s = paired(lambda: lxml_floor(big), lambda: read_document(big), runs)
    big_floor, big_intake = [10_000 / s for s in big_floor_s], [10_000 / s for s in big_intake_s]
    emit(figure("lxml_floor_lines_per_second", big_floor, "lines/s"))
    emit(
        figure(
            "intake_lines_per_second",
            big_intake,
            "lines/s",
            anchor="lxml_floor_lines_per_second",
            anchor_samples=big_floor,
        )
    )

    workbook = _workbook(10_000)
    from procure.einvoice.xlsx import parse_xlsx

    opx_s, ours_s = paired(
        lambda: _openpyxl_rows(workbook),
        lambda: parse_xlsx(workbook, max_bytes=50_000_000),
        runs,
    )
    opx, ours = [10_000 / s for s in opx_s], [10_000 / s for s in ours_s]
    emit(figure("openpyxl_read_only_rows_per_second", opx, "rows/s"))
    emit(
        figure(
            "xlsx_rows_per_second",
            ours,
            "rows/s",
            anchor="openpyxl_read_only_rows_per_second",
            anchor_samples=opx,
        )
    )
    if postgres:
        _store_figures(runs, docs)


def _workbook(rows: int) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Invoice No", "BENCH-1"])
    ws.append(["Invoice Date", "2026-11-20"])
    ws.append(["Your Order Ref", "PO-2026-000001"])
    ws.append(["VAT Reg No", "GB220430231"])
    ws.append(["Supplier", "Castle Office Supplies Ltd"])
    ws.append([])
    ws.append(["Description", "Qty", "Unit", "Unit Price", "VAT %", "Net"])
    for i in range(rows):
        ws.append([f"Item {i}", 2, "each", 1.25, 0.2, 2.5])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _openpyxl_rows(data: bytes) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return count


def _store_figures(runs: int, docs: list[bytes]) -> None:
    from benchmarks.requisitions import PG_DEFAULT, ensure_database, fresh_app
    from procure.einvoice.synthetic import synthetic_invoice
    from procure.einvoice.ubl_writer import render_ubl
    from procure.services.intake import Received, ingest_many
    from procure.settings import Settings

    url = Settings(
        database_url=os.environ.get("PROCURE_BENCH_DATABASE_URL", PG_DEFAULT)
    ).database_url
    ensure_database(url)
    app = fresh_app(url, "embedded")
    try:
        batch = 100
        counter = iter(range(10**9))

        def invoices() -> list[Received]:
            return [
                Received(render_ubl(synthetic_invoice(5, seed=next(counter))), "bench.xml", "bench")
                for _ in range(batch)
            ]

        samples = []
        for _ in range(runs + 1):
            payload = invoices()
            start = time.perf_counter()
            ingest_many(app.ctx, payload)
            samples.append(batch / (time.perf_counter() - start))
        emit(figure("store_invoices_per_second", samples[1:], "invoices/s"))
        _parallel_store_figure(app, invoices, samples[1:], runs)
        one = []
        for r in range(runs + 1):
            data = render_ubl(synthetic_invoice(1000, seed=10**6 + r))
            start = time.perf_counter()
            ingest_many(app.ctx, [Received(data, "big.xml", "bench")])
            one.append(time.perf_counter() - start)
        emit(figure("store_1000_line_invoice_seconds", one[1:], "s"))
    finally:
        app.close()


def _parallel_store_figure(
    app: Any, invoices: Callable[[], list[Any]], one_process: list[float], runs: int
) -> None:
    """The same path as ``store_invoices_per_second`` as a bulk intake runs it
    (``ingest_stream``): documents read in one worker process per core while this process
    stores the batch before. Each run streams 20 batches of 100 through a pool started once
    (the CLI's start-up, about a second, is not counted); the anchor is the one-process figure
    of the same run."""
    from procure.einvoice.xml_safety import Limits
    from procure.services.intake import ingest_stream
    from procure.services.intake_reading import ReaderPool

    workers = os.cpu_count() or 1
    if workers < 2:
        return
    samples = []
    with ReaderPool(workers, Limits(max_bytes=app.ctx.max_document_bytes)) as pool:
        for _ in range(runs + 1):
            batches = [invoices() for _ in range(20)]
            start = time.perf_counter()
            stored = sum(len(b) for b in ingest_stream(app.ctx, batches, pool=pool))
            samples.append(stored / (time.perf_counter() - start))
    emit(
        figure(
            f"store_invoices_per_second_{workers}_readers",
            samples[1:],
            "invoices/s",
            anchor="store_invoices_per_second",
            anchor_samples=one_process,
        )
    )
