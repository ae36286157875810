"""Generated receipt text (no OCR) for table-driven and property tests of the date and total readers.

Each generator takes `pick`, which chooses one of a few options: hypothesis's `draw(sampled_from(...))` in the
property tests, `random.Random.choice` when exploring. The receipts are written as tills and invoices print
them (seven languages, label or none, OCR confusions, distractors) with the words of receipt_words.toml, written
independently of the readers' vocabulary files; each one knows what it prints: `printed` is the date or total a
reader must find.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

Pick = Callable[[Sequence[Any]], Any]
WORDS = tomllib.loads((Path(__file__).with_name("receipt_words.toml")).read_text(encoding="utf-8"))
MONTHS: dict[str, list[list[str]]] = WORDS["months"]
_LINES: dict[str, list[str]] = WORDS["lines"]
_CONFUSIONS = {"0": "Oo", "1": "lI", "5": "S", "8": "B"}  # digits OCR reads as letters


@dataclass(frozen=True)
class PrintedReceipt:
    """Receipt text, what it prints (a date or a total), and the families its lines were drawn from."""

    text: str
    printed: Any
    family: tuple[str, ...]


def _misread(pick: Pick, digits: str) -> str:
    """One digit of a date's digits read as a look-alike letter (0 -> O, 1 -> l, 5 -> S, 8 -> B), if any."""
    spots = [i for i, ch in enumerate(digits) if ch in _CONFUSIONS]
    if not spots:
        return digits
    i = pick(spots)
    return digits[:i] + pick(list(_CONFUSIONS[digits[i]])) + digits[i + 1 :]


def date_text(pick: Pick, when: date, language: str) -> tuple[str, str]:
    """`when` written in one of the families a till or an invoice prints, and the family's name."""
    family = pick(["numeric", "numeric", "numeric-yy", "iso", "named", "named", "weekday"])
    if family in ("numeric", "numeric-yy"):
        sep = pick(["/", "-", "."])
        day, month = pick([(f"{when.day:02d}", f"{when.month:02d}"), (str(when.day), str(when.month))])
        year = f"{when.year % 100:02d}" if family == "numeric-yy" else str(when.year)
        if family == "numeric" and len(month) == 2 and pick([False, False, False, True]):
            return f"{day}{sep}{month}{year}", "numeric-lost-separator"  # OCR lost the second separator
        spaced = pick(["", "", " "])
        return f"{day}{spaced}{sep}{spaced}{month}{spaced}{sep}{spaced}{year}", family
    if family == "iso":
        sep = pick(["-", "/", "."])
        spaced = pick(["", "", " "])
        return f"{when.year}{spaced}{sep}{spaced}{when.month:02d}{spaced}{sep}{spaced}{when.day:02d}", family
    names = MONTHS[language][when.month - 1]
    month = pick(list(names))
    month = pick([month, month.upper(), month.lower()])
    shape = pick(WORDS["named_shapes"][language])
    day = pick([str(when.day), f"{when.day:02d}"])
    if "th" in shape and language != "en":
        shape = shape.replace("th", "")
    text = shape.format(d=day, m=month, y=when.year, yy=f"{when.year % 100:02d}")
    if family == "weekday":
        text = f"{WORDS['weekdays'][language][when.weekday()]} {text}"
    return text, family


def _time_text(pick: Pick) -> str:
    return pick(["14:05", "09:41:07", "2:05 PM", "14h05", "8:07AM", "23:59:01"])


def date_line(pick: Pick, when: date, language: str) -> tuple[str, tuple[str, ...]]:
    """A line printing the transaction date: a label or none, a time of day after, before or glued to it, OCR
    confusions in its digits."""
    text, family = date_text(pick, when, language)
    numeric = family in ("numeric", "numeric-lost-separator", "numeric-yy", "iso")
    if family != "numeric-lost-separator" and pick([False, False, True]):  # one OCR error at a time
        parts = _split_digits(text)
        # A lone digit beside a month name, once a letter, is no number any more: misread longer runs there.
        at = pick([i for i, part in enumerate(parts) if part.isdigit() and (numeric or len(part) > 1)])
        text = "".join(_misread(pick, part) if i == at else part for i, part in enumerate(parts))
        family += "+misread"
    place = pick(["none", "after", "after", "before", *(["glued"] if numeric and " " not in text else [])])
    time = _time_text(pick)
    if place == "after":
        text = f"{text}{pick([' ', '  ', '   ', ','])}{time}"
    elif place == "before":
        text = f"{time} {text}"
    elif place == "glued":
        text = f"{text}{time}"
    label = pick([None, *WORDS["date_labels"][language]])
    if label is not None:
        text = f"{label}{pick([' ', ''])}{text}" if label.endswith(":") else f"{label} {text}"
    return text, (language, family, f"time-{place}", "label" if label else "bare")


