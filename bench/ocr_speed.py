"""Speed of the OCR pipeline against the bare `tesseract` command, and text-PDF throughput.

Run: .venv/bin/python bench/ocr_speed.py [--images N] [--pdfs N]
1. Per image: ocr.read() (preparation + Tesseract + total extraction) against `tesseract IMG stdout -l fra+eng`
   on the same images, interleaved in the same run, both with OMP_THREAD_LIMIT=1. Goal: ratio <= 1.15.
2. Text PDFs read per second by ocr.read() on one core (one process). Goal: >= 30/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ocr  # noqa: E402

SROIE = Path(os.environ.get("IMAGIN_RECEIPTS_DEV", "/work/shared/data/receipts-dev"))
FRENCH = ROOT / "tests" / "fixtures" / "receipts_fr"


def _spread(paths: list[Path], count: int) -> list[Path]:
    """`count` paths evenly spread over the sorted list (all degradations, not the first few)."""
    if count >= len(paths):
        return paths
    return [paths[i * len(paths) // count] for i in range(count)]


def _images(limit: int) -> list[Path]:
    return _spread(sorted(SROIE.glob("*.jpg")), limit // 2) + _spread(sorted(FRENCH.glob("*.jpg")), limit - limit // 2)


def _text_pdfs() -> list[bytes]:
    pdfs = [p.read_bytes() for p in sorted(FRENCH.glob("*.pdf"))]
    return [d for d in pdfs if ocr.read(d).engine == "text"]


def bench_images(paths: list[Path]) -> None:
    pipeline = bare = 0.0
    for path in paths:
        data = path.read_bytes()
        start = time.perf_counter()
        subprocess.run(
            ["tesseract", str(path), "stdout", "-l", "fra+eng"], capture_output=True, check=True, timeout=120
        )
        bare += time.perf_counter() - start
        start = time.perf_counter()
        ocr.read(data, path.name, time_limit=120)
        pipeline += time.perf_counter() - start
    n = len(paths)
    print(
        f"images: {n}; bare tesseract {bare / n:.3f} s/image; pipeline {pipeline / n:.3f} s/image; "
        f"ratio {pipeline / bare:.2f}x (goal <= 1.15x)"
    )


def bench_pdfs(count: int) -> None:
    pdfs = _text_pdfs()
    if not pdfs:
        print("text PDFs: none found in the French corpus")
        return
    start = time.perf_counter()
    for i in range(count):
        reading = ocr.read(pdfs[i % len(pdfs)], "receipt.pdf")
        assert reading.engine == "text", reading
    elapsed = time.perf_counter() - start
    print(f"text PDFs: {count} read in {elapsed:.2f} s = {count / elapsed:.1f}/s on one core (goal >= 30/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--pdfs", type=int, default=300)
    args = parser.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core for both sides
    bench_images(_images(args.images))
    bench_pdfs(args.pdfs)


if __name__ == "__main__":
    main()
