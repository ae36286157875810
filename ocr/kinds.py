"""What a receipt is (train ticket, taxi, fuel, toll, parking, car hire, hotel, meal...), from keywords kept as
data in ocr/kinds.toml."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ocr.dates import normalize

KEYWORDS_FILE = Path(__file__).with_name("kinds.toml")
OTHER = "other"
STRONG, WEAK = 3.0, 1.0
_MIN_SCORE = 2.0  # below this (one or two common words), the receipt is "other"
_SATURATION = 3.0  # a score of 3 (one strong word, alone) gives about 0.63 of full confidence
_UNKNOWN_CONFIDENCE = 0.3  # "other" for want of any sign
_INSIDE = "~"  # marks a keyword found inside longer words


@dataclass(frozen=True)
class KindGuess:
    """The kind of a receipt, how sure (0..1), and the words that decided it."""

    kind: str
    confidence: float
    words: tuple[str, ...] = ()


def _key(word: str) -> str:
    return " ".join(re.sub(r"[^A-Z0-9&%]+", " ", normalize(word)).split())


@cache
def keywords() -> dict[str, dict[str, float]]:
    """Kind -> {normalised keyword: weight}, from kinds.toml (in file order)."""
    with open(KEYWORDS_FILE, "rb") as f:
        data = tomllib.load(f)
    table: dict[str, dict[str, float]] = {}
    for kind, spec in data.items():
        words: dict[str, float] = {}
        for weight, names in ((WEAK, spec.get("words", [])), (STRONG, spec.get("strong", []))):
            for name in names:
                words[_key(name)] = max(weight, words.get(_key(name), 0.0))
        for name in spec.get("inside", []):
            words.setdefault(_INSIDE + _key(name), WEAK)
        table[kind] = words
    return table


@cache
def labels() -> dict[str, str]:
    """Kind -> French label, for messages."""
    with open(KEYWORDS_FILE, "rb") as f:
        return {kind: str(spec.get("label", kind)) for kind, spec in tomllib.load(f).items()}


@cache
def _pattern(word: str) -> re.Pattern[str]:
    if word.startswith(_INSIDE):
        return re.compile(re.escape(word[len(_INSIDE) :]))
    return re.compile(rf"(?<![A-Z0-9]){re.escape(word)}(?![A-Z0-9])")


def guess_kind(text: str) -> KindGuess:
    """Score each kind by the keywords present; the best is kept with a confidence from its score and lead."""
    flat = " " + _key(text) + " "
    scores: dict[str, tuple[float, list[str]]] = {}
    for kind, words in keywords().items():
        found: dict[str, float] = {}
        for w in words:
            if _pattern(w).search(flat):
                plain = w.lstrip(_INSIDE)
                found[plain] = max(words[w], found.get(plain, 0.0))
        # A phrase counted inside a longer matched phrase of the same kind is counted once ("TGV" in "TGV INOUI").
        hits = [w for w in found if not any(w != o and w in o for o in found)]
        scores[kind] = (sum(found[w] for w in hits), hits)
    ranked = sorted(scores.items(), key=lambda item: -item[1][0])  # stable: file order on a tie
    (best, (top, hits)), (_, (second, _)) = ranked[0], ranked[1]
    if top < _MIN_SCORE:
        return KindGuess(OTHER, _UNKNOWN_CONFIDENCE)
    confidence = top / (top + second) * (1 - math.exp(-top / _SATURATION))
    return KindGuess(best, round(confidence, 3), tuple(hits))
