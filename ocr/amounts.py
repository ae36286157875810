"""Money amounts in receipt text: both number styles, currency marks, OCR confusions repaired in amounts only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Characters OCR commonly puts in place of digits; repaired only inside a token shaped like an amount.
_CONFUSIONS = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "S": "5",
        "s": "5",
        "l": "1",
        "I": "1",
        "|": "1",
        "i": "1",
        "B": "8",
        "Z": "2",
        "z": "2",
        "G": "6",
        "g": "9",
    }
)
_D = r"[0-9OoDQSslI|iBZzGg]"  # a digit or a look-alike
CENT = Decimal("0.01")
_CUR_BEFORE = r"(?P<cur1>€|EUR\b|EUR(?=\d)|RM|\$|£|CHF)?"
_CUR_AFTER = r"(?P<cur2>€|EUR(?![A-Za-z])|EUROS?\b|CHF\b|E\b(?![.,]))?"

# 1 234,50 | 1.234,50 | 1,234.50 | 1234.50 | 12,50 | 12, 50 (OCR space) | 12 € | €12; glued to a word or a colon
# ("TOTAL174.90", "Amt :53.55", "Total8.70") when a real digit follows a letter that is no digit look-alike,
# or the end of a lower-case word
_AMOUNT_RE = re.compile(
    r"(?:(?<![\w.,/:%-])|(?:(?<=[ACEFHJKLMNPRTUVWXYabcdefhjkmnpqrtuvwxy:])|(?<=[a-z]{2}))(?=(?:RM|€|\$|£)?\d))"
    + _CUR_BEFORE
    + r"\s?(?P<sign>-\s?)?"
    + r"(?P<num>"
    + rf"{_D}{{1,3}}(?:[ .,'’\u202f]{_D}{{3}})+\s?[.,;]\s?{_D}{{2}}"  # with thousands separators
    + rf"|{_D}{{1,7}}\s?[.,;]\s?{_D}{{2}}"  # plain with cents, a space around the separator ("12 ,50")
    + r"|\d{1,7}(?=\s?(?:€|EUR\b))"  # whole euros with a currency mark after
    + r"|(?<=[€$£])\d{1,7}"  # whole amount after a currency mark
    + r"|(?P<short>\d{1,6}[.,]\d)"  # one decimal: a digit probably lost by OCR
    + r"|(?:(?<=[A-Za-z:€$£]\s)|(?<=[A-Za-z:€$£]))[.,]\d{2}"  # cents without their leading zero ("RM .40")
    + r")"
    + r"(?![.,]\d|\s?%)"
    # one stray mark or letter after, or a currency code glued to it ("12,40EUR")
    + r"(?:(?<=\d)[^\s\w.,%€$£-](?=\s|$)|(?<=\d)[a-z](?=\s|$)|(?![\w])|(?=EUR(?![A-Za-z])|CHF\b))"
    + r"\s?"
    + _CUR_AFTER
)

_CURRENCY_CODES = {
    "€": "EUR",
    "EUR": "EUR",
    "EURO": "EUR",
    "EUROS": "EUR",
    "E": "EUR",
    "RM": "MYR",
    "$": "USD",
    "£": "GBP",
    "CHF": "CHF",
}


@dataclass(frozen=True)
class Amount:
    """One amount found in a line of text."""

    value: Decimal
    start: int
    end: int
    currency: str | None
    repaired: bool  # some characters were OCR look-alikes of digits
    short: bool = False  # printed with one decimal only ("23.2"): weak evidence


def parse_number(raw: str) -> Decimal | None:
    """Parse one number in French or English style ("1 234,50", "1,234.50", "12.5"); None if not a number."""
    s = re.sub(r"[\s'’\u202f]", "", raw).replace(";", ",")
    if not s or not re.fullmatch(r"-?[\d.,]+", s):
        return None
    last = max(s.rfind(","), s.rfind("."))
    if last >= 0 and len(s) - last - 1 in (1, 2):
        whole, frac = s[:last], s[last + 1 :]
    else:
        whole, frac = s, ""
    whole = whole.replace(",", "").replace(".", "")
    try:
        return Decimal(f"{whole or '0'}.{frac or '0'}").quantize(CENT)
    except InvalidOperation:
        return None


def find_amounts(line: str) -> list[Amount]:
    """All amounts in a line, left to right. Look-alike letters are repaired only inside amount-shaped tokens."""
    found: list[Amount] = []
    for m in _AMOUNT_RE.finditer(line):
        raw = m.group("num")
        digits = sum(c.isdigit() for c in raw)
        letters = sum(c.isalpha() or c == "|" for c in raw)
        if digits == 0 or letters > max(1, digits // 3):
            continue  # a word, not a number with a misread digit
        repaired_raw = raw.translate(_CONFUSIONS)
        value = parse_number(repaired_raw)
        if value is None:
            continue
        if m.group("sign"):
            value = -value
        cur = m.group("cur1") or m.group("cur2")
        code = _CURRENCY_CODES.get(cur.upper()) if cur else None
        if cur == "E" and not m.group("cur1"):
            code = "EUR"
        found.append(Amount(value, m.start(), m.end(), code, letters > 0, bool(m.group("short"))))
    return found


def detect_currency(text: str) -> str | None:
    """The currency a receipt is written in, from its marks (€, EUR, RM, $, £, CHF); None if none."""
    counts = {
        "EUR": len(re.findall(r"€|\bEUR(?:OS?)?\b", text, re.IGNORECASE)),
        "MYR": len(re.findall(r"\bRM\s?\d", text)),
        "USD": len(re.findall(r"\$\s?\d|\bUSD\b", text)),
        "GBP": len(re.findall(r"£\s?\d|\bGBP\b", text)),
        "CHF": len(re.findall(r"\bCHF\b", text)),
    }
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else None
