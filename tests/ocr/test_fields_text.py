"""Field extraction on text (no OCR): how dates are chosen, how sure a kind is, where a trip is found."""

from __future__ import annotations

from datetime import date

import pytest

from ocr.dates import _vocabulary, best_found, date_lines, find_date, find_dates, months, reread
from ocr.fields import find_currency, find_trip, read_fields
from ocr.kinds import guess_kind

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Carte exp 12/03/2027\nDate 01/02/2026 12:00", date(2026, 2, 1)),
        ("Valable jusqu'au 30/06/2026\nle 02/05/2026", date(2026, 5, 2)),
        ("Gültig bis 31.12.2026\nDatum 14.02.2026", date(2026, 2, 14)),
        ("Emis le 01/03/2025\nAller le 05/03/2025", date(2025, 3, 5)),
        ("14 Mar 2048 18:40", date(2018, 3, 14)),  # a misread year digit, repaired to the only recent year
        ("REF 00440010036 25032018 13:11:54", date(2018, 3, 25)),  # day, month and year run together
        ("Total 12,50\n1er avril 2025", date(2025, 4, 1)),
        ("12 / 03 / 24", date(2024, 3, 12)),
        ("38.04.24 08:05", date(2024, 4, 30)),  # a 0 read as 8 in the day
        ("Le 31/65/24 à 08:56", date(2024, 5, 31)),  # and as 6 in the month
        ("Datumig27.03.25) 15:31", date(2025, 3, 27)),  # the colon misread as letters touching the day
        ("MHD 25.02.2027\nSumme 7,46", None),  # only a best-before date: no transaction date
    ],
)
def test_transaction_date_is_preferred(text: str, expected: date | None) -> None:
    assert find_date(text, today=TODAY) == expected


def test_kind_confidence_grows_with_evidence_and_drops_with_rivals() -> None:
    one = guess_kind("TAXI\nTOTAL 12,00")
    many = guess_kind("TAXI G7\nLicence 123\nPrise en charge 08:12\nCourse 10,00\nTarif B\nDistance 4,2 km")
    mixed = guess_kind("HOTEL DE LA GARE\nNuitée chambre 80,00\nTaxe de séjour 1,65\nRestaurant 25,00")
    assert one.kind == many.kind == "taxi"
    assert one.confidence < many.confidence <= 1.0
    assert mixed.kind == "hotel" and mixed.confidence < many.confidence


def test_no_kind_word_gives_other() -> None:
    guess = guess_kind("ARTICLE 1  3,00\nTOTAL 3,00")
    assert guess.kind == "other" and guess.confidence < 0.5


@pytest.mark.parametrize(
    ("text", "cities"),
    [
        ("Trajet : PARIS BERCY > LILLE EUROPE\nDépart le 3 mai 2025", ("PARIS BERCY", "LILLE EUROPE")),
        ("Hinfahrt: Berlin Hbf -> Hamburg Hbf", ("Berlin Hbf", "Hamburg Hbf")),
        ("De NANTES à RENNES\nle 03/02/2025", ("NANTES", "RENNES")),
        ("08h12 PARIS GARE DE LYON\n10h14 LYON PART DIEU\nVoiture 3", ("PARIS GARE DE LYON", "LYON PART DIEU")),
        ("From YORK to LEEDS\n12 Mar 2025", ("YORK", "LEEDS")),
    ],
)
def test_trip_cities(text: str, cities: tuple[str, str]) -> None:
    trip = find_trip(text)
    assert trip is not None and (trip.from_city, trip.to_city) == cities


def test_currency_from_marks_then_country() -> None:
    assert find_currency("TOTAL £12.40") == "GBP"
    assert find_currency("Total CHF 38.90") == "CHF"
    assert find_currency("TOTAL RM 8.20") == "MYR"
    assert find_currency("SIRET 123 456 789 00012\nTOTAL TTC 12,40") == "EUR"  # a French receipt without €
    assert find_currency("Summe 12,40\nMwSt 19%") == "EUR"
    assert find_currency("TOTAL 12.40") is None


def test_fields_of_a_non_ticket_have_no_trip() -> None:
    fields = read_fields("BRASSERIE DU PORT\nDe 12h à 14h\nMenu 15,00\nTOTAL 15,00", today=TODAY)
    assert fields.kind == "meal" and fields.trip is None and fields.merchant == "BRASSERIE DU PORT"


