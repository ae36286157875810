"""RapidOCR (PP-OCR models on onnxruntime, CPU; the models ship inside the `rapidocr` wheel): text boxes
grouped into lines with positions and confidences, the same shape as Tesseract's reading."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

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


def group_lines(boxes: list[tuple[float, float, float, str, float]]) -> OcrText:
    """Boxes (left, top, bottom, text, score 0..1) into lines: a box joins the line whose box nearest to it
    across the page shares most of its height (not the whole line's span: on a tilted or curved page that
    span grows and chains rows into one line); lines top to bottom, boxes left to right."""
    lines: list[list[tuple[float, float, float, str, float]]] = []
    for box in sorted(boxes, key=lambda b: (b[1] + b[2]) / 2):
        left, top, bottom, _, _ = box
        for line in lines:
            _, l_top, l_bottom, _, _ = min(line, key=lambda b: abs(b[0] - left))
            overlap = min(bottom, l_bottom) - max(top, l_top)
            if overlap > 0.5 * min(bottom - top, l_bottom - l_top):
                line.append(box)
                break
        else:
            lines.append([box])
    lines.sort(key=lambda line: min(b[1] for b in line))
    texts = tuple(" ".join(b[3] for b in sorted(line)) for line in lines)
    spans = tuple((int(min(b[1] for b in line)), int(max(b[2] for b in line))) for line in lines)
    scores = [b[4] for b in boxes]
    words = sum(len(b[3].split()) for b in boxes)
    confidence = 100.0 * sum(scores) / len(scores) if scores else 0.0
    return OcrText(texts, confidence, words, spans)


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
            boxes.append((float(xs.min()), float(ys.min()), float(ys.max()), text, float(score)))
    return group_lines(boxes)


def recognize_line(img: Image.Image) -> tuple[str, float]:
    """Read one line of text (a crop) without detection: its text and confidence (0..100)."""
    array, _ = _as_array(img)
    out = _engine()(array, use_det=False, use_cls=False, use_rec=True)
    if not getattr(out, "txts", None):
        return "", 0.0
    return " ".join(out.txts), 100.0 * float(sum(out.scores) / len(out.scores))
