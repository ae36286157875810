"""Generated receipts (tests/ocr/receipt_text.py): the transaction date is found in every format family a till
or an invoice prints, in seven languages, beside distractors and due, expiry, validity or birth dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.dates import find_date
from tests.ocr.receipt_text import PrintedReceipt, date_receipt

TODAY = date(2026, 6, 1)
OLDEST = date(2007, 1, 1)  # inside the window of ocr/dates.toml (20 years)


@st.composite
def receipts(draw: st.DrawFn) -> PrintedReceipt:
    when = draw(st.dates(OLDEST, TODAY - timedelta(days=1)))
    other = draw(st.dates(OLDEST, TODAY + timedelta(days=400)))
    return date_receipt(lambda options: draw(st.sampled_from(options)), when, other)


@settings(deadline=None, max_examples=600)
@given(receipts())
def test_the_printed_transaction_date_is_found(receipt: PrintedReceipt) -> None:
    assert find_date(receipt.text, today=TODAY) == receipt.printed, receipt.family


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tel: 03 12 45 67 89\nDatum 23 Mai 2007", date(2007, 5, 23)),  # a number on the line above is no day
        ("Heure 12:05\nDATA 21 giugno 2024", date(2024, 6, 21)),
        ("14:05 venerdì 17 gen. 2014", date(2014, 1, 17)),  # the time's minutes are no day of "VENERDI"
        ("Invoice Date:14:05 July 15, 2022", date(2022, 7, 15)),  # nor of "JULY 15": the longest reading wins
        ("Fecha: 2009 - 07 - 15", date(2009, 7, 15)),  # ISO with spaces around its separators
        ("TEL: 06.12.34.56.78", None),  # a phone number in pairs is no date
        ("Tél. 01.23.45.67.89", None),
        ("Date: 2O18/o9/0B 2:05 PM", date(2018, 9, 8)),  # O, o and B read for 0 and 8
        ("FECHA 7.2.201B 14:05", date(2018, 2, 7)),
        ("Datum 1S.03.2025", date(2025, 3, 15)),  # S read for 5
        ("Date : 1S mars 201B", date(2018, 3, 15)),  # beside a month name too
        ("Sun May 1B, 2014 09:41", date(2014, 5, 18)),
        ("Datum 03.06.201814h05", date(2018, 6, 3)),  # glued to a time written with an h
        ("Date:25/03/2018,13:11", date(2018, 3, 25)),  # a comma before the time
        ("03.oktober 2010,14h05", date(2010, 10, 3)),
        ("Date: 25/032018 13:11", date(2018, 3, 25)),  # the second separator lost
        ("Data: venerdì 18 APRILE 200B,09:41", date(2008, 4, 18)),  # not the year 20 followed by "0B"
        ("Data di nascita: 12 FEB. 2011\n29 - 05 - 2012", date(2012, 5, 29)),  # Italian birth date
        ("Geburtsdatum: 04.09.2007\nDatum 03.09.2024", date(2024, 9, 3)),  # German birth date
    ],
)
def test_each_family_found_failing(text: str, expected: date | None) -> None:
    assert find_date(text, today=TODAY) == expected