@pytest.mark.parametrize(
    ("first", "other", "expected"),
    [
        ("06/02/2016 20:01", "06/03/2018 20:01", "06/03/2018"),  # digits misread at first
        ("Date 6/3/2018 22 52 33", "Date:5/3/201822:52:33", "5/3/2018"),  # glued to the time after it
        ("Receipt : 71857936 02/03/18 05:16", "Receipt : 7185793602/03/18 05:16", "02/03/18"),  # and before it
        ("02/07/25 19:55", "02/07/2519:55", "02/07/25"),  # a two-digit year stays two digits
        ("Aller le 05/06/2025", "Aller le 050/2025", None),  # no date of that shape: nothing to say
        ("le 31/01/2025", "le 31/13/2025", None),  # not a date
    ],
)
def test_a_date_read_again_keeps_its_shape(first: str, other: str, expected: str | None) -> None:
    found = best_found(find_dates(first, date(2026, 1, 1)))
    assert found is not None
    assert reread(first, found, other, date(2026, 1, 1)) == expected


def test_lines_that_may_print_a_date_the_likeliest_first() -> None:
    lines = ["STERN-APOTHEKE", "Summe 7,46", "1570124 11:20", "Datum:-27 03.25", "Kasse 2", "Ref 27 03 25"]
    assert date_lines(lines) == [3, 2, 5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Madrid, 15 de marzo de 2024", date(2024, 3, 15)),  # Spanish month name, "de" between the parts
        ("Lisboa, 5 de março de 2024", date(2024, 3, 5)),  # Portuguese
        ("Milano, 7 ottobre 2024", date(2024, 10, 7)),  # Italian
        ("Amsterdam, 12 maart 2025", date(2025, 3, 12)),  # Dutch
        ("12 N0V 2024 18:40", date(2024, 11, 12)),  # a zero read for the O of a month name
        ("0CT 12, 2024", date(2024, 10, 12)),
        ("Q1-Nov-2017 11:20:04AM", date(2017, 11, 1)),  # a Q read for the 0 opening the day
        ("I5/03/2025 12:10", date(2025, 3, 15)),  # an I read for the 1 opening the day
        ("V2.8206/12/201620:09:40", date(2016, 12, 6)),  # glued to the digits before and the time after
        ("Date 15 03 2025", date(2025, 3, 15)),  # split by spaces alone, after a date word
        ("Ticket 4 15 03 2025 12:10", date(2025, 3, 15)),  # or before a time of day
        ("Date 15/03-2025 12:00", date(2025, 3, 15)),  # one separator misread as another
        ("Version 91.1.15_C", None),  # a version number is no date
    ],
)
def test_date_notations_and_misreads(text: str, expected: date | None) -> None:
    assert find_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Scadenza 30/04/2026\nData 02/05/2026", date(2026, 5, 2)),  # Italian due date
        ("Vencimiento 30/04/2026\nFecha 02/05/2026", date(2026, 5, 2)),  # Spanish
        ("Vervaldatum 30-04-2026\nDatum 02-05-2026", date(2026, 5, 2)),  # Dutch
        ("Validade 30/04/2026\nData 02/05/2026", date(2026, 5, 2)),  # Portuguese
        ("Edité le 02/04/2025\n01/04/2025", date(2025, 4, 1)),  # a print date loses to a bare date
        ("Date 06/2/2016\nV2.82 06/12/2016 20:09:40", date(2016, 12, 6)),  # the till's stamp, with its time
        ("Date 12/12/2026\n02/05/2026", date(2026, 5, 2)),  # in the future (today 2026-06-01): not the sale
        ("Date 03/01/2004\nle 02/05/2026", date(2026, 5, 2)),  # older than the window of dates.toml
        ("Date 12/12/2026", None),
    ],
)
def test_the_transaction_date_among_others(text: str, expected: date | None) -> None:
    assert find_date(text, today=TODAY) == expected


def test_month_names_in_seven_languages_name_one_month_each() -> None:
    names = months()
    for language in ("fr", "en", "de", "es", "it", "nl", "pt"):
        table = _vocabulary()["months"][language]
        assert len(table) == 12, language
        assert [names[spellings.split()[0]] for spellings in table] == list(range(1, 13)), language
