"""Tesseract calls with time limits (in-process through tesserocr when installed, else the tesseract program
through pytesseract): words grouped into lines, orientation detection; which engines are enabled."""

from __future__ import annotations

import glob
import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

import pytesseract
from PIL import Image

# One OpenMP thread per Tesseract process: on a shared machine several processes in parallel are much
# faster than one process fighting for cores.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

LANGUAGES = "fra+eng"
PSM_RECEIPT = 6  # one uniform block of text: keeps a label and its amount on one line
PSM_LINE = 7  # a single line of text
# Tesseract's binarisations: global Otsu; Leptonica's adaptive Otsu, which also turns the grain of blank paper
# into specks (slow to read); Sauvola, local and clean on blank paper (faded, unevenly lit prints).
OTSU, ADAPTIVE_OTSU, SAUVOLA = 0, 1, 2
_MIN_TIMEOUT = 1.0
ENGINES_ENV = "IMAGIN_OCR_ENGINES"  # comma-separated engines to use: "tesseract,rapidocr" (the default)
TESSEROCR_ENV = "IMAGIN_TESSEROCR"  # "0": call the tesseract program even when tesserocr is installed
_TSV_FIELDS = ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top", "width", "height")

log = logging.getLogger(__name__)
_local = threading.local()


class OcrTimeout(Exception):
    """Tesseract did not finish within the time left for the document."""


class OcrUnavailable(Exception):
    """The tesseract program is missing or failed."""


@dataclass(frozen=True)
class OcrText:
    """Tesseract's output as lines of text and the mean word confidence (0..100)."""

    lines: tuple[str, ...]
    confidence: float
    words: int
    boxes: tuple[tuple[int, int, int, int], ...] = ()  # each line's left, top, right, bottom (pixels)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        """Each line's top and bottom (pixels)."""
        return tuple((top, bottom) for _, top, _, bottom in self.boxes)


def _as_fast_input(img: Image.Image) -> Image.Image:
    # pytesseract writes the image to a temporary file in image.format: PPM/PGM skips PNG compression time.
    img = img.copy() if img.format else img
    if img.mode not in ("L", "RGB"):
        img = img.convert("L")
    img.format = "PPM"
    return img


def enabled(name: str) -> bool:
    """Whether the engine ("tesseract" or "rapidocr") is enabled by IMAGIN_OCR_ENGINES (both by default)."""
    wanted = os.environ.get(ENGINES_ENV, "tesseract,rapidocr")
    return name in {w.strip().lower() for w in wanted.split(",")}


def _tessdata() -> str | None:
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        return prefix
    found = sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata/eng.traineddata")) + sorted(
        glob.glob("/usr/share/tessdata/eng.traineddata")
    )
    return os.path.dirname(found[-1]) + "/" if found else None


def _api() -> Any | None:
    """This thread's in-process Tesseract (tesserocr), None when it is not installed or turned off."""
    if os.environ.get(TESSEROCR_ENV, "1") == "0":
        return None
    api = getattr(_local, "api", False)
    if api is False:
        api = None
        try:
            import tesserocr

            path = _tessdata()
            api = tesserocr.PyTessBaseAPI(path=path, lang=LANGUAGES) if path else None
        except (ImportError, RuntimeError) as exc:
            log.warning("tesserocr unavailable, using the tesseract program: %s", exc)
        _local.api = api
    return api


def _data_in_process(api: Any, img: Image.Image, timeout: float, psm: int, thresholding: int) -> dict[str, list[Any]]:
    api.SetPageSegMode(psm)
    api.SetVariable("thresholding_method", str(thresholding))
    api.SetImage(img if img.mode in ("L", "RGB") else img.convert("L"))
    try:
        if not api.Recognize(timeout=int(timeout * 1000)):
            raise OcrTimeout()
        tsv = api.GetTSVText(0)
    finally:
        api.Clear()  # the page's copies and results (over 100 MB for a large scan) are not kept until the next
    data: dict[str, list[Any]] = {k: [] for k in (*_TSV_FIELDS, "conf", "text")}
    for row in tsv.splitlines():
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":
            continue
        for key, cell in zip(_TSV_FIELDS, cells, strict=False):
            data[key].append(int(cell))
        data["conf"].append(float(cells[10]))
        data["text"].append(cells[11])
    return data


