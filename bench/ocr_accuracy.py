"""Exact-total accuracy of ocr.read() per labelled corpus, against a RapidOCR peer measured in the same run.

Run: .venv/bin/python bench/ocr_accuracy.py [--workers 2] [--verbose] [--limit N] [--only NAME] [--no-peer]
Corpora: ../shared/data/receipts-dev split into its tuned part and its sealed part (bench/sealed_receipts.txt),
then every folder under tests/fixtures holding a labels.jsonl. The peer is the forty-line script a newer
engine makes possible: RapidOCR, then "the last line naming TOTAL, else the largest amount". The same run also
scores the peer's lines given to our total extraction alone (ocr.totals.find_total, no second engine, no re-read).
--verbose prints the misses of every corpus except the sealed part (never looked at while tuning).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ocr  # noqa: E402
from bench.seal import split  # noqa: E402
from ocr.totals import find_total  # noqa: E402

RECEIPTS_DEV = ROOT.parent / "shared" / "data" / "receipts-dev"
FIXTURES = ROOT / "tests" / "fixtures"
GOAL = 0.95
_TOTAL_WORD = re.compile(r"TOTAL|SUMME|TOTAAL|TOTALE|GESAMT", re.IGNORECASE)
_PEER_AMOUNT = re.compile(r"-?\d+[.,]\d{2}(?!\d)")


def _read(path: str) -> str | None:
    reading = ocr.read(Path(path).read_bytes(), Path(path).name, time_limit=120)
    return reading.to_dict()["total"]


_PEER: Any = None


def _peer(path: str) -> tuple[str | None, str | None]:
    """RapidOCR's lines: the amount of the last line naming a total, else the largest amount; and the total our
    extraction finds in the same lines."""
    global _PEER
    if _PEER is None:
        from rapidocr import RapidOCR

        _PEER = RapidOCR(params={"Global.log_level": "critical"})
    out = _PEER(_peer_image(path))
    boxes = [] if out.boxes is None else [b for b in out.boxes]
    items = sorted(zip(boxes, out.txts or (), strict=True), key=lambda bt: float(bt[0][:, 1].mean()))
    lines: list[list[tuple[float, str]]] = []
    last_y = None
    for box, text in items:
        y, h = float(box[:, 1].mean()), float(box[:, 1].max() - box[:, 1].min())
        if last_y is None or abs(y - last_y) > h / 2:
            lines.append([])
        lines[-1].append((float(box[:, 0].min()), text))
        last_y = y
    texts = [" ".join(t for _, t in sorted(line)) for line in lines]
    ours = find_total("\n".join(texts)).total
    return _peer_rule(texts), None if ours is None else str(ours)


def _peer_image(path: str) -> Any:
    """The image file itself, or a PDF's first page rendered (RapidOCR reads images only)."""
    if not path.lower().endswith(".pdf"):
        return path
    import numpy as np

    from ocr import pdf

    return np.asarray(pdf.render_page(Path(path).read_bytes(), 0).convert("RGB"))


def _peer_rule(texts: list[str]) -> str | None:
    for text in reversed(texts):
        amounts = _amounts(text)
        if _TOTAL_WORD.search(text) and amounts:
            return str(amounts[-1])
    values = [a for text in texts for a in _amounts(text)]
    return str(max(values)) if values else None


def _amounts(text: str) -> list[Decimal]:
    return [Decimal(m.group(0).replace(",", ".")) for m in _PEER_AMOUNT.finditer(text.replace(" ", ""))]


def _labels(folder: Path) -> list[dict[str, str]]:
    with open(folder / "labels.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def corpora() -> list[tuple[str, Path, list[dict[str, str]], bool]]:
    """(name, folder, labels, sealed) for every corpus the bench scores."""
    out: list[tuple[str, Path, list[dict[str, str]], bool]] = []
    if (RECEIPTS_DEV / "labels.jsonl").exists():
        tuned, sealed = split(_labels(RECEIPTS_DEV), lambda item: item["file"])
        out.append(("receipts-dev tuned", RECEIPTS_DEV, tuned, False))
        out.append(("receipts-dev SEALED", RECEIPTS_DEV, sealed, True))
    else:
        print(f"receipts-dev: missing at {RECEIPTS_DEV}")
    for folder in sorted(p.parent for p in FIXTURES.glob("*/labels.jsonl")):
        out.append((folder.name, folder, _labels(folder), False))
    return out


def _exact(got: str | None, expected: str) -> bool:
    return got is not None and Decimal(got) == Decimal(expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--verbose", action="store_true", help="print every miss (never of the sealed part)")
    parser.add_argument("--limit", type=int, default=0, help="first N items of each corpus")
    parser.add_argument("--only", default="", help="only corpora whose name contains this")
    parser.add_argument("--no-peer", action="store_true", help="skip the RapidOCR peer (while tuning)")
    parser.add_argument("--out", type=Path, help="append one JSON line per receipt read (corpus, file, totals)")
    args = parser.parse_args()
    out = open(args.out, "a", encoding="utf-8") if args.out else None
    failed_goal = False
    rows = []
    with ProcessPoolExecutor(args.workers) as pool:
        for name, folder, labels, sealed in corpora():
            if args.only not in name:
                continue
            labels = labels[: args.limit or None]
            paths = [str(folder / item["file"]) for item in labels]
            start = time.monotonic()
            results = []
            for item, got in zip(labels, pool.map(_read, paths), strict=True):
                results.append(got)
                if out:
                    print(
                        json.dumps({"corpus": name, "file": item["file"], "expected": item["total"], "read": got}),
                        file=out,
                        flush=True,
                    )
            elapsed = time.monotonic() - start
            both = None if args.no_peer else list(pool.map(_peer, paths))
            peer = None if both is None else [p for p, _ in both]
            lines_only = None if both is None else [o for _, o in both]
            if out and both is not None:
                for item, (got, mine) in zip(labels, both, strict=True):
                    record = {"corpus": name, "file": item["file"], "peer": got, "peer_lines_find_total": mine}
                    print(json.dumps(record), file=out, flush=True)
            good = sum(_exact(got, item["total"]) for item, got in zip(labels, results, strict=True))
            if args.verbose and not sealed:
                for item, got in zip(labels, results, strict=True):
                    if not _exact(got, item["total"]):
                        print(f"  MISS {name} {item['file']}: expected {item['total']}, read {got}")
            peer_good = None if peer is None else sum(_exact(g, i["total"]) for i, g in zip(labels, peer, strict=True))
            accuracy = good / len(labels)
            failed_goal |= accuracy < GOAL or (peer_good is not None and peer_good >= good)
            peer_text = "" if peer_good is None else f"; peer {peer_good}/{len(labels)} = {peer_good / len(labels):.1%}"
            if lines_only is not None:
                alone = sum(_exact(g, i["total"]) for i, g in zip(labels, lines_only, strict=True))
                peer_text += f"; peer's lines into find_total {alone}/{len(labels)} = {alone / len(labels):.1%}"
            line = (
                f"{name}: {good}/{len(labels)} exact totals = {accuracy:.1%} (goal {GOAL:.0%}){peer_text}; "
                f"{elapsed / len(labels):.2f} s/item with {args.workers} workers"
            )
            rows.append(line)
            print(line, flush=True)
    print("\n".join(["", "summary:", *rows]))
    return 1 if failed_goal else 0


if __name__ == "__main__":
    sys.exit(main())
