"""Receipt dates (numeric, ISO, month names in French, English, German, Spanish, Italian, Dutch and Portuguese);
the transaction date wins over printed due, expiry, validity, birth or print dates. Vocabulary: ocr/dates.toml."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

VOCABULARY_FILE = Path(__file__).with_name("dates.toml")
_CONTEXT_KINDS = ("not_transaction", "issued", "labelled", "transaction")  # in order of precedence
# What the words before a date make of it: below zero, never the transaction date.
_CONTEXT_SCORES = {"not_transaction": -4.0, "issued": 0.5, "labelled": 2.5, "transaction": 2.0, None: 1.0}
_TIMED = 1.75  # a time of day beside a date (the till's stamp): a bare date then beats a labelled one without
_AS_O_I, _AS_O_L = str.maketrans("01", "OI"), str.maketrans("01", "OL")


@cache
def _vocabulary() -> dict[str, Any]:
    with open(VOCABULARY_FILE, "rb") as f:
        return tomllib.load(f)


@cache
def months() -> dict[str, int]:
    """Every month name and abbreviation of dates.toml (upper case, no accents) -> month number."""
    table: dict[str, int] = {}
    for names in _vocabulary()["months"].values():
        for month, spellings in enumerate(names, start=1):
            for name in spellings.split():
                if table.setdefault(name, month) != month:
                    raise ValueError(f"dates.toml: {name} names two months")
    return table


def _month(word: str) -> int | None:
    """The month a word names, a zero or a one OCR read for an O, I or L repaired ("0CT", "N0V", "APR1L")."""
    if sum(ch.isalpha() for ch in word) < 2:
        return None
    names = months()
    return names.get(word) or names.get(word.translate(_AS_O_I)) or names.get(word.translate(_AS_O_L))


def _phrase(phrase: str) -> str:
    """A phrase of dates.toml as a pattern: whole words, any punctuation between them, * for letters."""
    words = [
        ("[A-Z]*" if w.startswith("*") else "") + re.escape(w.strip("*")) + ("[A-Z]*" if w.endswith("*") else "")
        for w in phrase.split()
    ]
    return r"(?<![A-Z0-9])" + r"\W{0,3}".join(words) + r"(?![A-Z0-9])"


@cache
def _context() -> dict[str, re.Pattern[str]]:
    """Context kind (not_transaction, issued, labelled, transaction) -> a pattern of its phrases."""
    table = _vocabulary()["context"]
    return {kind: re.compile("|".join(_phrase(p) for p in table[kind])) for kind in _CONTEXT_KINDS}


# Letters OCR reads for digits (upper case, after `normalize`): O or Q for 0, I, L or | for 1, S for 5, B for 8.
_OCR_DIGIT_VALUES = {"O": "0", "Q": "0", "I": "1", "L": "1", "|": "1", "S": "5", "B": "8"}
_LOOKALIKE = "[" + "".join(_OCR_DIGIT_VALUES).replace("|", r"\|") + "]"
_DIGITISH = rf"(?:\d|{_LOOKALIKE})"
_SEP = r"\s?([/.\-])\s?"
# A time of day glued to the date ("14/03/20185:57PM", RapidOCR), or after a comma ("14/03/2018,13:11").
_GLUED_TIME = r"(?=(?:,\s?)?\d{1,2}[:H]\d{2})"
_YEAR = rf"(20\d{{2}}{_GLUED_TIME}|\d{{2}}{_GLUED_TIME}|\d{{4}}(?![\w,./-]?\d)|\d{{2}}(?![\w,./-]?\d))"
_NUMERIC = re.compile(rf"(?<![\w.,/-])(\d{{1,2}}){_SEP}(\d{{1,2}})\s?\2\s?{_YEAR}")
# Two different separators, one misread ("15/03-2018", "27.03/2025"): a four-digit year only.
_MIXED_SEPARATORS = re.compile(rf"(?<![\w.,/-])(\d{{1,2}}){_SEP}(\d{{1,2}})\s?(?!\2)[/.\-]\s?(20\d{{2}})(?![\w,/-]?\d)")
# The second separator lost ("25/032018"): a two-digit month, a four-digit year.
_LOST_SEPARATOR = re.compile(rf"(?<![\w.,/-])(\d{{1,2}})([/.\-])(\d{{2}})(20\d{{2}})(?:{_GLUED_TIME}|(?![\w,./-]?\d))")
# A letter touching the day ("Datum:27.03.25" read "Datumig27.03.25"): dots or slashes only, no spaces.
_NUMERIC_TOUCHING = re.compile(r"(?<=[A-Z])(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})(?![\w,/-]?\d)")
_ISO = re.compile(rf"(?<![\w.,/-])(\d{{4}}){_SEP}(\d{{1,2}})\s?\2\s?(\d{{2}}{_GLUED_TIME}|\d{{1,2}}(?!\d))")
_JOINER = rf"(?:(?:{'|'.join(_vocabulary()['joiners'])})\s)?"  # "15 de marzo de 2024"
_DATE_LABEL = "|".join(_vocabulary()["date_words"])
_MONTH_WORD = r"((?=[01]?[A-Z])[A-Z01]{3,10})"  # letters, a 0 or a 1 OCR read for an O, I or L among them
# Day and year beside a month name, one digit of each possibly misread as a letter ("1S mars 201B").
_DAY_MONTH = re.compile(
    rf"(?<![\w.,])({_DIGITISH}{{1,2}})(?:ER|ST|ND|RD|TH)?\.?[\s\-./]{{0,2}}{_JOINER}{_MONTH_WORD}\.?[\s\-./,]{{0,2}}"
    rf"{_JOINER}({_DIGITISH}{{4}}|{_DIGITISH}{{2}})(?:{_GLUED_TIME}|(?![\d,.]\d|{_DIGITISH}))"
)
_MONTH_DAY = re.compile(
    rf"\b{_MONTH_WORD}\.?\s({_DIGITISH}{{1,2}})(?:ST|ND|RD|TH)?,?\s({_DIGITISH}{{4}})(?:{_GLUED_TIME}|(?!\d))"
)
# DATE: 25032018, or 25032018 13:11 (day, month, year run together)
_PACKED = (
    re.compile(rf"\b(?:{_DATE_LABEL})\W{{0,3}}(\d{{2}})(\d{{2}})(20\d{{2}})(?!\d)"),
    re.compile(r"(?<!\d)(\d{2})(\d{2})(20\d{2})(?=\s+\d{1,2}:\d{2})"),
)
_TIME = re.compile(r"(?<!\d)\d{1,2}\s?[:H]\s?\d{2}(?!\d)")
# OCR reads a zero as O or Q and a one as I or l between the digits of a date, or as the first digit of its day
# ("Q1-Nov-2017", "I5/03/2018").
_OCR_DIGITS = re.compile(r"(?<=[\d/.\-])[OQIL|](?=[\d/.\-])|(?<![A-Z0-9])[OQIL|](?=\d[/.\-])")
# A token shaped like a numeric date (three groups of digits and separators) with more digits than look-alike
# letters, at most one per group: its letters are misread digits ("2O18/o9/0B", "1S.03.2025").
_DATE_SHAPED = re.compile(
    rf"(?<![A-Z0-9])(?:\d|{_LOOKALIKE}){{1,4}}(?:\s?[/.\-]\s?(?:\d|{_LOOKALIKE}){{1,4}}){{2}}(?![A-Z])"
)
# A date glued to the digits before it and to the time after it ("V2.8206/12/201620:09:40"): two-digit day
# and month, four-digit year, a time of day right after.
_GLUED_BOTH = re.compile(r"(?<=\d)(\d{2})([/.\-])(\d{2})\2(20\d{2})(?=\s?\d{1,2}:\d{2})")
# A date split by spaces alone ("15 03 2018"), taken only after a date word or before a time of day.
_SPACED = (
    re.compile(rf"\b(?:{_DATE_LABEL})\W{{0,3}}(\d{{1,2}})\s(\d{{1,2}})\s(20\d{{2}})(?!\d)"),
    re.compile(r"(?<![\w.,/-])(\d{1,2})\s(\d{1,2})\s(20\d{2})(?=\s+\d{1,2}\s?[:H]\s?\d{2}(?!\d))"),
)
_MIXED_DOTS = re.compile(r"(?<![\d.,])(\d{1,2})[.,](\d{1,2})[.,](\d{4})(?!\d)")  # 30.04,2025: a dot read as a comma

_DATE_WORD = re.compile(rf"\b(?:{_DATE_LABEL})\b|\bDAT\w{{0,3}}\W")
_DIGIT_PAIRS = re.compile(r"(?<![\d.,])\d{2}\W?\d{2}\W?(?:20)?\d{2}(?![\d.,]\d)")
_RECENT_YEARS = 10  # a misread year is repaired only into the last ten years
_CONTEXT = 28  # characters of the same line before a date that tell what it is


@dataclass(frozen=True)
class FoundDate:
    """One date printed on a receipt, where it starts in the text and how likely it is the transaction's."""

    value: date
    start: int
    line: str
    score: float
    end: int = 0  # where the date's text ends


