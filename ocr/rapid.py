"""RapidOCR (PP-OCR models on onnxruntime, CPU; the models ship inside the `rapidocr` wheel): text boxes
grouped into lines with positions and confidences, the same shape as Tesseract's reading."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from ocr import heap
from ocr.engine import OcrText, OcrUnavailable

log = logging.getLogger(__name__)

_MAX_SIDE = 2000  # larger pages are reduced first; lines are recognised on crops of this copy
# Text boxes are detected on a copy whose longer side is at most this. The library's default (shorter side
# enlarged to 736) makes tall receipts huge: slower, and hundreds of MB of activations per page.
_DET_SIDE = 1280
# A larger detection copy (a wide page: about 140 bytes of activations per pixel) is detected in bands of
# about this many pixels, at the same resolution; two bands share _DET_OVERLAP rows, more than twice the
# tallest text line, and a box is kept from the band whose share of the overlap holds its middle. Bands
# change a few boxes (the detector sees less of the page): at 800 000 pixels, two receipts of receipts-dev
# were misread, so only pages wider than about 900 × 1280 pixels (detection copy) are cut.
_DET_PIXELS = 1_200_000
_DET_OVERLAP = 192
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
        heap.map_large_blocks()
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


def _detection_size(array: np.ndarray) -> tuple[int, int]:
    """Width and height of the page as RapidOCR's detector resizes it: longer side _DET_SIDE at most, sides
    multiples of 32."""
    h, w = array.shape[:2]
    ratio = min(1.0, _DET_SIDE / max(h, w))
    return max(32, round(int(w * ratio) / 32) * 32), max(32, round(int(h * ratio) / 32) * 32)


def _bands(width: int, height: int) -> tuple[int, list[int]]:
    """Rows per band and the bands' top rows on a detection copy of this size: one band when it is small,
    else as few bands of equal height (a multiple of 32) as keep each within _DET_PIXELS."""
    most = max(2 * _DET_OVERLAP, _DET_PIXELS // width // 32 * 32)
    if height <= most:
        return height, [0]
    count = -(-(height - _DET_OVERLAP) // (most - _DET_OVERLAP))
    rows = -(-((height - _DET_OVERLAP) // count + _DET_OVERLAP) // 32) * 32
    return rows, [round(i * (height - rows) / (count - 1)) for i in range(count)]


def _gap(small: np.ndarray, start: int, end: int) -> int:
    """Where two bands overlapping on rows start..end part: the lightest row of the overlap's middle half
    (between two text lines), the middle one among equals; a line's boxes then all fall on one side of it."""
    quarter = (end - start) // 4
    rows = np.arange(start + quarter, end - quarter)
    light = small[rows].mean(axis=(1, 2)) - np.abs(rows - (start + end) / 2) * 1e-3
    return int(rows[np.argmax(light)])


def _read_in_bands(eng: Any, array: np.ndarray, rows: int, tops: list[int]) -> tuple[list[Any], list[Any], list[Any]]:
    """Text boxes detected on bands of the detection copy (`rows` rows from each of `tops`), then read on
    crops of `array`: boxes (corner points in `array` pixels), texts and scores, as RapidOCR gives them."""
    import cv2
    from rapidocr.ch_ppocr_rec import TextRecInput
    from rapidocr.utils.process_img import get_rotate_crop_image

    small = cv2.resize(array, _detection_size(array))
    cuts = [
        0,
        *(_gap(small, following, top + rows) for top, following in zip(tops, tops[1:], strict=False)),
        len(small),
    ]
    factor = np.array([array.shape[1] / small.shape[1], array.shape[0] / small.shape[0]], dtype=np.float32)
    detector = eng._load_det_model()
    boxes = []
    for index, top in enumerate(tops):
        found = detector(small[top : top + rows]).boxes
        for box in [] if found is None else found:
            middle = top + float(box[:, 1].mean())
            if cuts[index] <= middle < cuts[index + 1]:
                boxes.append(((box + [0, top]) * factor).astype(np.float32))
    if not boxes:
        return [], [], []
    crops = [get_rotate_crop_image(array, box.copy()) for box in boxes]
    out = eng._load_rec_model()(TextRecInput(img=crops))
    kept = [i for i, score in enumerate(out.scores) if score >= eng.text_score]
    return [boxes[i] for i in kept], [out.txts[i] for i in kept], [out.scores[i] for i in kept]


def recognize(img: Image.Image) -> OcrText:
    """Detect and read every text box of a page (a large one in bands: see _DET_PIXELS)."""
    array, scale = _as_array(img)
    eng = _engine()
    rows, tops = _bands(*_detection_size(array))
    if len(tops) > 1:
        found, txts, scores = _read_in_bands(eng, array, rows, tops)
    else:
        # Every step named: RapidOCR keeps the steps of the previous call (a line read without detection).
        out = eng(array, use_det=True, use_cls=False, use_rec=True)
        if getattr(out, "boxes", None) is None or not out.txts:  # nothing detected: another output type
            return OcrText((), 0.0, 0)
        found, txts, scores = list(out.boxes), list(out.txts), list(out.scores)
    boxes = []
    for box, text, score in zip(found, txts, scores, strict=True):
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
