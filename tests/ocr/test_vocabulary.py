"""The receipt vocabulary (ocr/vocabulary.toml) in seven languages, VAT summary tables, keyword repair,
split amounts and negative subtotals: in text and on generated receipt images read by real engines."""

from __future__ import annotations

from decimal import Decimal

import pytest

import ocr
from ocr.amounts import find_amounts
from ocr.totals import _VOCAB, find_total, normalize
from tests.ocr.receipt_images import jpeg, receipt


@pytest.mark.parametrize(
    ("lines", "total"),
    [
        (["Brot 2,49", "Kaese 3,99", "SUMME EUR 6,48", "Geg. BAR 10,00", "Rückgeld 3,52"], "6.48"),
        (["Wasser 1,20", "Zwischensumme 9,70", "zu zahlen 9,70", "EC-Karte 9,70"], "9.70"),
        (["Pizza 12,00", "Vino 6,50", "TOTALE 18,50", "Contanti 20,00", "Resto 1,50"], "18.50"),
        (["Bocadillo 4,50", "Cafe 1,50", "TOTAL A PAGAR 6,00", "Efectivo 10,00", "Cambio 4,00"], "6.00"),
        (["Koffie 2,80", "Taart 3,90", "TOTAAL 6,70", "PIN 6,70"], "6.70"),
        (["Bica 0,80", "Pastel 1,20", "TOTAL A PAGAR 2,00", "Dinheiro 5,00", "Troco 3,00"], "2.00"),
        (["Menu 25,00", "Acompte versé 10,00", "Restant dû 15,00"], "15.00"),
    ],
)
def test_totals_in_seven_languages(lines: list[str], total: str) -> None:
    assert find_total("\n".join(lines)).total == Decimal(total)


def test_cash_minus_change_in_german_contradicts_a_misread_total() -> None:
    result = find_total("Brot 2,49\nKaese 3,99\nSUMME 8,48\nBAR 10,00\nRückgeld 3,52\n")
    assert result.doubtful  # 10,00 - 3,52 = 6,48
    assert Decimal("6.48") in {c.value for c in result.candidates if c.kind == "derived"}


def test_every_language_has_the_words_the_reader_needs() -> None:
    for section in ("total", "payment", "cash", "change", "subtotal", "tax", "rounding", "billed"):
        assert {"fr", "en", "de", "es", "it", "nl", "pt"} <= set(_VOCAB[section]), section


@pytest.mark.parametrize(
    "table",
    [
        ["MwSt-Satz Netto MwSt Brutto", "A 19% 10,00 1,90 11,90", "Summe 10,00 1,90 11,90"],
        ["GST Summary Amount(RM) Tax(RM)", "SR @ 6% 10,00 1,90", "Total 10,00 1,90"],
        ["Taux HT TVA TTC", "20% 10,00 1,90 11,90", "Total 10,00 1,90 11,90"],
    ],
)
def test_vat_summary_table_total_row_is_not_the_receipt_total_unless_gross(table: list[str]) -> None:
    """A misread total (17,90) above the table: the table's gross column (or net + tax) states 11,90, and
    the table's own "Total" row never yields its net or tax column as the receipt's total."""
    result = find_total("\n".join(["Artikel 11,90", "TOTAL 17,90", *table]))
    values = {c.value for c in result.candidates}
    assert Decimal("10.00") not in values and Decimal("1.90") not in values
    assert Decimal("11.90") in {c.value for c in result.candidates if c.kind == "derived"}


def test_fuzzy_repair_never_turns_an_item_name_into_a_payment_word() -> None:
    for item in ("TARTE", "CARTS", "CARTA", "PARTE", "SOMMET"):
        assert "CARTE" not in normalize(f"{item} 4.50")
    assert normalize("TOTSL 12.00").startswith("TOTAL")  # the total word itself is still repaired
    assert normalize("INCIUSIVE").startswith("INCLUSIVE")
    result = find_total("Tarte aux pommes 4,50\nCafe 2,00\nTOTAL 6,50\n")
    assert result.total == Decimal("6.50") and all(c.kind != "payment" for c in result.candidates)


