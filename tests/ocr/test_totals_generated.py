"""Generated receipts (tests/ocr/receipt_text.py): the amount payable is found whatever the language of its
labels, the shape of its amount, its currency mark, and the subtotals, discounts, tax lines, VAT tables, cash
and change, card and rounding lines around it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.amounts import find_amounts
from ocr.totals import find_total
from tests.ocr.receipt_text import PrintedReceipt, total_receipt


@st.composite
def receipts(draw: st.DrawFn) -> PrintedReceipt:
    return total_receipt(lambda options: draw(st.sampled_from(options)))


@settings(deadline=None, max_examples=400)
@given(receipts())
def test_the_amount_payable_is_found(receipt: PrintedReceipt) -> None:
    assert find_total(receipt.text).total == receipt.printed, receipt.family


@pytest.mark.parametrize(
    ("line", "value", "currency"),
    [
        ("Total à payer      1 033 ,27", "1033.27", None),  # thousands grouped, a space before the decimals
        ("Importe total  2.482 ,04 EUR", "2482.04", "EUR"),
        ("TOTAAL            477,40EUR", "477.40", "EUR"),  # a currency code glued after the amount
        ("Total 38.90 CHF", "38.90", "CHF"),
    ],
)
def test_amount_shapes_found_failing(line: str, value: str, currency: str | None) -> None:
    assert [(a.value, a.currency) for a in find_amounts(line)] == [(Decimal(value), currency)]


def test_a_word_spelled_right_is_not_repaired_into_another() -> None:
    """Dutch cash (CONTANT) is one letter from MONTANT: it stays cash, and cash minus change is the total."""
    text = "Koffie 2.499,68\nBrot 60,30\nTotaalbedrag 2 559, 98*\nContant 2560,00\nTerug 0,02"
    assert find_total(text).total == Decimal("2559.98")


@pytest.mark.parametrize(
    ("lines", "total"),
    [
        # cash handed over is no rounded total, however close to the total it is
        (
            [
                *("Café 29,17", "Koffie 12,89", "Pastel 7,90", "Subtotal 49,96", "TOTAL EUROS 49,96 EUR"),
                *("Redondeo -0,01", "TOTAL 49,95", "Entregado 50,00", "Cambio 0,05", "IVA incluido 21% 8,67"),
            ],
            "49.95",
        ),
        # a total word with "rounded" in the receipt's language is the rounded total, not a rounding line
        (["Brot 12,49", "Zwischensumme 12,49", "Rundung 0,01", "Summe gerundet 12,50"], "12.50"),
        # an Italian VAT table (rate, base, tax, gross) is a table: its "Total" row is not the receipt's
        (
            [
                "Brot 0,53",
                "Totale 0,53€",
                "Aliquota IVA  Imponibile  IVA  Lordo",
                "A 6%  0,50  0,03  0,53",
                "Total  0,50  0,03  0,53",
            ],
            "0.53",
        ),
    ],
)
def test_total_families_found_failing(lines: list[str], total: str) -> None:
    assert find_total("\n".join(lines)).total == Decimal(total)