def _split_digits(text: str) -> list[str]:
    """Runs of digits and runs of everything else."""
    parts: list[str] = []
    for ch in text:
        if parts and parts[-1][-1].isdigit() == ch.isdigit():
            parts[-1] += ch
        else:
            parts.append(ch)
    return parts


def date_receipt(pick: Pick, when: date, other: date) -> PrintedReceipt:
    """A receipt printing `when` as its transaction date, among distractor lines and maybe another, labelled
    date (`other`: due, expiry, validity or birth) before or after it."""
    language = pick(list(MONTHS))
    line, family = date_line(pick, when, language)
    lines = [pick(_LINES["merchants"])]
    lines += [pick(_LINES["distractors"]) for _ in range(pick([1, 2, 3]))]
    body = [line, pick(_LINES["distractors"]), f"TOTAL {pick(['12.05', '31,12', '1.203,50', '08.10'])}"]
    if pick([False, True]):
        other_text, _ = date_text(pick, other, language)
        other_line = f"{pick(WORDS['other_labels'][language])} {other_text}{pick(['', ' ' + _time_text(pick)])}"
        body.insert(pick([0, len(body)]), other_line)
        family += ("other-date",)
    return PrintedReceipt("\n".join(lines + body), when, family)


def day_in(pick: Pick, first: date, last: date) -> date:
    """A day between `first` and `last` (exploring only; the property tests draw dates themselves)."""
    return first + timedelta(days=pick(range((last - first).days + 1)))


CENT = Decimal("0.01")


def amount_text(pick: Pick, value: Decimal, comma: bool, messy: bool = False) -> str:
    """An amount as printed: decimal comma or point, thousands grouped or not; `messy` adds a space before or after
    the decimal separator, as OCR reads a total."""
    whole, cents = f"{abs(value):.2f}".split(".")
    if len(whole) > 3 and pick([False, True]):
        group = pick([" ", "." if comma else ","])
        whole = f"{whole[:-3]}{group}{whole[-3:]}"
    sep = "," if comma else "."
    if messy and pick([False, True]):
        sep = pick([f" {sep}", f"{sep} "])
    return f"{'-' if value < 0 else ''}{whole}{sep}{cents}"


def _with_currency(pick: Pick, text: str, currency: str | None, messy: bool = False) -> str:
    """An amount with its currency before it or, for the euro and the franc, after it; `messy` ends it with a
    stray mark (a smudge, the receipt's edge)."""
    if currency is not None:
        after = currency in ("€", "EUR", "CHF")
        text = pick([f"{currency} {text}", f"{currency}{text}", *([f"{text} {currency}", f"{text}{currency}"] * after)])
    if messy and pick([False, False, True]):
        text += pick(["'", "*", '"', "°", *(["a"] * text[-1].isdigit())])  # a letter only touching a digit
    return text


def _row(label: str, amount: str) -> str:
    """A receipt line: the label, then the amount at the right."""
    return f"{label}{' ' * max(2, 28 - len(label) - len(amount))}{amount}"


def _vat_table(pick: Pick, language: str, gross: Decimal, comma: bool) -> list[str]:
    """A VAT summary table stating how `gross` splits into net and tax at one or two rates, with its total row."""
    rates = pick([[Decimal(20)], [Decimal(19)], [Decimal(10), Decimal(20)], [Decimal(7), Decimal(19)], [Decimal(6)]])
    parts = [gross] if len(rates) == 1 else [(gross * Decimal("0.4")).quantize(CENT)]
    if len(rates) == 2:
        parts.append(gross - parts[0])
    rows = [pick(WORDS["totals"][language]["vat"])]
    nets, taxes = Decimal(0), Decimal(0)
    for rate, part in zip(rates, parts, strict=True):
        net = (part * 100 / (100 + rate)).quantize(CENT)
        nets, taxes = nets + net, taxes + part - net
        cells = [amount_text(pick, v, comma) for v in (net, part - net, part)]
        rows.append(f"{pick(['', 'A ', 'B '])}{rate}%   " + "   ".join(cells))
    total_row = [amount_text(pick, v, comma) for v in (nets, taxes, gross)]
    rows.append(f"{pick(['Total', 'Summe', 'TOTAL', 'Totale'])}   " + "   ".join(total_row))
    return rows