@pytest.mark.parametrize(
    ("line", "value"),
    [("TOTAL 12 ,50", "12.50"), ("TOTAL 12 .50 EUR", "12.50"), ("Total 45.20'", "45.20"), ("TOTAL 8,90a", "8.90")],
)
def test_amount_split_before_its_decimals_or_followed_by_a_stray_mark(line: str, value: str) -> None:
    assert [a.value for a in find_amounts(line)] == [Decimal(value)]


def test_negative_subtotal_is_never_the_total() -> None:
    result = find_total("Retour article\nSous-total -12,00\nRemboursement CB\n")
    assert result.total is None or result.total > 0
    assert find_total("Article 30,00\nBon -12,00\nSubtotal -12,00\nTOTAL 18,00\n").total == Decimal("18.00")


def test_german_receipt_image_is_read_by_both_engines() -> None:
    lines = [
        "BÄCKEREI MÜLLER",
        "Hauptstr. 5, 80331 München",
        "Brezel              1,20",
        "Kaffee              2,90",
        "Kuchen              3,40",
        "SUMME EUR           7,50",
        "Bar                20,00",
        "Rückgeld           12,50",
        "MwSt  Netto  MwSt  Brutto",
        "7%    7,01   0,49   7,50",
        "Vielen Dank",
    ]
    reading = ocr.read(jpeg(receipt(lines)), "bon.jpg", time_limit=60)
    assert reading.error is None and reading.total == Decimal("7.50")


@pytest.mark.parametrize("label", ["RM", "RH", ""])
def test_rounded_amount_after_a_rounding_line_is_the_total_paid(label: str) -> None:
    """Total 60.31, rounding 0.01, then 60.30 under a misread or missing label: 60.30 was paid."""
    text = f"Lamp 55.90\nTOTAL AMT RM 60.31\nROUNDING ADJ -0.01\n{label} 60.30\nThank you\n"
    assert find_total(text).total == Decimal("60.30")
    assert find_total("Lamp 55.90\nTOTAL 60.31\nROUNDING ADJ -0.01\nItems 60.25\n").total == Decimal("60.31")


def test_cash_minus_change_rounded_beats_the_exact_total_when_rounding_is_printed() -> None:
    assert find_total("Item 10.02\nTOTAL 10.02\nRounding -0.02\nCASH 20.00\nCHANGE 10.00\n").total == Decimal("10.00")


@pytest.mark.parametrize(
    ("items", "table", "paid"),
    [
        (
            ["Nuitée chambre simple x1 85,00", "Petit-déjeuner x1 9,50", "Taxe de séjour x1 2,53"],
            ["Taux HT TVA TTC", "10,00 % 85,91 8,59 94,50", "Total 85,91 8,59 94,50"],
            "Réglé CB 97,03",
        ),
        (
            ["Übernachtung 1 x 92,00", "Frühstück 12,50", "Kurtaxe 2 x 1,80"],
            ["MwSt-Satz Netto MwSt Brutto", "A 7% 97,66 6,84 104,50"],
            "EC-Karte 108,10",
        ),
        (
            ["Camera doppia 120,00", "Tassa di soggiorno 6,00"],
            ["Aliquota Imponibile IVA Totale", "10% 109,09 10,91 120,00"],
            "Pagamento carta 126,00",
        ),
    ],
)
def test_a_tourist_tax_is_an_item_of_the_bill_not_a_tax_on_it(items: list[str], table: list[str], paid: str) -> None:
    """The VAT table covers the taxable lines only; the tourist tax, billed beside them, is part of what was
    paid: the items, tourist tax included, add up to the payment, which is the total."""
    result = find_total("\n".join(["HOTEL", *items, *table, paid]))
    assert str(result.total) == paid.rsplit(" ", 1)[1].replace(",", ".")


def test_a_misread_gesamt_is_still_the_total_word() -> None:
    """« Gesant » (m read as n) names the total: a misread cash line (80,08 for 60,00) minus the change does
    not replace it."""
    assert normalize("Gesant 54,90 €").startswith("GESAMT")
    text = "Rinderroulade 39,60\nKölsch 2,38\nKartoffelsuppe 12,92\nGesant 54,90 €\nBar 80,08\nRückgeld 5,10"
    assert find_total(text).total == Decimal("54.90")
