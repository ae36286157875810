"""Field accuracy of ocr.read() per labelled corpus: date exact, kind exact, merchant match, currency.

Run: .venv/bin/python bench/ocr_fields.py [--workers 2] [--verbose] [--limit N] [--only NAME]
Corpora: ../shared/data/receipts-dev (real SROIE scans) split into its tuned part and its sealed part by the seal
of bench/seal.py (the same as bench/ocr_accuracy.py's), then every folder under tests/fixtures with a labels.jsonl.
--verbose prints the misses of every corpus except the sealed part (never looked at while tuning).
A merchant matches when, normalised (upper case, letters and digits), one name contains the other.
A field missing from a corpus's labels is not scored there ("-").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ocr  # noqa: E402
from bench.seal import split  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "receipts-dev"
SROIE_CURRENCY = "MYR"  # the SROIE receipts are Malaysian (SDN BHD companies, ringgit)
GOAL = 0.95
KIND_ALIASES = {"restaurant": "meal", "peage": "toll"}  # receipts_fr's older kind names
_LABEL_DATE_FORMATS = [
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d-%m-%y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %b %y",
    "%d-%b-%Y",
    "%d/%b/%Y",
    "%d%m%Y",
]


def label_date(raw: str | None) -> date | None:
    """A labelled date as written by the labeller (day first, mixed formats) as a date."""
    if not raw:
        return None
    raw = raw.strip("() ").title()
    for fmt in _LABEL_DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"unparsed label date {raw!r}")


def norm(name: str | None) -> str:
    """Upper case, accents off, letters and digits only."""
    text = unicodedata.normalize("NFKD", (name or "").upper()).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]", "", text)


def merchant_match(expected: str, got: str | None) -> bool:
    a, b = norm(expected), norm(got)
    return len(b) >= 3 and (b in a or a in b)


def _read(path: str) -> dict[str, Any]:
    return ocr.read(Path(path).read_bytes(), Path(path).name, time_limit=120).to_dict()


def _labels(folder: Path) -> list[dict[str, Any]]:
    with open(folder / "labels.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def corpora() -> dict[str, tuple[list[tuple[Path, dict[str, Any]]], bool]]:
    """Corpus name -> ((image path, label) with labels normalised to: date (date), kind, merchant, currency;
    whether the corpus is sealed)."""
    out: dict[str, tuple[list[tuple[Path, dict[str, Any]]], bool]] = {}
    if (SHARED / "labels.jsonl").exists():
        items = []
        for item in _labels(SHARED):
            label = {"date": label_date(item.get("date")), "merchant": item.get("company"), "currency": SROIE_CURRENCY}
            items.append((SHARED / item["file"], label))
        tuned, sealed = split(items, lambda item: item[0].name)
        out["receipts-dev tuned"] = (tuned, False)
        out["receipts-dev SEALED"] = (sealed, True)
    else:
        print(f"receipts-dev missing at {SHARED}")
    for labels in sorted((ROOT / "tests" / "fixtures").glob("*/labels.jsonl")):
        items = []
        for item in _labels(labels.parent):
            label = {k: item.get(k) for k in ("kind", "merchant", "currency")}
            label["kind"] = KIND_ALIASES.get(label["kind"], label["kind"])
            label["date"] = label_date(item.get("date"))
            items.append((labels.parent / item["file"], label))
        out[labels.parent.name] = (items, False)
    return out


def _ratio(hits: list[bool]) -> str:
    return f"{sum(hits)}/{len(hits)} = {sum(hits) / len(hits):5.1%}" if hits else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--verbose", action="store_true", help="print every miss (never of the sealed part)")
    parser.add_argument("--limit", type=int, default=0, help="first N items of each corpus")
    parser.add_argument("--only", default="", help="only corpora whose name contains this")
    parser.add_argument("--out", type=Path, help="append one JSON line per receipt read (never of the sealed part)")
    args = parser.parse_args()
    out = open(args.out, "a", encoding="utf-8") if args.out else None
    checks: dict[str, Callable[[dict[str, Any], dict[str, Any]], bool]] = {
        "date": lambda want, got: got["date"] == want["date"].isoformat(),
        "kind": lambda want, got: got["kind"] == want["kind"],
        "merchant": lambda want, got: merchant_match(want["merchant"], got["merchant"]),
        "currency": lambda want, got: got["currency"] == want["currency"],
    }
    below_goal = False
    with ProcessPoolExecutor(args.workers) as pool:
        for name, (items, sealed) in corpora().items():
            if args.only not in name:
                continue
            items = items[: args.limit or None]
            start = time.monotonic()
            results = list(pool.map(_read, [str(path) for path, _ in items]))
            elapsed = time.monotonic() - start
            scores: dict[str, list[bool]] = {field: [] for field in checks}
            for (path, want), got in zip(items, results, strict=True):
                if out and not sealed:
                    print(json.dumps({"corpus": name, "file": path.name, "reading": got}), file=out, flush=True)
                for field, check in checks.items():
                    if want.get(field) is None:
                        continue
                    ok = check(want, got)
                    scores[field].append(ok)
                    if not ok and args.verbose and not sealed:
                        print(f"  MISS {name} {path.name} {field}: expected {want[field]}, read {got[field]}")
            dates = scores["date"]
            below_goal |= bool(dates) and sum(dates) / len(dates) < GOAL
            print(
                f"{name} ({len(items)}): date {_ratio(dates)} (goal {GOAL:.0%}); kind {_ratio(scores['kind'])}; "
                f"merchant {_ratio(scores['merchant'])}; currency {_ratio(scores['currency'])}; "
                f"{elapsed / max(1, len(items)):.2f} s/item with {args.workers} workers"
            )
    return 1 if below_goal else 0


if __name__ == "__main__":
    sys.exit(main())
