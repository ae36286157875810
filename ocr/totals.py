"""Find a receipt's total among scored candidates: keywords, exclusions, position, agreement of lines."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from ocr.amounts import CENT, Amount, find_amounts

_VOCABULARY_FILE = Path(__file__).with_name("vocabulary.toml")


def _load_vocabulary() -> dict[str, dict[str, Any]]:
    with open(_VOCABULARY_FILE, "rb") as f:
        return tomllib.load(f)


_VOCAB = _load_vocabulary()


def _words(section: str) -> list[str]:
    """Every phrase of a vocabulary section, all languages, without duplicates (order kept)."""
    seen: dict[str, None] = {}
    for phrases in _VOCAB[section].values():
        if isinstance(phrases, list):
            seen.update((p, None) for p in phrases)
    return list(seen)


def _weighted(section: str) -> list[tuple[str, float]]:
    out: dict[str, float] = {}
    for item in _words(section):
        phrase, weight = item.rsplit(":", 1)
        out[phrase.strip()] = max(out.get(phrase.strip(), 0.0), float(weight))
    return list(out.items())


_REPAIRABLE: tuple[str, ...] = tuple(str(w) for w in _VOCAB["repair"]["words"])
_MIN_FUZZY = int(_VOCAB["repair"]["min_fuzzy_length"])
_FUZZY_SHORT = frozenset(_VOCAB["repair"]["fuzzy_short"])
# Every word of the vocabulary, whatever its section: a word the receipt spells right ("CONTANT", cash in Dutch)
# is never repaired into another one ("MONTANT").
_KNOWN_WORDS = frozenset(
    word
    for section in _VOCAB.values()
    for phrases in section.values()
    if isinstance(phrases, list)
    for phrase in phrases
    for word in str(phrase).rsplit(":", 1)[0].split()
)

_ZERO = Decimal("0.00")
_NICKEL = Decimal("0.05")
_MAX_TAX_RATE = Decimal("0.30")


def _phrase_re(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<![A-Z0-9])" + r"[\s.:\-/]*".join(words) + r"(?![A-Z])")


def _any_re(phrases: list[str]) -> re.Pattern[str]:
    """One pattern matching any of the phrases as whole words."""
    parts = sorted(("[\\s.:\\-/]*".join(re.escape(w) for w in p.split()) for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![A-Z0-9])(?:" + "|".join(parts) + r")(?![A-Z])")


_KEYWORD_RES = [(_phrase_re(p), w, p) for p, w in _weighted("total")]
_PAYMENT_RES = [(_phrase_re(p), w) for p, w in _weighted("payment")]
_CASH_RES = [_phrase_re(p) for p in _words("cash")]
_CHANGE_RES = [_phrase_re(p) for p in _words("change")]
_SUBTOTAL_RES = [_phrase_re(p) for p in _words("subtotal")]
_HT_RE = _any_re(_words("net"))
_TVA_RE = _any_re(_words("tax"))
_ROUNDING = _any_re(_words("rounding"))
_INCLUDING = _any_re(_words("including"))
_GROSS_RE = _any_re(_words("gross"))
_BILLED_RE = _any_re(_words("billed"))
_VAT_HEADER_RE = _any_re([w for w in _words("vat_header") if w != "%"])
_EXCLUDE_RE = _any_re(_words("exclude") + _words("net") + _words("tax") + _words("rounding"))
_EXCLUDE_RES = [_EXCLUDE_RE, *_CHANGE_RES, *_SUBTOTAL_RES]
_SURCHARGE = _any_re(
    ["SERVICE", "SERV", "SERVICES", "CHARGE", "POURBOIRE", "TIP", "FRAIS", *_words("tax"), *_words("rounding")]
)
_NOT_INCLUDING = re.compile(r"EXCL|HORS|SOUS|SUB|ZWISCHEN|NETTO|(?<!AFTER )ROUNDING|CHANGE")
_RATE_RE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?)\s?%")  # a tax rate printed on the tax line
# A quantity times a unit price: "49,78 L x 1,719 EUR/L", "2 X 5.30", "3 x 2.9000"
_PRODUCT_RE = re.compile(
    r"(?<![\d.,])(\d{1,4}(?:[.,]\d{1,3})?)\s?(?:[A-Za-z]{1,3}\s?)?[xX×*]\s?(\d{1,5}[.,]\d{2,4})(?![\d.,]?\d)"
)
_LETTERLIKE = str.maketrans({"0": "O", "1": "I", "5": "S", "4": "A", "8": "B", "|": "I", "$": "S"})


@dataclass
class Candidate:
    """A possible total with the reasons it scored."""

    value: Decimal
    score: float
    line: int
    kind: str  # "keyword", "payment", "cash", "subtotal", "derived", "fallback"
    currency: str | None = None
    reasons: list[str] = field(default_factory=list)
    confirmed: bool = False  # another line states the same value (repeated, payment, net + tax, sum of items)


@dataclass(frozen=True)
class TotalResult:
    """The chosen total, its confidence (0..1, before OCR quality) and the best candidates."""

    total: Decimal | None
    confidence: float
    currency: str | None
    candidates: tuple[Candidate, ...]
    doubtful: bool = False  # other lines contradict the total (cash - change, an item dearer than the total)

    @property
    def confirmed(self) -> bool:
        """The receipt's own lines agree with the total and none contradicts it: a misread digit would have
        to be repeated on another line, so a second engine cannot improve on it."""
        if self.total is None or self.doubtful or not self.candidates:
            return False
        best = self.candidates[0]
        return best.confirmed and best.kind in ("keyword", "derived")


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@lru_cache(maxsize=4096)
def _repair_word(word: str) -> str:
    if sum(c.isdigit() for c in word) * 2 > len(word):
        return word
    letters: str = word.translate(_LETTERLIKE)
    if letters in _REPAIRABLE or letters in _KNOWN_WORDS:
        return letters
    for known in _REPAIRABLE:
        if len(known) < _MIN_FUZZY and known not in _FUZZY_SHORT:
            continue  # "TARTE" or "CARTS" must stay an item name, not become CARTE
        if abs(len(known) - len(letters)) <= 1 and _distance(letters, known) <= (1 if len(known) < 8 else 2):
            return known
    return word


def normalize(line: str) -> str:
    """Uppercase, accents removed, spaces collapsed, keywords with one misread letter repaired."""
    text = unicodedata.normalize("NFKD", line.upper()).encode("ascii", "ignore").decode()
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"[A-Z0-9|$]{4,}", lambda m: _repair_word(m.group(0)), text)


def _keyword_weight(label: str) -> tuple[float, str | None]:
    best, name = 0.0, None
    for rx, weight, phrase in _KEYWORD_RES:
        if weight > best and rx.search(label):
            best, name = weight, phrase
    return best, name


def _excluded(label: str) -> bool:
    tax_breakdown = "%" in label
    if not tax_breakdown and not any(rx.search(label) for rx in _EXCLUDE_RES):
        return False
    including = _INCLUDING.search(label) and not _NOT_INCLUDING.search(label)
    return not including


@dataclass
class _Line:
    text: str
    amounts: list[Amount]


def _labelled(line: _Line) -> list[tuple[str, Amount, bool]]:
    """Each amount of a line with the label naming it, and whether it shares its label with a larger amount."""
    labels: list[str] = []
    shadowed: list[bool] = []
    prev_end = 0
    group: list[int] = []
    for a in line.amounts:
        label = normalize(line.text[prev_end : a.start])
        if re.search(r"[A-Z]{2}", label):
            group = []
        else:
            label = normalize(line.text[: a.start])
        group.append(len(labels))
        labels.append(label)
        shadowed.append(False)
        prev_end = a.end
        if len(group) > 1:
            top = max(line.amounts[i].value for i in group)
            for i in group:
                shadowed[i] = line.amounts[i].value < top
    return list(zip(labels, line.amounts, shadowed, strict=True))


class _Collector:
    def __init__(self, n: int) -> None:
        self.n = n
        self.cands: list[Candidate] = []
        self.cash: list[Decimal] = []
        self.change: list[Decimal] = []
        self.ht: list[Decimal] = []
        self.tva: list[Decimal] = []
        self.rated_taxes: list[tuple[Decimal, Decimal]] = []  # (rate in percent, tax amount) of "TVA 20% 4,08"
        self.products: list[tuple[int, Decimal]] = []  # quantity x unit price of a line ("49,78 L x 1,719")
        self.items: list[tuple[int, Decimal]] = []
        self.rounding = False
        self.roundings: list[tuple[int, Decimal]] = []  # rounding lines and their adjustment (absolute)
        self.rounded: list[tuple[int, Decimal]] = []  # rounding lines printing the rounded total itself
        self.surcharge_lines: set[int] = set()  # service charge, tax or rounding lines

    def position(self, i: int) -> float:
        return 2.0 * (i / max(1, self.n - 1))  # totals sit in the lower part of a receipt

    def add(self, value: Decimal, score: float, i: int, kind: str, currency: str | None, reason: str) -> None:
        self.cands.append(Candidate(value, score + self.position(i), i, kind, currency, [reason]))


def _vat_tables(lines: list[_Line]) -> tuple[set[int], list[tuple[int, Decimal]]]:
    """Rows of VAT/GST summary tables (a header naming the tax and its base or gross amount, then rows of
    several amounts), and the gross amount each table states for the whole receipt: its total row's gross
    column, or net + tax when the table has no gross column. A table's "Total" row is not the receipt's total."""
    rows: set[int] = set()
    gross: list[tuple[int, Decimal]] = []
    i = 0
    while i < len(lines):
        head = normalize(lines[i].text)
        has_gross = bool(_GROSS_RE.search(_TVA_RE.sub(" ", head)))
        header = _VAT_HEADER_RE.search(_TVA_RE.sub(" ", head)) or "%" in head
        if lines[i].amounts or not _TVA_RE.search(head) or not header:  # a header names columns, no amount
            i += 1
            continue
        j = i + 1
        while j < len(lines) and j - i <= 2 and not lines[j].amounts:  # the header's second line: "(excl GST)"
            j += 1
        first_row = j
        while j < len(lines) and j - first_row <= 8 and len(lines[j].amounts) >= 2:
            rows.add(j)
            j += 1
        body = list(range(first_row, j))
        if body:
            named = [k for k in body if _keyword_weight(normalize(lines[k].text))[0]]
            last = named[-1] if named else body[-1] if len(body) == 1 else None
            if last is not None:
                values = [a.value for a in lines[last].amounts if a.value > _ZERO and not a.short]
                top = max(values, default=_ZERO)
                others = sorted(v for v in values if v != top)
                if has_gross and len(others) >= 2 and abs(others[-1] + others[-2] - top) <= Decimal("0.02"):
                    gross.append((last, top))
                elif not has_gross and others:
                    gross.append((last, top + _table_tax(top, others)))  # net and tax columns only
        i = max(j, i + 1)
    return rows, gross


def _table_tax(net: Decimal, others: list[Decimal]) -> Decimal:
    """The tax column of a VAT table row without a gross column: the value that is the row's rate (another
    value of the row, in percent) of the net amount; else the largest other value. A rate column ("6.00")
    is not the tax."""
    for tax in others:
        if any(rate != tax and abs(net * rate / 100 - tax) <= Decimal("0.02") for rate in others):
            return tax
    return others[-1]


def _collect(lines: list[_Line]) -> _Collector:
    col = _Collector(len(lines))
    table_rows, table_gross = _vat_tables(lines)
    for i, value in table_gross:
        col.add(value, 4.0, i, "derived", None, "TTC du tableau de TVA")
    for i, ln in enumerate(lines):
        whole = normalize(ln.text)
        col.rounding |= bool(_ROUNDING.search(whole))
        if _ROUNDING.search(whole) and ln.amounts and abs(ln.amounts[-1].value) < _NICKEL:
            col.roundings.append((i, abs(ln.amounts[-1].value)))
        elif _ROUNDING.search(whole) and ln.amounts and ln.amounts[-1].value % _NICKEL == 0:
            col.rounded.append((i, ln.amounts[-1].value))
        if _SURCHARGE.search(whole):
            col.surcharge_lines.add(i)
        if product := _PRODUCT_RE.search(ln.text):
            quantity, price = (Decimal(g.replace(",", ".")) for g in product.groups())
            col.products.append((i, (quantity * price).quantize(CENT, ROUND_HALF_UP)))
        if i in table_rows:
            continue
        labelled = _labelled(ln)
        if not labelled:
            if i + 1 not in table_rows:  # a table header names columns, not the amount below
                _keyword_above(col, lines, i, whole)
            continue
        for label, a, shadowed in labelled:
            _score_amount(col, i, label, a, shadowed)
    return col


def _keyword_above(col: _Collector, lines: list[_Line], i: int, label: str) -> None:
    """A keyword line without an amount: the amount may be on the next line, alone."""
    weight, phrase = _keyword_weight(label)
    if not weight or _excluded(label) or i + 1 >= len(lines) or not lines[i + 1].amounts:
        return
    nxt = lines[i + 1]
    if re.search(r"[A-Z]{3}", normalize(nxt.text[: nxt.amounts[-1].start])):
        return
    a = max(nxt.amounts, key=lambda x: x.value)
    col.add(a.value, weight - 1.5, i + 1, "keyword", a.currency, f"{phrase} (ligne suivante)")


def _score_amount(col: _Collector, i: int, label: str, a: Amount, shadowed: bool) -> None:
    weight, phrase = _keyword_weight(label)
    if a.short and (weight < 7 or _excluded(label)):
        return  # one decimal only: trusted next to a total keyword, nowhere else
    if not weight and _BILLED_RE.search(label):
        if a.value > _ZERO:
            col.items.append((i, a.value))  # a tourist tax: an item of the bill, though its name says tax
        return
    if _HT_RE.search(label) and not _INCLUDING.search(label):
        col.ht.append(a.value)
    elif _TVA_RE.search(label) and not _INCLUDING.search(label):
        col.tva.append(a.value)
        if rate := _RATE_RE.search(label):
            col.rated_taxes.append((Decimal(rate[1].replace(",", ".")), a.value))
    if a.value == _ZERO:
        return
    if any(rx.search(label) for rx in _CHANGE_RES):
        col.change.append(a.value)
        return
    if any(rx.search(label) for rx in _SUBTOTAL_RES):
        if a.value > _ZERO:  # a negative subtotal (a refund or a discount block) is never the total
            col.add(a.value, 2.0, i, "subtotal", a.currency, "sous-total")
        return
    if a.value < _ZERO and any(rx.search(label) for rx in _CASH_RES) and not weight and not _excluded(label):
        col.cash.append(-a.value)  # cash tendered printed as a negative line ("Cash -51.00")
        col.add(-a.value, 3.0, i, "cash", a.currency, "espèces")
        return
    if a.value < _ZERO:
        if weight >= 7 and not _excluded(label):
            col.add(a.value, weight - 2, i, "keyword", a.currency, "total négatif")
        return
    if _excluded(label):
        return
    if any(rx.search(label) for rx in _CASH_RES):
        col.cash.append(a.value)
        col.add(a.value, 3.0, i, "cash", a.currency, "espèces")
        return
    if weight:
        bonus = (0.5 if a.currency else 0.0) - (0.3 if a.repaired else 0.0) - (2.0 if shadowed else 0.0)
        bonus -= 1.5 if a.short else 0.0
        col.add(a.value, weight + bonus, i, "keyword", a.currency, phrase or "")
        return
    pay = max((w for rx, w in _PAYMENT_RES if rx.search(label)), default=0.0)
    if pay:
        col.add(a.value, pay, i, "payment", a.currency, "paiement")
        return
    col.items.append((i, a.value))


def find_total(text: str) -> TotalResult:
    """Score every amount of the text as a possible total and return the best one."""
    lines = [_Line(t, find_amounts(t)) for t in text.splitlines() if t.strip()]
    col = _collect(lines)
    change = [c for c in col.change if c > _ZERO]
    for cash in col.cash:
        for ch in change:
            if _ZERO < cash - ch:
                col.add(cash - ch, 4.0, col.n - 1, "derived", None, "espèces - rendu")
    if change:
        for c in col.cands:
            if c.kind == "cash":
                c.score -= 3  # cash handed over is not the total when change was given back
    if not any(c.kind in ("keyword", "payment") for c in col.cands) and col.items:
        largest = max(v for _, v in col.items)
        for i, v in col.items:
            col.add(v, 1.0 + (0.5 if v == largest else 0.0), i, "fallback", None, "montant le plus bas/grand")
    if not col.cands:
        return TotalResult(None, 0.0, None, ())
    _below_pretax(col)
    _rounded_after(col)
    _agreement(col)
    best_by_value: dict[Decimal, Candidate] = {}
    for c in col.cands:
        if c.value not in best_by_value or c.score > best_by_value[c.value].score:
            best_by_value[c.value] = c
    ranked = sorted(best_by_value.values(), key=lambda c: (c.score, c.line), reverse=True)
    best = ranked[0]
    runner = ranked[1].score if len(ranked) > 1 else 0.0
    currency = next((c.currency for c in col.cands if c.value == best.value and c.currency), None)
    return TotalResult(best.value, _confidence(best, runner), currency, tuple(ranked[:5]), _doubtful(col, best))


def _tax_included(gross: Decimal, rate: Decimal) -> Decimal:
    """The tax contained in an amount that includes it at `rate` percent, to the cent."""
    return (gross * rate / (100 + rate)).quantize(CENT, ROUND_HALF_UP)


def _states_tax(gross: Decimal, rate: Decimal, tax: Decimal) -> bool:
    """The printed tax at its printed rate is the one `gross` includes, and is not the one of any amount a
    misread digit away (at low rates many totals share one tax to the cent: that confirms nothing)."""
    if not _ZERO < rate <= 100 * _MAX_TAX_RATE or _tax_included(gross, rate) != tax:
        return False
    text = f"{gross:.2f}"
    near = {text[:i] + d + text[i + 1 :] for i, ch in enumerate(text) if ch.isdigit() for d in "0123456789"} - {text}
    return all(_tax_included(Decimal(other), rate) != tax for other in near)


def _below_pretax(col: _Collector) -> None:
    """A total with tax is never smaller than the amount before tax: a keyword total below it was misread or
    names something else. With one amount before tax and one tax amount, their sum stands in for it."""
    if len(set(col.ht)) != 1:
        return
    pretax = col.ht[0]
    taxes = {t for t in col.tva if _plausible_tax(pretax, t)}
    if len(taxes) != 1:
        return
    tax = taxes.pop()
    low = [c for c in col.cands if c.kind == "keyword" and _ZERO < c.value < pretax]
    for c in low:
        c.score -= 3
        c.reasons.append("inférieur au HT")
    if low:
        col.add(pretax + tax, 4.0, max(c.line for c in low), "derived", None, "HT + TVA")


def _plausible_tax(net: Decimal, tax: Decimal) -> bool:
    """A tax is a fraction of the amount it is levied on (no VAT rate exceeds 30%): a larger "tax" amount is a
    total whose "incl." was misread, not a tax."""
    return _ZERO < tax <= net * _MAX_TAX_RATE


def _rounded_after(col: _Collector) -> None:
    """A rounding line (under 5 cents) between a total and an amount that differs from it by exactly the
    adjustment: that amount is the rounded total actually paid, confirmed by the two lines above it. Unlabelled
    (its label often misread), it becomes a candidate."""
    for at, adjustment in col.roundings:
        if not adjustment:
            continue
        totals = [c for c in col.cands if c.kind == "keyword" and c.line < at and c.value % _NICKEL]
        for later in (c for c in col.cands if c.kind == "keyword" and at < c.line <= at + 2):
            if any(abs(later.value - c.value) == adjustment for c in totals):
                later.score += 1.0
                later.reasons.append("= total + arrondi")
                later.confirmed = True  # three lines agree: the total, the adjustment and the rounded total
        for i, v in col.items:
            if i <= at or i > at + 2 or v % _NICKEL:
                continue
            for c in totals:
                if abs(v - c.value) == adjustment:
                    col.add(v, c.score + 0.5 - col.position(i), i, "derived", c.currency, "total + arrondi")
                    col.cands[-1].confirmed = True
                    break
    for at, value in col.rounded:  # "Rounding RM 13.60" under "Total RM 13.58": the rounded total
        for c in (c for c in col.cands if c.kind == "keyword" and c.line < at and c.value % _NICKEL):
            if abs(value - c.value) < _NICKEL:
                col.add(value, c.score + 0.5 - col.position(at), at, "derived", c.currency, "total arrondi imprimé")
                break


def _doubtful(col: _Collector, best: Candidate) -> bool:
    """True when other lines contradict the chosen total: a likely misread digit worth a second reading."""
    paid = [c.value for c in col.cands if c.kind == "derived"]
    if paid and all(abs(v - best.value) >= _NICKEL for v in paid):
        return True  # cash handed over minus change given back is another amount
    dearer = {v for _, v in col.items if v > best.value}
    return best.value > _ZERO and len(dearer) >= 2  # several items dearer than the total itself


def _agreement(col: _Collector) -> None:
    """Raise candidates that other lines confirm: repeated totals, payment, HT + TVA, cash - change, lines."""
    lines_by_value: dict[Decimal, set[int]] = defaultdict(set)
    kinds_by_value: dict[Decimal, set[str]] = defaultdict(set)
    for c in col.cands:
        lines_by_value[c.value].add(c.line)
        kinds_by_value[c.value].add(c.kind)
    ttc = {h + t for h in col.ht for t in col.tva if _plausible_tax(h, t)}
    strong = [c for c in col.cands if c.kind == "keyword"]
    for later in strong:
        # A larger total printed after service charge, tax or rounding lines is the final one.
        if any(
            e.line < later.line and e.value < later.value and any(e.line < i < later.line for i in col.surcharge_lines)
            for e in strong
        ):
            later.score += 1.5
            later.reasons.append("total final")
    for c in col.cands:
        if c.kind == "fallback":
            continue
        repeats = len(lines_by_value[c.value]) - 1
        if repeats:
            c.score += min(repeats, 3) * 1.5
            c.reasons.append(f"répété {repeats} fois")
            c.confirmed = True
        if kinds_by_value[c.value] & {"payment", "derived", "cash", "subtotal"} - {c.kind}:
            c.score += 1.5
            c.reasons.append("= paiement")
            c.confirmed = True
        if c.value in ttc:
            c.score += 3
            c.reasons.append("= HT + TVA")
            c.confirmed = True
        if any(_states_tax(c.value, rate, tax) for rate, tax in col.rated_taxes):
            c.score += 1.5
            c.reasons.append("TVA incluse au taux imprimé")
            c.confirmed = True
        if any(v == c.value and i != c.line for i, v in col.products):
            c.score += 1.5
            c.reasons.append("= quantité x prix")
            c.confirmed = True
        above = [v for i, v in col.items if i < c.line]
        if len(above) >= 2 and sum(above) == c.value:
            c.score += 2.5
            c.reasons.append("= somme des lignes")
            c.confirmed = True
        if c.value in col.ht and c.value not in ttc and c.value not in col.tva:
            c.score -= 2  # the same figure is printed as the amount before tax
    # A rounded total (cash rounding) replaces the exact one printed above it, however often that one is
    # confirmed: compared once every other bonus is counted. Cash handed over is no rounded total.
    best_score: dict[Decimal, float] = {}
    for c in col.cands:
        best_score[c.value] = max(best_score.get(c.value, c.score), c.score)
    for c in col.cands:
        if c.kind in ("fallback", "cash"):
            continue
        if (c.kind != "derived" or col.rounding) and c.value % _NICKEL == 0 and (col.rounding or c.kind == "keyword"):
            for other in strong:
                if other.value != c.value and abs(other.value - c.value) < _NICKEL and other.value % _NICKEL:
                    c.score = max(c.score, best_score[other.value] + 0.5)
                    c.reasons.append("total arrondi")
                    break


def settle(results: list[TotalResult], chosen: TotalResult) -> TotalResult | None:
    """Several readings of one receipt, the chosen one contradicted by other lines: an amount that every
    reading finds (often cash - change) beats a total whose digits change from one reading to the next.
    None when nothing is better than the chosen reading."""
    read = [r for r in results if r.total is not None]
    if len(read) < 2 or not chosen.doubtful or len({r.total for r in read}) < 2:
        return None
    votes: dict[Decimal, int] = defaultdict(int)
    top: dict[Decimal, float] = {}
    for r in read:
        found = [c for c in r.candidates if c.kind in ("keyword", "payment", "derived")]
        for value in {c.value for c in found}:
            votes[value] += 1
        for c in found:
            top[c.value] = max(top.get(c.value, c.score), c.score)
    if not votes:
        return None
    value = max(votes, key=lambda v: (votes[v], top[v]))
    rivals = [r.total for r in read if r.total is not None and r.total != value]
    if votes[value] < len(read) or any(votes[t] >= votes[value] for t in rivals):
        return None
    source = next(r for r in read if any(c.value == value for c in r.candidates))
    return TotalResult(value, 0.3, source.currency if source.total == value else None, source.candidates)


def _confidence(best: Candidate, runner_up: float) -> float:
    """Map a score and its margin over the next different value to 0..1."""
    base = {"keyword": 0.55, "payment": 0.4, "derived": 0.4, "cash": 0.35, "subtotal": 0.25, "fallback": 0.1}
    conf = base[best.kind] + min(0.3, max(0.0, best.score - 8) * 0.05)
    margin = best.score - runner_up
    conf += min(0.15, max(0.0, margin) * 0.04)
    if margin < 0.5:
        conf -= 0.15
    return round(max(0.0, min(1.0, conf)), 3)
