"""The one French formatter: amounts, numbers, dates, times, sizes, local time of recorded timestamps."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from core import french


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.56"), "1 234,56 €"),
        (Decimal("0.005"), "0,01 €"),
        (Decimal("-5"), "-5,00 €"),
        (Decimal("1000000"), "1 000 000,00 €"),
        (20, "20,00 €"),
    ],
)
def test_amounts_have_a_decimal_comma_grouped_thousands_and_plain_spaces(value: Decimal, expected: str) -> None:
    assert french.format_amount(value) == expected


def test_quantities_numbers_and_plurals() -> None:
    assert french.format_quantity(Decimal("1.5"), "heure") == "1,5 heure"
    assert french.format_quantity(Decimal("95"), "copie") == "95 copies"
    assert french.format_quantity(Decimal("12"), "km") == "12 km"
    assert french.format_number(Decimal("2"), 1) == "2,0"


def test_dates_and_times() -> None:
    assert french.format_date(date(2022, 12, 2)) == "02/12/2022"
    assert french.format_day_month(date(2022, 12, 2)) == "02/12"
    assert french.format_long_date(date(2022, 12, 2)) == "vendredi 2 décembre 2022"
    assert french.format_weekday_date(date(2022, 12, 2)) == "vendredi 02/12/2022"
    assert french.format_time(time(8, 5)) == "08:05"
    assert french.format_at(datetime(2022, 12, 2, 8, 30)) == "02/12/2022 à 08:30"
    assert french.format_moment(None) == "—"


def test_recorded_timestamps_are_shown_in_paris_time_summer_and_winter() -> None:
    assert french.format_timestamp(datetime(2022, 7, 2, 8, 30)) == "02/07/2022 10:30"  # UTC+2
    assert french.format_timestamp(datetime(2022, 12, 2, 8, 30)) == "02/12/2022 09:30"  # UTC+1


@pytest.mark.parametrize(
    ("size", "expected"),
    [(1, "1 octet"), (900, "900 octets"), (63_693, "62,2 Ko"), (5_452_595, "5,2 Mo"), (5 * 1024 * 1024, "5 Mo")],
)
def test_sizes_in_french_units(size: int, expected: str) -> None:
    assert french.format_size(size) == expected