def recognize(img: Image.Image, timeout: float, psm: int = PSM_RECEIPT, thresholding: int = OTSU) -> OcrText:
    """OCR an image into lines (words ordered left to right) with a hard time limit."""
    if timeout < _MIN_TIMEOUT:
        raise OcrTimeout()
    api = _api()
    if api is not None:
        return _lines(_data_in_process(api, img, timeout, psm, thresholding))
    try:
        data = pytesseract.image_to_data(
            _as_fast_input(img),
            lang=LANGUAGES,
            config=f"--psm {psm} -c thresholding_method={thresholding}",
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OcrTimeout() from exc
        raise OcrUnavailable(str(exc)) from exc
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError) as exc:
        raise OcrUnavailable(str(exc)) from exc
    return _lines(data)


def _lines(data: dict[str, list[Any]]) -> OcrText:
    rows: dict[tuple[int, int, int, int], list[tuple[int, str]]] = {}
    tops: dict[tuple[int, int, int, int], int] = {}
    boxes: dict[tuple[int, int, int, int], tuple[int, int, int, int]] = {}
    confs: list[float] = []
    for i, word in enumerate(data["text"]):
        word = word.strip()
        if not word:
            continue
        key = (data["page_num"][i], data["block_num"][i], data["par_num"][i], data["line_num"][i])
        rows.setdefault(key, []).append((data["left"][i], word))
        tops[key] = min(tops.get(key, 1 << 30), data["top"][i] + data["height"][i] // 2)
        left, top = data["left"][i], data["top"][i]
        right, bottom = left + data["width"][i], top + data["height"][i]
        old = boxes.get(key, (left, top, right, bottom))
        boxes[key] = (min(left, old[0]), min(top, old[1]), max(right, old[2]), max(bottom, old[3]))
        conf = float(data["conf"][i])
        if conf >= 0:
            confs.append(conf)
    order = sorted(rows, key=lambda k: (k[0], tops[k]))  # top to bottom, whatever the block order
    lines = tuple(" ".join(w for _, w in sorted(rows[k])) for k in order)
    mean = sum(confs) / len(confs) if confs else 0.0
    return OcrText(lines, mean, len(confs), tuple(boxes[k] for k in order))


def with_lines(ocr: OcrText, extra: list[tuple[int, str]], width: int) -> OcrText:
    """The reading with lines read separately across the page (top pixel, text) inserted at their place."""
    heights = sorted(b - t for t, b in ocr.spans) or [20]
    tall = 2 * heights[len(heights) // 2]  # lines read alone are double-height ones
    merged = sorted(
        [(box, line) for box, line in zip(ocr.boxes, ocr.lines, strict=True)]
        + [((0, top, width, top + tall), line) for top, line in extra],
        key=lambda item: item[0][1],
    )
    return OcrText(tuple(line for _, line in merged), ocr.confidence, ocr.words, tuple(box for box, _ in merged))


def detect_rotation(img: Image.Image, timeout: float, min_confidence: float = 1.0) -> int | None:
    """Degrees to rotate the image clockwise so text is upright (Tesseract OSD), or None if unsure."""
    if timeout < _MIN_TIMEOUT:
        return None
    try:
        osd = pytesseract.image_to_osd(_as_fast_input(img), config="--psm 0", timeout=timeout)
    except (RuntimeError, pytesseract.TesseractError, pytesseract.TesseractNotFoundError):
        return None  # too little text to decide, out of time, or no tesseract program
    rotate = re.search(r"Rotate:\s*(\d+)", osd)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", osd)
    if not rotate or not conf or float(conf.group(1)) < min_confidence:
        return None
    return int(rotate.group(1))