def _rounded(total: Decimal) -> Decimal:
    """A total rounded to the nickel, as cash tills round it."""
    return (total / Decimal("0.05")).quantize(Decimal(1)) * Decimal("0.05")


def total_receipt(pick: Pick) -> PrintedReceipt:
    """A receipt whose amount payable is known: items, maybe a discount block with its negative subtotal, a
    subtotal, the total line (seven languages, currency before or after, messy amount), maybe a rounding line
    and the rounded total, a card line or cash and change, maybe a VAT summary table."""
    language = pick(list(WORDS["totals"]))
    words = WORDS["totals"][language]
    comma = language != "en" or pick([False, False, True])
    currency = pick([None, "€", "EUR"] if language != "en" else [None, "RM", "£", "CHF", "€"])
    family = [language]
    lines = [pick(_LINES["merchants"])]
    lines += [pick(_LINES["headers"]) for _ in range(pick([1, 2]))]
    prices = [Decimal(pick(range(50, 6000))) / 100 for _ in range(pick([1, 2, 3, 5]))]
    if pick([False, False, True]):
        prices.append(Decimal(pick(range(100, 250000))) / 100)  # a hotel night, a train fare
    code = pick(["", "", " A", " B", " 1"])  # a VAT code after each item's price (German tills)
    for price in prices:
        lines.append(_row(pick(_LINES["items"]), amount_text(pick, price, comma)) + code)
    total = sum(prices, Decimal(0))
    if pick([False, False, True]):
        cut = -min(total / 2, Decimal(pick(range(50, 500))) / 100).quantize(CENT)
        lines.append(_row(pick(words["discount"]), amount_text(pick, cut, comma)))
        block = f"{pick(words['subtotal'])} {pick(words['discount']).lower()}"  # the discounts' negative subtotal
        lines.append(_row(block, amount_text(pick, cut, comma)))
        total += cut
        family.append("discount")
    if language == "en" and pick([False, False, True]):  # tax added to the items (GST): net, tax, gross
        tax = (total * Decimal("0.06")).quantize(CENT)
        lines.append(_row(pick(["Total Sales (Excl GST)", "Total Excl. GST", "Sub Total (excl tax)"]), f"{total:.2f}"))
        lines.append(_row(pick(["GST 6%", "SST @6%", "Service Tax 6%"]), f"{tax:.2f}"))
        total += tax
        family.append("tax-added")
    elif pick([False, True]):
        lines.append(_row(pick(words["subtotal"]), amount_text(pick, total, comma)))
        family.append("subtotal")
    printed = _with_currency(pick, amount_text(pick, total, comma, messy=True), currency, messy=True)
    label = pick(words["total"]) + pick(["", "", ":", " :"])
    if pick([False, False, False, True]):  # one letter of the label misread
        at = pick(range(len(label)))
        label = label[:at] + pick(["0", "1", "5", "I", "A"]) + label[at + 1 :]
        family.append("label-misread")
    lines.append(_row(label, printed))
    if total % Decimal("0.05") and pick([False, False, True]):
        rounded = _rounded(total)
        lines.append(_row(pick(words["rounding"]), amount_text(pick, rounded - total, comma)))
        lines.append(
            _row(
                f"{pick(words['total'])} {pick(['', *words['rounded']])}".strip(),
                amount_text(pick, rounded, comma),
            )
        )
        total = rounded
        family.append("rounding")
    if pick([False, True]):
        given = Decimal(pick([5, 10, 20, 50, 100, 200, 500, 5000]))
        given = max(given, (total / 10).quantize(Decimal(1), rounding="ROUND_CEILING") * 10)
        lines.append(_row(pick(words["cash"]), amount_text(pick, given, comma)))
        lines.append(_row(pick(words["change"]), amount_text(pick, given - total, comma)))
        family.append("cash")
    else:
        lines.append(_row(pick(words["card"]), _with_currency(pick, amount_text(pick, total, comma), currency)))
        family.append("card")
    if pick([False, False, True]):
        rate = pick([Decimal(20), Decimal(19), Decimal(7), Decimal(21), Decimal(6)])
        tax = (total * rate / (100 + rate)).quantize(CENT)
        lines.append(_row(f"{pick(words['tax'])} {rate}%", amount_text(pick, tax, comma)))
        family.append("tax-line")
    elif pick([False, True]):
        table = _vat_table(pick, language, total, comma)
        at = pick([len(lines), len(lines) - 1])  # after the payment, or between the total and the payment
        lines[at:at] = table
        family.append("vat-table")
    lines.append(pick(_LINES["footers"]))
    return PrintedReceipt("\n".join(lines), total, tuple(family))
