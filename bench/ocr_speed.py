"""Speed of the OCR pipeline against the bare `tesseract` command, peak memory of one OCR worker, text PDFs.

Run: .venv/bin/python bench/ocr_speed.py [--images N] [--pdfs N]
1. Per image: ocr.read() in one long-lived worker process (preparation, Tesseract in process, RapidOCR where
   Tesseract's total is unsure, total extraction) against `tesseract IMG stdout -l fra+eng` on the same image,
   interleaved in the same run, both on one core with OMP_THREAD_LIMIT=1. Goal: median ratio per receipt
   <= 1.5x; p95 seconds printed. The worker's models are loaded once before timing, as in production.
2. Peak resident memory (RSS) of that worker. Goal: < 500 MB.
3. Text PDFs read per second by ocr.read() on one core (one process). Goal: >= 30/s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ocr  # noqa: E402

SROIE = ROOT.parent / "shared" / "data" / "receipts-dev"
FIXTURES = ROOT / "tests" / "fixtures"
SPEED_GOAL, MEMORY_GOAL_MB = 1.5, 500


def _spread(paths: list[Path], count: int) -> list[Path]:
    """`count` paths evenly spread over the sorted list (all degradations, not the first few)."""
    if count >= len(paths):
        return paths
    return [paths[i * len(paths) // count] for i in range(count)]


def _images(limit: int) -> list[Path]:
    fixtures = sorted(p for p in FIXTURES.glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return _spread(sorted(SROIE.glob("*.jpg")), limit // 2) + _spread(fixtures, limit - limit // 2)


def _pin() -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core for both sides


def _warm_up(path: str) -> None:
    """Load both engines' models once, as a long-lived OCR worker does."""
    from PIL import Image

    from ocr import engine, rapid

    ocr.read(Path(path).read_bytes(), "warm.jpg")
    if rapid.installed() and engine.enabled("rapidocr"):
        rapid.recognize(Image.open(path).convert("L"))


def _timed_read(path: str) -> float:
    start = time.perf_counter()
    ocr.read(Path(path).read_bytes(), Path(path).name, time_limit=120)
    return time.perf_counter() - start


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_images(paths: list[Path]) -> None:
    ratios: list[float] = []
    seconds: list[float] = []
    bare_seconds: list[float] = []
    with ProcessPoolExecutor(1, initializer=_pin) as worker:
        worker.submit(_warm_up, str(paths[0])).result()
        for path in paths:
            start = time.perf_counter()
            subprocess.run(
                ["tesseract", str(path), "stdout", "-l", "fra+eng"], capture_output=True, check=True, timeout=900
            )
            bare = time.perf_counter() - start
            took = worker.submit(_timed_read, str(path)).result()
            bare_seconds.append(bare)
            seconds.append(took)
            ratios.append(took / bare)
        peak = worker.submit(_peak_mb).result()
        resident = worker.submit(_resident_mb).result()
    n = len(paths)
    p95 = sorted(seconds)[max(0, int(round(0.95 * n)) - 1)]
    print(
        f"images: {n}; bare tesseract median {statistics.median(bare_seconds):.2f} s; pipeline median "
        f"{statistics.median(seconds):.2f} s, p95 {p95:.2f} s, max {max(seconds):.2f} s; ratio per receipt "
        f"median {statistics.median(ratios):.2f}x (goal <= {SPEED_GOAL}x), p95 "
        f"{sorted(ratios)[max(0, int(round(0.95 * n)) - 1)]:.2f}x"
    )
    print(
        f"peak memory of one OCR worker: {peak:.0f} MB RSS (goal < {MEMORY_GOAL_MB} MB); "
        f"resident after the last receipt: {resident:.0f} MB"
    )


def _text_pdfs() -> list[bytes]:
    pdfs = [p.read_bytes() for p in sorted(FIXTURES.glob("*/*.pdf"))]
    return [d for d in pdfs if ocr.read(d).engine == "text"]


def bench_pdfs(count: int) -> None:
    pdfs = _text_pdfs()
    if not pdfs:
        print("text PDFs: none found under tests/fixtures")
        return
    start = time.perf_counter()
    for i in range(count):
        reading = ocr.read(pdfs[i % len(pdfs)], "receipt.pdf")
        assert reading.engine == "text", reading
    elapsed = time.perf_counter() - start
    print(f"text PDFs: {count} read in {elapsed:.2f} s = {count / elapsed:.1f}/s on one core (goal >= 30/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--pdfs", type=int, default=300)
    args = parser.parse_args()
    _pin()
    bench_images(_images(args.images))
    bench_pdfs(args.pdfs)


if __name__ == "__main__":
    main()
