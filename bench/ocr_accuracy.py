"""Exact-total accuracy of ocr.read() per labelled corpus (SROIE scans, French generated receipts).

Run: .venv/bin/python bench/ocr_accuracy.py [--workers 2] [--verbose] [--limit N]
Corpora: /work/shared/data/receipts-dev (or IMAGIN_RECEIPTS_DEV) and tests/fixtures/receipts_fr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ocr  # noqa: E402

CORPORA = {
    "sroie (real scans, English)": Path(os.environ.get("IMAGIN_RECEIPTS_DEV", "/work/shared/data/receipts-dev")),
    "receipts_fr (generated, French)": ROOT / "tests" / "fixtures" / "receipts_fr",
}
GOAL = 0.95


def _read(path: str) -> dict:
    reading = ocr.read(Path(path).read_bytes(), Path(path).name, time_limit=120)
    return reading.to_dict()


def _labels(folder: Path) -> list[dict]:
    with open(folder / "labels.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    parser.add_argument("--limit", type=int, default=0, help="first N items of each corpus")
    parser.add_argument("--only", default="", help="only corpora whose name contains this")
    args = parser.parse_args()
    failed_goal = False
    with ProcessPoolExecutor(args.workers) as pool:
        for name, folder in CORPORA.items():
            if args.only not in name:
                continue
            if not (folder / "labels.jsonl").exists():
                print(f"{name}: corpus missing at {folder}")
                failed_goal = True
                continue
            labels = _labels(folder)[: args.limit or None]
            start = time.monotonic()
            results = list(pool.map(_read, [str(folder / item["file"]) for item in labels]))
            elapsed = time.monotonic() - start
            good = 0
            for item, got in zip(labels, results, strict=True):
                expected = Decimal(item["total"])
                ok = got["total"] is not None and Decimal(got["total"]) == expected
                good += ok
                if not ok and args.verbose:
                    print(
                        f"  MISS {item['file']}: expected {expected}, read {got['total']} "
                        f"(conf {got['confidence']}, {got['error'] or ''})"
                    )
            accuracy = good / len(labels)
            failed_goal |= accuracy < GOAL
            print(
                f"{name}: {good}/{len(labels)} exact totals = {accuracy:.1%} (goal {GOAL:.0%}), "
                f"{elapsed / len(labels):.2f} s/item with {args.workers} workers"
            )
    return 1 if failed_goal else 0


if __name__ == "__main__":
    sys.exit(main())