def normalize(text: str) -> str:
    """Upper case without accents (positions kept: one character out per character in, for Latin text)."""
    out = []
    for ch in text:
        upper = ch.upper() if len(ch.upper()) == 1 else ch  # ß stays one character
        base = unicodedata.normalize("NFKD", upper).encode("ascii", "ignore").decode()
        out.append(base[0] if base else upper)
    return "".join(out)


def _digits_repaired(text: str) -> str:
    """`normalize`, then O, I and L read between the digits of a date turned back into digits (same length)."""
    repaired = _OCR_DIGITS.sub(lambda m: _OCR_DIGIT_VALUES[m[0]], normalize(text))
    return _DATE_SHAPED.sub(_shaped_repaired, repaired)


def _shaped_repaired(m: re.Match[str]) -> str:
    """A date-shaped token's look-alike letters as digits, when few enough to be misreads."""
    groups = re.split(r"\s?[/.\-]\s?", m[0])
    letters = [sum(not ch.isdigit() for ch in g) for g in groups]
    if max(letters) > 1 or sum(letters) >= sum(ch.isdigit() for ch in m[0]):
        return m[0]
    return "".join(_OCR_DIGIT_VALUES.get(ch, ch) for ch in m[0])


def _number(token: str) -> int | None:
    """A day's or a year's digits, one of them possibly read as a look-alike letter; None when more are letters."""
    letters = sum(not ch.isdigit() for ch in token)
    if letters > 1 or letters == len(token):
        return None
    return int("".join(_OCR_DIGIT_VALUES.get(ch, ch) for ch in token))


