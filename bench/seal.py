"""The sealed part of ../shared/data/receipts-dev, written once for every bench that scores it.

The rule was chosen before the reader was changed (issue 12): a file is sealed when a hash of its name falls in
the first SEALED_SHARE percent. bench/sealed_receipts.txt lists the sealed files; `split` checks that list still
matches the rule, so the sealed part cannot move. A sealed file's reading is never printed while tuning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

SEALED_LIST = Path(__file__).resolve().parent / "sealed_receipts.txt"
SEALED_SHARE = 40  # percent of receipts-dev sealed

T = TypeVar("T")


def is_sealed(name: str) -> bool:
    """The sealing rule: a hash of the file name."""
    return int(hashlib.sha256(f"imagin-seal:{name}".encode()).hexdigest()[:8], 16) % 100 < SEALED_SHARE


def sealed_names() -> set[str]:
    """The file names listed in bench/sealed_receipts.txt."""
    names = {ln.strip() for ln in SEALED_LIST.read_text(encoding="utf-8").splitlines()}
    return {n for n in names if n and not n.startswith("#")}


def split(items: Iterable[T], name: Callable[[T], str]) -> tuple[list[T], list[T]]:
    """(tuned, sealed) items of receipts-dev, `name` giving an item's file name; exits if the list and the rule
    no longer agree."""
    items = list(items)
    sealed = sealed_names()
    if sealed != {name(item) for item in items if is_sealed(name(item))}:
        raise SystemExit("bench/sealed_receipts.txt no longer matches its rule: the sealed part moved")
    return [i for i in items if name(i) not in sealed], [i for i in items if name(i) in sealed]
