"""RapidOCR (PP-OCR models on onnxruntime, CPU; the models ship inside the `rapidocr` wheel): text boxes
grouped into lines with positions and confidences, the same shape as Tesseract's reading."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from ocr.engine import OcrText, OcrUnavailable

log = logging.getLogger(__name__)

_MAX_SIDE = 2000  # larger pages are reduced first; lines are recognised on crops of this copy
# Text boxes are detected on a copy whose longer side is at most this. The library's default (shorter side
# enlarged to 736) makes tall receipts huge: slower, and hundreds of MB of activations per page.
_DET_SIDE = 1280
_PARAMS: dict[str, object] = {
    "Global.log_level": "critical",
    "Global.use_cls": False,  # pages are turned upright before; the 180° classifier costs time per box
    "Det.limit_type": "max",
    "Det.limit_side_len": _DET_SIDE,
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,  # one core per worker, like Tesseract
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    "EngineConfig.onnxruntime.enable_cpu_mem_arena": False,  # memory back to the system after each page
}
# A zero inside a word of letters ("0ct", "B0RDEAUX"): RapidOCR's recogniser often reads an O so. Amounts
# ("RM0.50", "10,00") and codes with other digits are left alone.
_ZERO_IN_WORD = re.compile(r"(?<![\w.,])(?=[A-Za-z0]*[A-Za-z]{2})[A-Za-z]*0[A-Za-z0]*(?![\w]|[.,]\d)")
_local = threading.local()
_failed: list[str] = []


def _engine() -> Any:
    """One RapidOCR instance per thread (loading the models takes seconds)."""
    eng = getattr(_local, "engine", None)
    if eng is None:
        if _failed:
            raise OcrUnavailable(_failed[0])
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # the wheel or onnxruntime is missing on this machine
            _failed.append(f"rapidocr: {exc}")
            raise OcrUnavailable(_failed[0]) from exc
        eng = RapidOCR(params=_PARAMS)
        _local.engine = eng
    return eng


def installed() -> bool:
    """True when the rapidocr package and onnxruntime can be imported."""
    try:
        import onnxruntime  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


def _as_array(img: Image.Image) -> tuple[np.ndarray, float]:
    scale = 1.0
    if max(img.size) > _MAX_SIDE:
        scale = _MAX_SIDE / max(img.size)
        img = img.resize((max(1, int(img.size[0] * scale)), max(1, int(img.size[1] * scale))))
    return np.asarray(img.convert("RGB")), scale


class Box(NamedTuple):
    """One text box found by RapidOCR: its extent on the page (pixels), its text and score (0..1)."""

    left: float
    top: float
    right: float
    bottom: float
    text: str
    score: float


def group_lines(boxes: list[Box]) -> OcrText:
    """Boxes into lines: a box joins the line whose box nearest to it across the page shares most of its height
    (not the whole line's span: on a tilted or curved page that span grows and chains rows into one line);
    lines top to bottom, boxes left to right."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.top + b.bottom) / 2):
        for line in lines:
            near = min(line, key=lambda b: abs(b.left - box.left))
            overlap = min(box.bottom, near.bottom) - max(box.top, near.top)
            if overlap > 0.5 * min(box.bottom - box.top, near.bottom - near.top):
                line.append(box)
                break
        else:
            lines.append([box])
    lines.sort(key=lambda line: min(b.top for b in line))
    texts = tuple(" ".join(b.text for b in sorted(line)) for line in lines)
    extents = tuple(
        (
            int(min(b.left for b in line)),
            int(min(b.top for b in line)),
            int(max(b.right for b in line)),
            int(max(b.bottom for b in line)),
        )
        for line in lines
    )
    scores = [b.score for b in boxes]
    words = sum(len(b.text.split()) for b in boxes)
    confidence = 100.0 * sum(scores) / len(scores) if scores else 0.0
    return OcrText(texts, confidence, words, extents)


def recognize(img: Image.Image) -> OcrText:
    """Detect and read every text box of a page."""
    array, scale = _as_array(img)
    # Every step named: RapidOCR keeps the steps of the previous call (a line read without detection).
    out = _engine()(array, use_det=True, use_cls=False, use_rec=True)
    if getattr(out, "boxes", None) is None or not out.txts:  # nothing detected: another output type
        return OcrText((), 0.0, 0)
    boxes = []
    for box, text, score in zip(out.boxes, out.txts, out.scores, strict=True):
        ys, xs = box[:, 1] / scale, box[:, 0] / scale
        if text.strip():
            text = _ZERO_IN_WORD.sub(lambda m: m.group(0).replace("0", "O"), text.strip())
            boxes.append(Box(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()), text, float(score)))
    return group_lines(boxes)


def recognize_lines(crops: list[Image.Image]) -> list[tuple[str, float]]:
    """Read line crops without detection, in one batch: each one's text and confidence (0..100)."""
    if not crops:
        return []
    out = _engine().recognize_txt([_as_array(crop)[0] for crop in crops])
    return [(text.strip(), 100.0 * float(score)) for text, score in zip(out.txts, out.scores, strict=True)]


def recognize_line(img: Image.Image) -> tuple[str, float]:
    """Read one line of text (a crop) without detection: its text and confidence (0..100)."""
    return recognize_lines([img])[0]