def _repair_year(year: int, today: date) -> int:
    """A four-digit year misread in one digit (2048, 2118 for 2018): the only recent year one digit away."""
    if year < 100 or 2000 <= year <= today.year + 1:
        return year
    digits = f"{year:04d}"
    near = {
        int(digits[:i] + d + digits[i + 1 :])
        for i in range(4)
        for d in "0123456789"
        if today.year - _RECENT_YEARS <= int(digits[:i] + d + digits[i + 1 :]) <= today.year + 1
    }
    return near.pop() if len(near) == 1 else year


def _zero_misread(value: int, limit: int) -> int:
    """A day or month out of range with a 6, 8 or 9 that OCR read for a 0 (38 -> 30, 65 -> 05)."""
    if value <= limit:
        return value
    digits = f"{value:02d}"
    for i in (1, 0):
        if digits[i] in "689" and 1 <= (fixed := int(digits[:i] + "0" + digits[i + 1 :])) <= limit:
            return fixed
    return value


def _calendar(year: int, month: int, day: int, today: date) -> date | None:
    """The date of a calendar (a two-digit year in this century, a misread year repaired), else None."""
    if year < 100:
        year += 2000
    try:
        return date(_repair_year(year, today), month, day)
    except ValueError:
        return None


def _plausible(d: date, today: date) -> bool:
    """A receipt's date is not in the future (a day's margin for time zones) nor older than dates.toml says."""
    window = _vocabulary()["window"]
    oldest = date(today.year - int(window["max_age_years"]), today.month, min(today.day, 28))
    return oldest <= d <= today + timedelta(days=int(window["future_days"]))


def _make(year: int, month: int, day: int, today: date) -> date | None:
    d = _calendar(year, month, day, today)
    return d if d is not None and _plausible(d, today) else None


def _matches(pattern: re.Pattern[str], upper: str) -> Iterator[tuple[int, re.Match[str]]]:
    """(line offset, match) of every match of `pattern` on each line, overlapping ones included: a date never
    spans two lines, and a number rejected as a date ("89 DATUM 23") does not hide the date after it."""
    offset = 0
    for line in upper.split("\n"):
        pos = 0
        while m := pattern.search(line, pos):
            yield offset, m
            pos = m.start() + 1
        offset += len(line) + 1


def _candidates(upper: str, today: date) -> list[tuple[int, int, date]]:
    """(start, end, date) of every plausible date in normalised text."""
    found: list[tuple[int, int, date]] = []
    for at, m in _matches(_ISO, upper):
        if d := _make(int(m[1]), int(m[3]), int(m[4]), today):
            found.append((at + m.start(), at + m.end(), d))
    for pattern in (_NUMERIC, _NUMERIC_TOUCHING, _GLUED_BOTH, _MIXED_SEPARATORS, _LOST_SEPARATOR):
        for at, m in _matches(pattern, upper):
            day, month, year = int(m[1]), int(m[3]), int(m[4])
            # Day first; month first only when day first is no calendar date; then zeros misread.
            d = _calendar(year, month, day, today) or _calendar(year, day, month, today)
            d = d or _calendar(year, _zero_misread(month, 12), _zero_misread(day, 31), today)
            if d and _plausible(d, today):
                found.append((at + m.start(), at + m.end(), d))
    for pattern, (day, month, year) in ((_DAY_MONTH, (1, 2, 3)), (_MONTH_DAY, (2, 1, 3))):
        for at, m in _matches(pattern, upper):
            day_n, month_n, year_n = _number(m[day]), _month(m[month]), _number(m[year])
            if day_n and month_n and year_n and (d := _make(year_n, month_n, day_n, today)):
                found.append((at + m.start(), at + m.end(), d))
    for pattern in (*_PACKED, *_SPACED):
        for at, m in _matches(pattern, upper):
            if d := _make(int(m[3]), int(m[2]), int(m[1]), today):
                found.append((at + m.start(1), at + m.end(), d))
    return found


