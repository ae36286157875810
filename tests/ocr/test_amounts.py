"""Amount parsing, dates and total scoring on text (no OCR)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ocr.amounts import detect_currency, find_amounts, parse_number
from ocr.dates import find_date
from ocr.totals import find_total


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("TOTAL 12,50", ["12.50"]),
        ("Montant 1 234,50 €", ["1234.50"]),
        ("Total 1.234,50", ["1234.50"]),
        ("Amount 1,234.50", ["1234.50"]),
        ("Total 12.50", ["12.50"]),
        ("€12.50", ["12.50"]),
        ("12.50 EUR", ["12.50"]),
        ("EUR 7,60", ["7.60"]),
        ("A PAYER 12 €", ["12.00"]),
        ("TOTAL RM 33, 92", ["33.92"]),
        ("TOTAL 12,5O", ["12.50"]),  # letter O read for a zero, repaired inside the amount
        ("TOTAL 4S,20", ["45.20"]),
        ("TOTAL SO,OO", []),  # too few real digits: a word, not an amount
        ("Payable: -1.73", ["-1.73"]),
        ("le 12.01.19 a 12:30", []),  # a date and a time are not amounts
        ("TVA 20,00% 3,33", ["3.33"]),  # a rate is not an amount
        ("TOTAL", []),
        ("Tel 04 91 16 27 12", []),
        # RapidOCR glues a label to its amount: read when a real digit follows a letter that is no look-alike
        ("NET TOTAL174.90", ["174.90"]),
        ("Net Amt :53.55", ["53.55"]),
        ("TOTAL:RM57.80", ["57.80"]),
        ("Summe:12,40", ["12.40"]),
        ("Total8.70", ["8.70"]),
        ("TOTALS174.90", []),  # S may be a 5: not split off a glued number
        ("Date:12.03.19", []),
        # cents printed without their leading zero, after a label or a currency mark
        ("CHANGE RM .40", ["0.40"]),
        ("Rendu: ,50", ["0.50"]),
        ("GST 12.82 .76", ["12.82"]),  # after another amount: a split number's end, not cents alone
    ],
)
def test_find_amounts(line: str, expected: list[str]) -> None:
    assert [str(a.value) for a in find_amounts(line)] == expected


def test_letters_are_not_repaired_outside_amounts() -> None:
    assert find_amounts("SOLDE IOS") == []
    assert parse_number("1 234,5") == Decimal("1234.50")
    assert parse_number("abc") is None


def test_currency() -> None:
    assert detect_currency("TOTAL 12,50 €") == "EUR"
    assert detect_currency("TOTAL RM 12.50") == "MYR"
    assert detect_currency("TOTAL 12,50") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Date : 17/03/2026 14:35", date(2026, 3, 17)),
        ("14/03/20185:57:07PM", date(2018, 3, 14)),  # a time glued to the year (RapidOCR)
        ("Date: 2018/02/2213:34:14", date(2018, 2, 22)),
        ("02/03/1805:16", date(2018, 3, 2)),
        ("27/03/25 20:23", date(2025, 3, 27)),
        ("le 3 mars 2025", date(2025, 3, 3)),
        ("03 MAR 2018", date(2018, 3, 3)),
        ("2024-11-02", date(2024, 11, 2)),
        ("HCO3-7 - 15 ref 1851-A", None),
    ],
)
def test_find_date(text: str, expected: date | None) -> None:
    assert find_date(text, today=date(2026, 6, 1)) == expected


RESTAURANT = """LE BISTROT DU PORT
12 rue de la République 13002 Marseille
17/03/2026 12:41
2 Menu du jour 33,00
1 Café 2,20
SOUS-TOTAL 35,20
TOTAL TTC 35,20 €
TVA 10,00% 3,20
Total HT 32,00
ESPÈCES 50,00
RENDU 14,80
"""

HOTEL = """HOTEL DE LA POSTE
FACTURE N° F2025-1234
Nuitée chambre simple 2 80,91 161,82
Petit-déjeuner 2 9,09 18,18
Total HT 180,00 €
TVA 10 % 18,00 €
Taxe de séjour 3,30 €
Total TTC 201,30 €
Net à payer 201,30 €
"""

SROIE_LIKE = """TOTAL RM 33.92
ROUNDING ADJUSTMENT -RM 0.02
TOTAL ROUNDED RM 33.90
CASH RM 50.00
CHANGE RM 16.10
"""

TOLL_NEXT_LINE = """RECU DE PEAGE
Gare de VIENNE
MONTANT A PAYER
EUR 12,40
Paiement CB
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [(RESTAURANT, "35.20"), (HOTEL, "201.30"), (SROIE_LIKE, "33.90"), (TOLL_NEXT_LINE, "12.40")],
)
def test_find_total(text: str, expected: str) -> None:
    result = find_total(text)
    assert result.total == Decimal(expected)
    assert result.confidence >= 0.5


def test_cash_handed_over_and_change_are_not_the_total() -> None:
    result = find_total("ESPECES 20,00\nRENDU 7,50\nCB 0,00\n")
    assert result.total == Decimal("12.50")  # derived: cash - change


def test_ocr_typo_in_keyword() -> None:
    assert find_total("Totsl RA 12,37\nMerci\n").total == Decimal("12.37")


def test_agreement_raises_confidence() -> None:
    alone = find_total("TOTAL 42,50\n")
    confirmed = find_total("TOTAL 42,50\nCARTE BANCAIRE 42,50\n")
    assert confirmed.total == alone.total == Decimal("42.50")
    assert confirmed.confidence > alone.confidence


def test_no_amount_gives_no_total() -> None:
    result = find_total("Bonjour\nCeci n'est pas un ticket\n")
    assert result.total is None
    assert result.confidence == 0.0


def test_one_decimal_amount_is_trusted_only_next_to_a_total_keyword() -> None:
    assert find_total("Eau 1.5L 2,10\nTotal Payable: 23.2\n").total == Decimal("23.20")
    assert find_total("Poids 2.5\nCB 14,90\n").total == Decimal("14.90")


def test_final_total_after_service_charge_wins() -> None:
    text = "Total Amount: 49.40\nServ Charge 10% 4.94\nGST 6% 3.46\nTOTAL: RM 57.80\n"
    assert find_total(text).total == Decimal("57.80")


def test_total_below_the_amount_before_tax_gives_way_to_their_sum() -> None:
    # "AMT PAID incl. GST : RM78.30" unreadable; "Total eV :2.10" (points) misread as 72.70.
    text = "AMT PAID ich GST AMTE 30\nAmt Paid excl. GST :RM 73.87\nGST AMT : RM4.43\nTOTAL QTY :10\nTotal eV 72.70\n"
    assert find_total(text).total == Decimal("78.30")
    # A total above the amount before tax is left alone, even when tax lines do not add up to it.
    hotel = "Total HT 153,48\nTVA 10% 15,35\nTaxe de séjour 3,30\nTotal TTC 184,30 €\n"
    assert find_total(hotel).total == Decimal("184.30")
