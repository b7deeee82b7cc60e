"""The EN 16931 core, cohesion and decimal rules (BR-nn, BR-CO-*, BR-DEC-*) on hand-built
canonical invoices.

One valid baseline invoice breaks none of these rules; each case changes one thing and expects
exactly the named rule to fire (and the baseline to stay clean for it). The arithmetic cases pin
the Schematron's rounding (XPath ``round``: half-way towards positive infinity) and BR-CO-17's
own tolerance. The registry is checked against the CEN Schematron: ids, flags and texts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from procure.einvoice.model import (
    Address,
    AllowanceCharge,
    CodeUse,
    Delivery,
    DocumentReference,
    Identifier,
    Invoice,
    InvoiceLine,
    ItemAttribute,
    Party,
    Payee,
    Payment,
    PaymentAccount,
    Period,
    TaxRepresentative,
    Totals,
    VatBreakdown,
)
from procure.einvoice.rules import REGISTRY, load_all, run_rules
from procure.einvoice.rules.support import xpath_round
from tests.conftest import CORPUS, require

D = Decimal
MY_MODULES = {
    "procure.einvoice.rules.core",
    "procure.einvoice.rules.cohesion",
    "procure.einvoice.rules.decimals",
}
ID_PATTERN = re.compile(r"^BR-(\d\d|CO-\d+|DEC-\d+)$")
SCHEMATRON = CORPUS / "en16931-cen" / "ubl" / "schematron" / "abstract" / "EN16931-model.sch"
CII_SCHEMATRON = (
    CORPUS / "en16931-cen" / "cii" / "schematron" / "abstract" / "EN16931-CII-model.sch"
)


def my_rule_ids() -> list[str]:
    load_all()
    return sorted(r.id for r in REGISTRY.values() if r.check.__module__ in MY_MODULES)


def line(n: int, net: str, **changes: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "id": str(n),
        "quantity": D("1"),
        "unit_code": "EA",
        "net_amount": D(net),
        "unit_price": D(net),
        "gross_price": D(net),
        "vat_category": "S",
        "vat_rate": D("20"),
        "item_name": f"Item {n}",
        "standard_item_id": Identifier(value="5012345678900", scheme="0160"),
        "classifications": (Identifier(value="30192000", scheme="STI"),),
        "attributes": (ItemAttribute(name="Colour", value="White"),),
        "period": Period(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)),
    }
    fields.update(changes)
    return InvoiceLine(**fields)


def baseline() -> Invoice:
    """A stationery invoice to a council: 150.00 of lines, a 10.00 allowance, a 5.00 delivery
    charge, 20% VAT, 20.00 paid in advance."""
    gb = Address(line1="1 High Street", city="Leeds", postcode="LS1 1AA", country="GB")
    return Invoice(
        kind="invoice",
        syntax="ubl",
        customization_id="urn:cen.eu:en16931:2017",
        number="INV-1001",
        issue_date=dt.date(2026, 12, 1),
        type_code="380",
        currency="GBP",
        seller=Party(
            name="Acme Stationery Ltd",
            trading_name="Acme",
            identifiers=(Identifier(value="5060000000001", scheme="0088"),),
            legal_id=Identifier(value="01234567", scheme="0195"),
            vat_id="GB123456789",
            endpoint_id=Identifier(value="5060000000001", scheme="0088"),
            address=gb,
        ),
        buyer=Party(
            name="Leeds City Council",
            endpoint_id=Identifier(value="5060000000002", scheme="0088"),
            address=gb,
        ),
        period=Period(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)),
        payment=Payment(
            means_code="30", accounts=(PaymentAccount(account_id="GB33BUKB20201555555555"),)
        ),
        allowances=(
            AllowanceCharge(
                is_charge=False,
                amount=D("10.00"),
                vat_category="S",
                vat_rate=D("20"),
                reason="Volume discount",
            ),
        ),
        charges=(
            AllowanceCharge(
                is_charge=True,
                amount=D("5.00"),
                vat_category="S",
                vat_rate=D("20"),
                reason_code="FC",
            ),
        ),
        totals=Totals(
            line_net=D("150.00"),
            allowances=D("10.00"),
            charges=D("5.00"),
            tax_exclusive=D("145.00"),
            tax=D("29.00"),
            tax_inclusive=D("174.00"),
            prepaid=D("20.00"),
            payable=D("154.00"),
        ),
        vat_breakdown=(
            VatBreakdown(
                taxable_amount=D("145.00"), tax_amount=D("29.00"), category="S", rate=D("20")
            ),
        ),
        supporting_documents=(DocumentReference(id="Timesheet-7"),),
        preceding_invoices=(DocumentReference(id="INV-0999"),),
        lines=(line(1, "100.00"), line(2, "50.00")),
    )


def change(doc: Invoice, **fields: Any) -> Invoice:
    return doc.model_copy(update=fields)


def sub(doc: Invoice, group: str, **fields: Any) -> Invoice:
    """The document with fields of one nested group (seller, totals, payment...) changed."""
    return change(doc, **{group: getattr(doc, group).model_copy(update=fields)})


def first_line(doc: Invoice, **fields: Any) -> Invoice:
    return change(doc, lines=(doc.lines[0].model_copy(update=fields), *doc.lines[1:]))


def fired(doc: Invoice, rule_id: str) -> list[str]:
    return [f.location or "" for f in run_rules(doc, [rule_id])]


# -- the baseline ---------------------------------------------------------------------------


def test_the_baseline_invoice_breaks_none_of_these_rules() -> None:
    findings = run_rules(baseline(), my_rule_ids())
    assert findings == []


# -- each rule fires on its mutation --------------------------------------------------------

Mutation = Callable[[Invoice], Invoice]
ALLOWANCE = AllowanceCharge(is_charge=False, amount=D("1.00"), vat_category="S", reason="x")
CHARGE = AllowanceCharge(is_charge=True, amount=D("1.00"), vat_category="S", reason="x")
TAX_REP = TaxRepresentative(name="Rep BV", vat_id="NL123456789B01", address=Address(country="NL"))

CASES: list[tuple[str, str, Mutation]] = [
    ("BR-01", "no specification identifier", lambda d: change(d, customization_id=None)),
    ("BR-01", "a blank specification identifier", lambda d: change(d, customization_id="  ")),
    ("BR-02", "no invoice number", lambda d: change(d, number=None)),
    ("BR-03", "no issue date", lambda d: change(d, issue_date=None)),
    ("BR-04", "no type code", lambda d: change(d, type_code=None)),
    ("BR-05", "no currency", lambda d: change(d, currency=None)),
    ("BR-06", "no seller name", lambda d: sub(d, "seller", name=None)),
    ("BR-07", "no buyer name", lambda d: sub(d, "buyer", name="")),
    ("BR-08", "no seller address", lambda d: sub(d, "seller", address=None)),
    (
        "BR-09",
        "a seller address without country",
        lambda d: sub(d, "seller", address=Address(city="Leeds")),
    ),
    ("BR-10", "no buyer address", lambda d: sub(d, "buyer", address=None)),
    ("BR-11", "a buyer address without country", lambda d: sub(d, "buyer", address=Address())),
    ("BR-12", "no sum of line net amounts", lambda d: sub(d, "totals", line_net=None)),
    ("BR-13", "no total without VAT", lambda d: sub(d, "totals", tax_exclusive=None)),
    ("BR-14", "no total with VAT", lambda d: sub(d, "totals", tax_inclusive=None)),
    ("BR-15", "no amount due", lambda d: sub(d, "totals", payable=None)),
    ("BR-16", "no lines", lambda d: change(d, lines=())),
    (
        "BR-17",
        "a payee without a name",
        lambda d: change(d, payee=Payee(identifier=Identifier(value="P1"))),
    ),
    (
        "BR-17",
        "a payee that is the seller (UBL: trading name)",
        lambda d: change(d, payee=Payee(name="Acme")),
    ),
    (
        "BR-18",
        "a tax representative without name",
        lambda d: change(d, tax_representative=TAX_REP.model_copy(update={"name": None})),
    ),
    (
        "BR-19",
        "a tax representative without address",
        lambda d: change(d, tax_representative=TAX_REP.model_copy(update={"address": None})),
    ),
    (
        "BR-20",
        "a tax representative address without country",
        lambda d: change(
            d, tax_representative=TAX_REP.model_copy(update={"address": Address(city="Utrecht")})
        ),
    ),
    ("BR-21", "a line without id", lambda d: first_line(d, id=None)),
    ("BR-22", "a line without quantity", lambda d: first_line(d, quantity=None)),
    ("BR-23", "a line without unit", lambda d: first_line(d, unit_code=None)),
    ("BR-24", "a line without net amount", lambda d: first_line(d, net_amount=None)),
    ("BR-25", "a line without item name", lambda d: first_line(d, item_name=" ")),
    ("BR-26", "a line without net price", lambda d: first_line(d, unit_price=None)),
    ("BR-27", "a negative net price", lambda d: first_line(d, unit_price=D("-0.01"))),
    ("BR-28", "a negative gross price", lambda d: first_line(d, gross_price=D("-1"))),
    (
        "BR-29",
        "an invoicing period ending before it starts",
        lambda d: change(d, period=Period(start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 1))),
    ),
    (
        "BR-30",
        "a line period ending before it starts",
        lambda d: first_line(
            d, period=Period(start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 1))
        ),
    ),
    (
        "BR-31",
        "an allowance without amount",
        lambda d: change(d, allowances=(ALLOWANCE.model_copy(update={"amount": None}),)),
    ),
    (
        "BR-32",
        "an allowance without VAT category",
        lambda d: change(d, allowances=(ALLOWANCE.model_copy(update={"vat_category": None}),)),
    ),
    (
        "BR-33",
        "an allowance without reason",
        lambda d: change(d, allowances=(ALLOWANCE.model_copy(update={"reason": None}),)),
    ),
    (
        "BR-36",
        "a charge without amount",
        lambda d: change(d, charges=(CHARGE.model_copy(update={"amount": None}),)),
    ),
    (
        "BR-37",
        "a charge without VAT category",
        lambda d: change(d, charges=(CHARGE.model_copy(update={"vat_category": None}),)),
    ),
    (
        "BR-38",
        "a charge without reason",
        lambda d: change(d, charges=(CHARGE.model_copy(update={"reason": None}),)),
    ),
    (
        "BR-41",
        "a line allowance without amount",
        lambda d: first_line(d, allowances=(ALLOWANCE.model_copy(update={"amount": None}),)),
    ),
    (
        "BR-42",
        "a line allowance without reason",
        lambda d: first_line(d, allowances=(ALLOWANCE.model_copy(update={"reason": None}),)),
    ),
    (
        "BR-43",
        "a line charge without amount",
        lambda d: first_line(d, charges=(CHARGE.model_copy(update={"amount": None}),)),
    ),
    (
        "BR-44",
        "a line charge without reason",
        lambda d: first_line(d, charges=(CHARGE.model_copy(update={"reason": None}),)),
    ),
    (
        "BR-45",
        "a breakdown without taxable amount",
        lambda d: change(
            d, vat_breakdown=(d.vat_breakdown[0].model_copy(update={"taxable_amount": None}),)
        ),
    ),
    (
        "BR-46",
        "a breakdown without tax amount",
        lambda d: change(
            d, vat_breakdown=(d.vat_breakdown[0].model_copy(update={"tax_amount": None}),)
        ),
    ),
    (
        "BR-47",
        "a breakdown without category",
        lambda d: change(
            d, vat_breakdown=(d.vat_breakdown[0].model_copy(update={"category": None}),)
        ),
    ),
    (
        "BR-48",
        "a standard-rated breakdown without rate",
        lambda d: change(d, vat_breakdown=(d.vat_breakdown[0].model_copy(update={"rate": None}),)),
    ),
    (
        "BR-49",
        "payment instructions without means code",
        lambda d: sub(d, "payment", means_code=None),
    ),
    (
        "BR-50",
        "a credit transfer account with a blank id",
        lambda d: sub(d, "payment", accounts=(PaymentAccount(account_id=" "),)),
    ),
    (
        "BR-51",
        "a full card number",
        lambda d: sub(d, "payment", means_code="48", accounts=(), card_number="4111111111111111"),
    ),
    (
        "BR-52",
        "a supporting document with a blank reference",
        lambda d: change(d, supporting_documents=(DocumentReference(id=""),)),
    ),
    ("BR-53", "a VAT accounting currency without BT-111", lambda d: change(d, tax_currency="EUR")),
    (
        "BR-54",
        "an item attribute without value",
        lambda d: first_line(d, attributes=(ItemAttribute(name="Colour"),)),
    ),
    (
        "BR-55",
        "a preceding invoice with a blank reference",
        lambda d: change(d, preceding_invoices=(DocumentReference(id=" "),)),
    ),
    (
        "BR-56",
        "a tax representative without VAT id",
        lambda d: change(d, tax_representative=TAX_REP.model_copy(update={"vat_id": None})),
    ),
    (
        "BR-57",
        "a deliver-to address without country",
        lambda d: change(d, delivery=Delivery(address=Address(city="Leeds"))),
    ),
    (
        "BR-61",
        "a credit transfer without account",
        lambda d: sub(d, "payment", means_code="58", accounts=()),
    ),
    (
        "BR-62",
        "a seller endpoint without scheme",
        lambda d: sub(d, "seller", endpoint_id=Identifier(value="x")),
    ),
    (
        "BR-63",
        "a buyer endpoint without scheme",
        lambda d: sub(d, "buyer", endpoint_id=Identifier(value="x")),
    ),
    (
        "BR-64",
        "a standard item id without scheme",
        lambda d: first_line(d, standard_item_id=Identifier(value="5012345678900")),
    ),
    (
        "BR-65",
        "a classification without list id",
        lambda d: first_line(d, classifications=(Identifier(value="30192000"),)),
    ),
    (
        "BR-CO-03",
        "both a VAT point date and its code",
        lambda d: change(d, tax_point_date=dt.date(2026, 11, 30), tax_point_date_code="35"),
    ),
    (
        "BR-CO-03",
        "a VAT point date and the code in the period",
        lambda d: change(
            d, tax_point_date=dt.date(2026, 11, 30), period=Period(description_code="35")
        ),
    ),
    ("BR-CO-04", "a line without VAT category", lambda d: first_line(d, vat_category=None)),
    (
        "BR-CO-09",
        "a seller VAT id without country prefix",
        lambda d: sub(d, "seller", vat_id="123456789"),
    ),
    ("BR-CO-09", "a buyer VAT id with a made-up prefix", lambda d: sub(d, "buyer", vat_id="QQ123")),
    ("BR-CO-10", "BT-106 one penny off", lambda d: sub(d, "totals", line_net=D("150.01"))),
    (
        "BR-CO-11",
        "BT-107 not the sum of allowances",
        lambda d: sub(d, "totals", allowances=D("10.01")),
    ),
    ("BR-CO-11", "allowances without BT-107", lambda d: sub(d, "totals", allowances=None)),
    ("BR-CO-12", "BT-108 not the sum of charges", lambda d: sub(d, "totals", charges=D("4.99"))),
    ("BR-CO-12", "charges without BT-108", lambda d: sub(d, "totals", charges=None)),
    (
        "BR-CO-13",
        "BT-109 not BT-106 - BT-107 + BT-108",
        lambda d: sub(d, "totals", tax_exclusive=D("155.00")),
    ),
    ("BR-CO-14", "BT-110 not the sum of BT-117", lambda d: sub(d, "totals", tax=D("29.01"))),
    (
        "BR-CO-15",
        "BT-112 not BT-109 + BT-110",
        lambda d: sub(d, "totals", tax_inclusive=D("174.10")),
    ),
    ("BR-CO-15", "no BT-110 in the invoice currency", lambda d: sub(d, "totals", tax=None)),
    ("BR-CO-16", "BT-115 not BT-112 - BT-113", lambda d: sub(d, "totals", payable=D("174.00"))),
    (
        "BR-CO-17",
        "BT-117 a whole unit off 20% of BT-116",
        lambda d: change(
            d, vat_breakdown=(d.vat_breakdown[0].model_copy(update={"tax_amount": D("30.00")}),)
        ),
    ),
    ("BR-CO-18", "no VAT breakdown", lambda d: change(d, vat_breakdown=())),
    ("BR-CO-19", "an empty invoicing period", lambda d: change(d, period=Period())),
    ("BR-CO-20", "an empty line period", lambda d: first_line(d, period=Period())),
    (
        "BR-CO-21",
        "an allowance without reason or code",
        lambda d: change(d, allowances=(ALLOWANCE.model_copy(update={"reason": None}),)),
    ),
    (
        "BR-CO-22",
        "a charge without reason or code",
        lambda d: change(d, charges=(CHARGE.model_copy(update={"reason": None}),)),
    ),
    (
        "BR-CO-23",
        "a line allowance without reason or code",
        lambda d: first_line(d, allowances=(ALLOWANCE.model_copy(update={"reason": None}),)),
    ),
    (
        "BR-CO-24",
        "a line charge without reason or code",
        lambda d: first_line(d, charges=(CHARGE.model_copy(update={"reason": None}),)),
    ),
    (
        "BR-CO-26",
        "a seller with no identifier at all",
        lambda d: sub(d, "seller", identifiers=(), legal_id=None, vat_id=None),
    ),
    (
        "BR-CO-26",
        "a seller identified only by a SEPA creditor id",
        lambda d: sub(
            d,
            "seller",
            identifiers=(Identifier(value="GB00ZZZ", scheme="SEPA"),),
            legal_id=None,
            vat_id=None,
        ),
    ),
    (
        "BR-DEC-01",
        "an allowance of 10.000",
        lambda d: change(d, allowances=(ALLOWANCE.model_copy(update={"amount": D("1.000")}),)),
    ),
    (
        "BR-DEC-02",
        "an allowance base of 1.001",
        lambda d: change(d, allowances=(ALLOWANCE.model_copy(update={"base_amount": D("1.001")}),)),
    ),
    (
        "BR-DEC-05",
        "a charge of 1.005",
        lambda d: change(d, charges=(CHARGE.model_copy(update={"amount": D("1.005")}),)),
    ),
    (
        "BR-DEC-06",
        "a charge base of 100.000",
        lambda d: change(d, charges=(CHARGE.model_copy(update={"base_amount": D("100.000")}),)),
    ),
    ("BR-DEC-09", "BT-106 with three decimals", lambda d: sub(d, "totals", line_net=D("150.000"))),
    ("BR-DEC-10", "BT-107 with three decimals", lambda d: sub(d, "totals", allowances=D("10.000"))),
    ("BR-DEC-11", "BT-108 with three decimals", lambda d: sub(d, "totals", charges=D("5.000"))),
    (
        "BR-DEC-12",
        "BT-109 with three decimals",
        lambda d: sub(d, "totals", tax_exclusive=D("145.000")),
    ),
    ("BR-DEC-13", "BT-110 with three decimals", lambda d: sub(d, "totals", tax=D("29.000"))),
    (
        "BR-DEC-14",
        "BT-112 with three decimals",
        lambda d: sub(d, "totals", tax_inclusive=D("174.000")),
    ),
    (
        "BR-DEC-15",
        "BT-111 with three decimals",
        lambda d: sub(d, "totals", tax_in_tax_currency=D("33.123")),
    ),
    ("BR-DEC-16", "BT-113 with three decimals", lambda d: sub(d, "totals", prepaid=D("20.000"))),
    ("BR-DEC-17", "BT-114 with three decimals", lambda d: sub(d, "totals", rounding=D("0.001"))),
    ("BR-DEC-18", "BT-115 with three decimals", lambda d: sub(d, "totals", payable=D("154.000"))),
    (
        "BR-DEC-19",
        "BT-116 with three decimals",
        lambda d: change(
            d,
            vat_breakdown=(d.vat_breakdown[0].model_copy(update={"taxable_amount": D("145.000")}),),
        ),
    ),
    (
        "BR-DEC-20",
        "BT-117 with three decimals",
        lambda d: change(
            d, vat_breakdown=(d.vat_breakdown[0].model_copy(update={"tax_amount": D("29.000")}),)
        ),
    ),
    ("BR-DEC-23", "BT-131 with three decimals", lambda d: first_line(d, net_amount=D("100.000"))),
    (
        "BR-DEC-24",
        "a line allowance of 1.000",
        lambda d: first_line(d, allowances=(ALLOWANCE.model_copy(update={"amount": D("1.000")}),)),
    ),
    (
        "BR-DEC-25",
        "a line allowance base of 1.000",
        lambda d: first_line(
            d, allowances=(ALLOWANCE.model_copy(update={"base_amount": D("1.000")}),)
        ),
    ),
    (
        "BR-DEC-27",
        "a line charge of 1.000",
        lambda d: first_line(d, charges=(CHARGE.model_copy(update={"amount": D("1.000")}),)),
    ),
    (
        "BR-DEC-28",
        "a line charge base of 1.000",
        lambda d: first_line(d, charges=(CHARGE.model_copy(update={"base_amount": D("1.000")}),)),
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "mutate"), [pytest.param(r, m, id=f"{r}: {why}") for r, why, m in CASES]
)
def test_each_rule_holds_on_the_baseline_and_fires_on_its_mutation(
    rule_id: str, mutate: Mutation
) -> None:
    assert fired(baseline(), rule_id) == []
    assert fired(mutate(baseline()), rule_id), f"{rule_id} did not fire"


def test_every_rule_except_the_true_bound_ones_has_a_firing_case() -> None:
    always_true = {"BR-CO-05", "BR-CO-06", "BR-CO-07", "BR-CO-08"}
    assert set(my_rule_ids()) - {r for r, _, _ in CASES} == always_true


def test_reason_code_and_text_agreement_has_no_machine_check_and_always_holds() -> None:
    odd = AllowanceCharge(is_charge=False, amount=D("1"), reason="Freight", reason_code="95")
    doc = change(
        baseline(), allowances=(odd,), charges=(odd.model_copy(update={"is_charge": True}),)
    )
    assert run_rules(doc, ["BR-CO-05", "BR-CO-06", "BR-CO-07", "BR-CO-08"]) == []


# -- rules that hold where a naive reading would fire ---------------------------------------

HOLDING: list[tuple[str, str, Mutation]] = [
    (
        "BR-08",
        "an empty seller address is still an address",
        lambda d: sub(d, "seller", address=Address(country="GB")),
    ),
    (
        "BR-17",
        "a payee other than the seller",
        lambda d: change(d, payee=Payee(name="Factoring plc")),
    ),
    (
        "BR-17",
        "a payee named like the seller's legal name, in UBL",
        lambda d: change(d, payee=Payee(name="Acme Stationery Ltd")),
    ),
    (
        "BR-29",
        "a one-day invoicing period",
        lambda d: change(d, period=Period(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 1))),
    ),
    (
        "BR-29",
        "a period with only a start",
        lambda d: change(d, period=Period(start=dt.date(2026, 11, 1))),
    ),
    (
        "BR-48",
        "a not-subject-to-VAT breakdown without rate",
        lambda d: change(
            d, vat_breakdown=(VatBreakdown(taxable_amount=D("0"), tax_amount=D("0"), category="O"),)
        ),
    ),
    (
        "BR-50",
        "a non credit transfer means needs no account",
        lambda d: sub(d, "payment", means_code="49", accounts=()),
    ),
    ("BR-51", "a masked card number", lambda d: sub(d, "payment", card_number="****1111")),
    (
        "BR-53",
        "BT-6 equal to BT-5 in UBL is satisfied by BT-110",
        lambda d: change(d, tax_currency="GBP"),
    ),
    (
        "BR-53",
        "BT-6 with BT-111",
        lambda d: sub(change(d, tax_currency="EUR"), "totals", tax_in_tax_currency=D("33.40")),
    ),
    (
        "BR-61",
        "means code 57 needs no account here",
        lambda d: sub(d, "payment", means_code="57", accounts=()),
    ),
    ("BR-CO-09", "Greece's EL prefix", lambda d: sub(d, "seller", vat_id="EL123456789")),
    ("BR-CO-09", "Northern Ireland's XI prefix", lambda d: sub(d, "seller", vat_id="XI123456789")),
    (
        "BR-CO-11",
        "neither allowances nor BT-107",
        lambda d: sub(
            change(d, allowances=()), "totals", allowances=None, tax_exclusive=D("155.00")
        ),
    ),
    (
        "BR-CO-13",
        "BT-107 and BT-108 absent: BT-109 = BT-106",
        lambda d: sub(
            change(d, allowances=(), charges=()),
            "totals",
            allowances=None,
            charges=None,
            tax_exclusive=D("150.00"),
        ),
    ),
    ("BR-CO-14", "BT-110 written as 29.0", lambda d: sub(d, "totals", tax=D("29.0"))),
    (
        "BR-CO-16",
        "BT-115 = BT-112 - BT-113 + BT-114",
        lambda d: sub(d, "totals", rounding=D("0.40"), payable=D("154.40")),
    ),
    (
        "BR-CO-19",
        "a period holding only the VAT point date code (UBL)",
        lambda d: change(d, period=Period(description_code="35")),
    ),
    (
        "BR-CO-26",
        "a seller identified only by its VAT id",
        lambda d: sub(d, "seller", identifiers=(), legal_id=None),
    ),
    ("BR-DEC-09", "BT-106 written without decimals", lambda d: sub(d, "totals", line_net=D("150"))),
    (
        "BR-DEC-23",
        "BT-131 written with one decimal",
        lambda d: first_line(d, net_amount=D("100.0")),
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "mutate"), [pytest.param(r, m, id=f"{r}: {why}") for r, why, m in HOLDING]
)
def test_rule_holds(rule_id: str, mutate: Mutation) -> None:
    assert fired(mutate(baseline()), rule_id) == []


def hollow(syntax: str) -> Invoice:
    """Every group present and every value in it missing."""
    empty_ac = AllowanceCharge(is_charge=False)
    return Invoice(
        kind="invoice",
        syntax=syntax,  # type: ignore[arg-type]
        payee=Payee(),
        tax_representative=TaxRepresentative(address=Address()),
        delivery=Delivery(address=Address()),
        period=Period(),
        payment=Payment(means_code="30", accounts=(PaymentAccount(account_id=""),)),
        allowances=(empty_ac,),
        charges=(empty_ac.model_copy(update={"is_charge": True}),),
        vat_breakdown=(VatBreakdown(),),
        supporting_documents=(DocumentReference(id=""),),
        preceding_invoices=(DocumentReference(id=""),),
        lines=(
            InvoiceLine(
                period=Period(),
                allowances=(empty_ac,),
                attributes=(ItemAttribute(name=""),),
                standard_item_id=Identifier(value="x"),
            ),
        ),
    )


@pytest.mark.parametrize("syntax", ["ubl", "cii", "xlsx"])
def test_no_rule_raises_on_an_empty_or_hollow_document(syntax: str) -> None:
    empty = Invoice(kind="invoice", syntax=syntax)  # type: ignore[arg-type]
    for doc in (empty, hollow(syntax)):
        findings = run_rules(doc, my_rule_ids())
        assert all(f.rule in my_rule_ids() for f in findings)
    reported = {f.rule for f in run_rules(hollow(syntax), my_rule_ids())}
    assert {"BR-12", "BR-21", "BR-45", "BR-50", "BR-52", "BR-54", "BR-55"} <= reported
    assert not reported & {"BR-CO-10", "BR-CO-13", "BR-CO-16", "BR-CO-17"}  # nothing to compare


def test_a_finding_names_the_line_and_business_term() -> None:
    doc = change(baseline(), lines=(*baseline().lines, line(3, "1.00", item_name=None)))
    assert fired(doc, "BR-25") == ["lines[3].item_name (BT-153)"]


# -- arithmetic and rounding ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("2.5", 0, "3"),
        ("-2.5", 0, "-2"),  # XPath: half-way goes towards positive infinity
        ("-2.51", 0, "-3"),
        ("1.005", 2, "1.01"),
        ("-1.005", 2, "-1.00"),
        ("44.96499", 2, "44.96"),
        ("123456789012345678901234567890.125", 2, "123456789012345678901234567890.13"),
    ],
)
def test_xpath_round_goes_half_way_towards_positive_infinity(
    value: str, places: int, expected: str
) -> None:
    assert xpath_round(D(value), places) == D(expected)


def lines_of(*nets: str) -> tuple[InvoiceLine, ...]:
    return tuple(line(n, net) for n, net in enumerate(nets, start=1))


@pytest.mark.parametrize(
    ("nets", "line_net", "fires"),
    [
        (("33.333", "33.333", "33.334"), "100.00", False),
        (("0.125",), "0.13", False),  # the sum is rounded half up
        (("0.125",), "0.12", True),
        (("-0.125",), "-0.12", False),  # ...and half-way negatives go up too
        (("-0.125",), "-0.13", True),
        (("110.00", "-90.00"), "20", False),
        (("100.00",), "100", False),  # equal values, different scale
    ],
)
def test_sum_of_line_net_amounts_is_rounded_as_the_schematron_rounds(
    nets: tuple[str, ...], line_net: str, fires: bool
) -> None:
    doc = sub(change(baseline(), lines=lines_of(*nets)), "totals", line_net=D(line_net))
    assert bool(fired(doc, "BR-CO-10")) is fires


def breakdown(taxable: str | None, tax: str, rate: str | None, syntax: str = "ubl") -> Invoice:
    vat = VatBreakdown(
        taxable_amount=None if taxable is None else D(taxable),
        tax_amount=D(tax),
        category="S",
        rate=None if rate is None else D(rate),
    )
    return change(baseline(), syntax=syntax, vat_breakdown=(vat,))


@pytest.mark.parametrize(
    ("taxable", "tax", "rate", "syntax", "fires"),
    [
        ("1000", "250", "25", "ubl", False),
        ("1000", "250.99", "25", "ubl", False),  # less than one unit off: within the tolerance
        ("1000", "249.01", "25", "ubl", False),
        ("1000", "251", "25", "ubl", True),  # exactly one unit off: UBL's "<" refuses it
        ("1000", "249", "25", "ubl", True),
        ("1000", "251", "25", "cii", False),  # CII's "<=" accepts exactly one unit
        ("1000", "251.01", "25", "cii", True),
        ("2141.19", "44.96", "2.1", "ubl", False),  # 44.96499 rounds to 44.96
        ("2141.19", "43.91", "2.1", "ubl", True),
        ("-6491.34", "-1622.84", "25", "ubl", False),  # compared in absolute values
        ("-72.50", "-12.78", "19", "cii", False),
        ("-72.50", "-12.77", "19", "cii", True),
        ("2141.19", "0.0", "0", "ubl", False),
        ("2141.19", "0.49", "0", "ubl", False),  # zero rate: the amount rounds to 0 units
        ("2141.19", "0.5", "0", "ubl", True),
        ("2141.19", "-0.5", "0", "ubl", False),  # round(-0.5) = 0 in XPath
        ("2141.05", ".00", None, "ubl", False),  # no rate: amount 0
        ("2141.05", "1", None, "ubl", True),
        (None, "250", "25", "ubl", False),  # no taxable amount: BR-45 reports it
    ],
)
def test_vat_category_tax_amount_follows_br_co_17_exactly(
    taxable: str | None, tax: str, rate: str | None, syntax: str, fires: bool
) -> None:
    assert bool(fired(breakdown(taxable, tax, rate, syntax), "BR-CO-17")) is fires


@pytest.mark.parametrize(
    ("inclusive", "prepaid", "rounding", "payable", "fires"),
    [
        ("1200", "1000", None, "200.00", False),
        ("1200.78", "1000.0", "0.22", "201", False),
        ("1200.78", None, "0.22", "1201", False),
        ("1200.22", None, "-0.22", "1200.0", False),
        ("12829.69", "12829.69", "0", "0", False),
        ("1200.00", "100", None, "1200.00", True),
        ("1200.78", "100", "0.22", "1100.78", True),
        ("1200.00", None, None, "1100.00", True),
    ],
)
def test_amount_due_follows_br_co_16(
    inclusive: str, prepaid: str | None, rounding: str | None, payable: str, fires: bool
) -> None:
    totals = Totals(
        tax_inclusive=D(inclusive),
        prepaid=None if prepaid is None else D(prepaid),
        rounding=None if rounding is None else D(rounding),
        payable=D(payable),
    )
    assert bool(fired(change(baseline(), totals=totals), "BR-CO-16")) is fires


@pytest.mark.parametrize(("syntax", "fires"), [("ubl", True), ("cii", False)])
def test_br_co_13_rounds_only_when_the_binding_does(syntax: str, fires: bool) -> None:
    """UBL: with neither BT-107 nor BT-108, BT-109 = BT-106 exactly; CII always rounds."""
    totals = Totals(line_net=D("100.005"), tax_exclusive=D("100.01"))
    doc = change(baseline(), syntax=syntax, allowances=(), charges=(), totals=totals)
    assert bool(fired(doc, "BR-CO-13")) is fires


def test_br_co_15_refuses_a_second_total_vat_amount_in_the_invoice_currency() -> None:
    where = "/Invoice/cac:TaxTotal[{}]/cbc:TaxAmount"
    uses = tuple(
        CodeUse(attribute="currencyID", value="GBP", location=where.format(n)) for n in (1, 2)
    )
    assert fired(change(baseline(), code_uses=uses), "BR-CO-15") == ["totals.tax (BT-110)"]
    assert fired(change(baseline(), code_uses=uses[:1]), "BR-CO-15") == []


@pytest.mark.parametrize(("syntax", "fires"), [("ubl", True), ("cii", False)])
def test_br_co_15_in_cii_accepts_no_vat_total_when_totals_with_and_without_vat_agree(
    syntax: str, fires: bool
) -> None:
    totals = Totals(tax_exclusive=D("3200"), tax_inclusive=D("3200"))
    doc = change(baseline(), syntax=syntax, totals=totals)
    assert bool(fired(doc, "BR-CO-15")) is fires


@pytest.mark.parametrize(("syntax", "fires"), [("ubl", True), ("cii", False)])
def test_br_dec_13_counts_written_decimals_except_where_cii_tests_the_value(
    syntax: str, fires: bool
) -> None:
    doc = sub(change(baseline(), syntax=syntax), "totals", tax=D("29.000"))
    assert bool(fired(doc, "BR-DEC-13")) is fires


def test_br_53_in_cii_refuses_a_vat_accounting_currency_equal_to_the_invoice_currency() -> None:
    assert fired(change(baseline(), syntax="cii", tax_currency="GBP"), "BR-53")
    assert not fired(change(baseline(), syntax="ubl", tax_currency="GBP"), "BR-53")


def test_br_17_in_cii_compares_the_payee_with_the_seller_name() -> None:
    doc = change(baseline(), syntax="cii", payee=Payee(name="Acme Stationery Ltd"))
    assert fired(doc, "BR-17")


# -- the registry against the official Schematron -------------------------------------------


def official_asserts(path: Any) -> dict[str, tuple[str, str]]:
    """id → (flag, text without the "[id]-" prefix) for the BR-nn / BR-CO / BR-DEC asserts."""
    ns = {"s": "http://purl.oclc.org/dsdl/schematron"}
    out: dict[str, tuple[str, str]] = {}
    for a in etree.parse(str(path)).iterfind(".//s:assert", ns):
        rule_id = a.get("id") or ""
        if ID_PATTERN.match(rule_id):
            text = " ".join((a.text or "").split()).removeprefix(f"[{rule_id}]-")
            out[rule_id] = (a.get("flag") or "", text)
    return out


def test_every_registered_id_is_an_official_id_in_form() -> None:
    ids = my_rule_ids()
    assert len(ids) == 102
    assert all(ID_PATTERN.match(i) for i in ids), [i for i in ids if not ID_PATTERN.match(i)]


def test_ids_severities_and_texts_match_the_cen_schematron() -> None:
    require("the EN 16931 Schematron", SCHEMATRON.is_file(), str(SCHEMATRON))
    official = official_asserts(SCHEMATRON)
    mine = {i: (REGISTRY[i].severity, REGISTRY[i].text) for i in my_rule_ids()}
    assert set(mine) == set(official), "registered ids differ from the Schematron's"
    wrong_flag = {i: (mine[i][0], official[i][0]) for i in mine if mine[i][0] != official[i][0]}
    assert wrong_flag == {}
    wrong_text = {i for i in mine if mine[i][1] != official[i][1]}
    assert wrong_text == set()


def test_the_cii_schematron_differs_only_in_br_51s_flag() -> None:
    """BR-51 is a warning in the UBL distribution and fatal in the CII one; we keep warning."""
    require("the EN 16931 CII Schematron", CII_SCHEMATRON.is_file(), str(CII_SCHEMATRON))
    ubl, cii = official_asserts(SCHEMATRON), official_asserts(CII_SCHEMATRON)
    differing = {i for i in ubl if ubl[i][0] != cii.get(i, ("", ""))[0]}
    assert differing == {"BR-51"}
    assert REGISTRY["BR-51"].severity == "warning"