def find_dates(text: str, today: date | None = None) -> list[FoundDate]:
    """Every date printed on a receipt, in text order, each scored: the words before it on its line (a due or
    expiry date scores low, "Date :" or "Aller le" high), a time of day on the same line, repetition."""
    today = today or date.today()
    upper = _digits_repaired(text)
    upper = _MIXED_DOTS.sub(r"\1.\2.\3", upper)  # same length: positions kept
    kept: list[tuple[int, int, date]] = []
    # Overlapping readings of the same digits (day-month inside ISO, "05 JULY 15" inside "14:05 JULY 15, 2022"):
    # the longest is the date.
    for start, end, d in sorted(_candidates(upper, today), key=lambda c: (c[0] - c[1], c[0])):
        if all(end <= s or e <= start for s, e, _ in kept):
            kept.append((start, end, d))
    kept.sort()
    counts: dict[date, int] = {}
    for _, _, d in kept:
        counts[d] = counts.get(d, 0) + 1
    out: list[FoundDate] = []
    for start, end, d in kept:
        line_start = upper.rfind("\n", 0, start) + 1
        line_end = upper.find("\n", end)
        line = upper[line_start : line_end if line_end >= 0 else len(upper)]
        before = upper[max(line_start, start - _CONTEXT) : start]
        context = _context()
        kind = next((k for k in _CONTEXT_KINDS if context[k].search(before)), None)
        score = _CONTEXT_SCORES[kind]
        if _TIME.search(line[end - line_start :]) or _TIME.search(before):
            score += _TIMED
        if d > today:
            score -= 1.0
        score += 0.5 * (counts[d] - 1)
        out.append(FoundDate(d, start, text[line_start : line_start + len(line)], score, end))
    return out


def best_found(found: list[FoundDate]) -> FoundDate | None:
    """The transaction date among the dates found: the best score, the first printed on a tie; None when only
    due, expiry or birth dates are printed."""
    best = max(found, key=lambda f: (f.score, -f.start), default=None)
    return best if best is not None and best.score >= 0 else None


def best_date(found: list[FoundDate]) -> date | None:
    """The value of `best_found`."""
    best = best_found(found)
    return None if best is None else best.value


def date_lines(lines: tuple[str, ...] | list[str], limit: int = 4) -> list[int]:
    """Lines without a readable date that probably print one, the likeliest first: a date word ("Date",
    "Datum"), then a time of day, then digits in pairs as a date is written ("27 03.25", "150124")."""
    ranked = []
    for i, line in enumerate(lines):
        upper = normalize(line)
        if _DATE_WORD.search(upper):
            ranked.append((0, i))
        elif _TIME.search(upper):
            ranked.append((1, i))
        elif _DIGIT_PAIRS.search(upper):
            ranked.append((2, i))
    return [i for _, i in sorted(ranked)[:limit]]


def reread(text: str, found: FoundDate, other: str, today: date | None = None) -> str | None:
    """The numeric date `found` (in `text`) as another reading of its line writes it, digits possibly glued to
    their neighbours (RapidOCR joins a date to the time after it, "14/03/20185:57PM"): that date's text when
    it is a valid date of the same shape (separator, year length), else None."""
    shape = re.fullmatch(r"\s*\d{1,2}\s?([/.\-])\s?\d{1,2}\s?[/.\-]\s?(\d{4}|\d{2})\s*", text[found.start : found.end])
    if shape is None:
        return None
    sep, year_digits = re.escape(shape[1]), len(shape[2])
    pattern = re.compile(rf"(\d{{1,2}})\s?{sep}\s?(\d{{1,2}})\s?{sep}\s?(\d{{{year_digits}}})")
    for m in pattern.finditer(_digits_repaired(other)):
        if _make(int(m[3]), int(m[2]), int(m[1]), today or date.today()):
            return m[0]
    return None


def find_date(text: str, today: date | None = None) -> date | None:
    """The transaction date of a receipt (day first as in France; ISO; month names of dates.toml)."""
    return best_date(find_dates(text, today))
