"""Receipt dates in French and English notations."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_MONTHS = {
    "JAN": 1,
    "JANV": 1,
    "JANVIER": 1,
    "JANUARY": 1,
    "FEB": 2,
    "FEV": 2,
    "FEVR": 2,
    "FEVRIER": 2,
    "FEBRUARY": 2,
    "MAR": 3,
    "MARS": 3,
    "MARCH": 3,
    "APR": 4,
    "AVR": 4,
    "AVRIL": 4,
    "APRIL": 4,
    "MAY": 5,
    "MAI": 5,
    "JUN": 6,
    "JUIN": 6,
    "JUNE": 6,
    "JUL": 7,
    "JUIL": 7,
    "JUILLET": 7,
    "JULY": 7,
    "AUG": 8,
    "AOU": 8,
    "AOUT": 8,
    "AUGUST": 8,
    "SEP": 9,
    "SEPT": 9,
    "SEPTEMBRE": 9,
    "SEPTEMBER": 9,
    "OCT": 10,
    "OCTOBRE": 10,
    "OCTOBER": 10,
    "NOV": 11,
    "NOVEMBRE": 11,
    "NOVEMBER": 11,
    "DEC": 12,
    "DECEMBRE": 12,
    "DECEMBER": 12,
}
_NUMERIC = re.compile(r"(?<![\w.,/-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?![\w.,/-]?\d)")
_ISO = re.compile(r"(?<![\w.,/-])(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})(?!\d)")
_WORDS = re.compile(r"(?<!\d)(\d{1,2})(?:ER)?[\s\-.]{0,2}([A-Z]{3,9})\.?[\s\-.]{0,2}(\d{4}|\d{2})(?!\d)")


def _make(year: int, month: int, day: int, today: date) -> date | None:
    if year < 100:
        year += 2000
    try:
        d = date(year, month, day)
    except ValueError:
        return None
    if d.year < 2000 or d > date(today.year + 1, 12, 31):
        return None
    return d


def find_date(text: str, today: date | None = None) -> date | None:
    """The first plausible date of a receipt (day first, as in France; ISO and month names too)."""
    today = today or date.today()
    upper = unicodedata.normalize("NFKD", text.upper()).encode("ascii", "ignore").decode()
    found: list[tuple[int, date]] = []
    for m in _ISO.finditer(upper):
        d = _make(int(m[1]), int(m[3]), int(m[4]), today)
        if d:
            found.append((m.start(), d))
    for m in _NUMERIC.finditer(upper):
        day, month, year = int(m[1]), int(m[3]), int(m[4])
        d = _make(year, month, day, today) or _make(year, day, month, today)
        if d:
            found.append((m.start(), d))
    for m in _WORDS.finditer(upper):
        month = _MONTHS.get(m[2])
        if month:
            d = _make(int(m[3]), month, int(m[1]), today)
            if d:
                found.append((m.start(), d))
    return min(found, key=lambda f: f[0])[1] if found else None
