"""`read()`: one receipt file in, one Reading out (total, currency, date, confidence), never an exception."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from PIL import Image

from ocr import engine, images, pdf
from ocr.amounts import detect_currency
from ocr.fields import TicketTrip, read_fields, settle_currency
from ocr.sniff import file_kind
from ocr.totals import TotalResult, find_total, settle

log = logging.getLogger(__name__)

TEXT_LIMIT = 4000  # characters of recognised text kept in a Reading
_WEAK_WORD_CONFIDENCE = 58  # below this mean word confidence and without a sure total, check the orientation
_SURE_TOTAL = 0.5  # a total found with less confidence is read again another way
_OSD_MAX_SIDE = 1000  # orientation detection works on a reduced copy
_RETRY_TIME = 2.5  # a second reading may take this many times the first one, at most (a loaded machine)
_RETRY_FLOOR = 1.0  # seconds always allowed to a second reading (small images)
_DOUBT_PENALTY = 0.6  # a total that other lines contradict loses against one they do not
_BAND_TIME = 2.0  # seconds for reading one double-height line alone
_BAND_CONFIDENCE = 60  # a double-height line read alone is kept above this mean word confidence
_OCR_FALLBACK_PAGES = 3  # a text PDF without a readable total is OCRed when it has at most this many pages

NO_TOTAL = (
    "Aucun montant total n'a été trouvé sur ce justificatif. Envoyez une photo nette et droite du "
    "ticket entier, où le total est lisible (par exemple « TOTAL TTC 42,50 € »)."
)
UNKNOWN_TYPE = "Format de fichier non reconnu : envoyez un PDF ou une image (JPEG, PNG ou GIF)."
EMPTY = "Fichier vide : envoyez à nouveau le justificatif (PDF, JPEG, PNG ou GIF)."


@dataclass(frozen=True)
class Reading:
    """What was read on one receipt. OCR never overwrites what the intervenant declared."""

    total: Decimal | None = None
    currency: str | None = None
    date: date | None = None
    confidence: float = 0.0
    engine: str | None = None  # "text" (PDF text layer) or "ocr" (Tesseract)
    pages: int = 0
    seconds: float = 0.0
    error: str | None = None  # French, user-facing reason when unreadable or refused
    text: str = ""
    merchant: str | None = None  # the business name, as printed
    kind: str | None = None  # train, coach, plane, taxi, fuel, toll, parking, car_hire, hotel, meal, other
    kind_confidence: float = 0.0
    trip: TicketTrip | None = None  # a ticket's departure, arrival and travel date

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: total as a decimal string, dates ISO."""
        return {
            "total": None if self.total is None else str(self.total),
            "currency": self.currency,
            "date": None if self.date is None else self.date.isoformat(),
            "confidence": self.confidence,
            "engine": self.engine,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "text": self.text,
            "merchant": self.merchant,
            "kind": self.kind,
            "kind_confidence": self.kind_confidence,
            "trip": None if self.trip is None else self.trip.to_dict(),
        }


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def _timeout_message(limit: float) -> str:
    return (
        f"Lecture interrompue : le justificatif n'a pas pu être lu en {limit:.0f} secondes. Envoyez une "
        "image plus nette ou un PDF d'une seule page."
    )


def _osd(img: Image.Image, deadline: _Deadline, min_confidence: float = 1.0) -> int | None:
    small = img.copy()
    small.thumbnail((_OSD_MAX_SIDE, _OSD_MAX_SIDE))
    return engine.detect_rotation(small, min(deadline.left(), 15.0), min_confidence)


def _prepare(img: Image.Image, deadline: _Deadline) -> Image.Image:
    """Clean the image; a page that looks sideways is turned the way Tesseract's orientation detection says."""
    gray = images.clean(img)
    if images.is_sideways(gray):
        # Text lines look vertical: OSD only has to choose between a quarter turn either way.
        rotation = _osd(gray, deadline, min_confidence=0.2)
        if rotation in (90, 270):
            gray = gray.rotate(-rotation, expand=True, fillcolor=255)
    return images.straighten(gray)


def _score(ocr: engine.OcrText, result: TotalResult) -> float:
    doubt = _DOUBT_PENALTY if result.doubtful else 1.0
    return (result.confidence if result.total is not None else 0.0) * _quality(ocr.confidence) * doubt


def _ocr_image(img: Image.Image, deadline: _Deadline) -> tuple[engine.OcrText, TotalResult]:
    """OCR an image. Without a sure total: check the orientation when the words are poorly read, then try
    Sauvola's local binarisation (faded or unevenly lit prints), and keep the best reading; adaptive Otsu is the
    last resort when no total was found at all. A total that other lines contradict is read again at another size
    first; readings that disagree are settled by vote."""
    img = _prepare(img, deadline)
    started = time.monotonic()
    best = engine.recognize(img, deadline.left())
    retry_limit = max(_RETRY_FLOOR, (time.monotonic() - started) * _RETRY_TIME)
    best = _read_dropped_lines(img, best, deadline)
    best_result = find_total(best.text)

    def sure() -> bool:
        return best_result.total is not None and best_result.confidence >= _SURE_TOTAL and not best_result.doubtful

    if sure():
        return best, best_result
    passes = [(img, engine.SAUVOLA)]
    if best_result.doubtful:
        # Other lines contradict the total: a digit was probably misread. The same text at another size
        # is segmented differently by Tesseract, which often reads the digit right.
        passes.insert(0, (images.rescale_again(img), engine.OTSU))
    elif best.confidence < _WEAK_WORD_CONFIDENCE:
        rotation = _osd(img, deadline)
        if rotation:
            img = img.rotate(-rotation, expand=True, fillcolor=255)
            passes = [(img, engine.OTSU), (img, engine.SAUVOLA)]
    passes.append((img, engine.ADAPTIVE_OTSU))
    readings = [(best, best_result)]
    for view, thresholding in passes:
        if deadline.left() < 2 or (thresholding == engine.ADAPTIVE_OTSU and best_result.total is not None):
            break
        try:
            limit = deadline.left() if thresholding == engine.OTSU and view is img else retry_limit
            ocr = engine.recognize(view, min(deadline.left(), limit), thresholding=thresholding)
        except engine.OcrTimeout:
            break
        result = find_total(ocr.text)
        readings.append((ocr, result))
        if _score(ocr, result) > _score(best, best_result) or (
            best_result.total is None and ocr.confidence > best.confidence
        ):
            best, best_result = ocr, result
        if sure():
            break
    settled = None if sure() else settle([r for _, r in readings], best_result)
    if settled is not None:
        best = next(o for o, r in readings if any(c.value == settled.total for c in r.candidates))
        return best, settled
    return best, best_result


def _read_dropped_lines(img: Image.Image, ocr: engine.OcrText, deadline: _Deadline) -> engine.OcrText:
    """Double-height lines (a big TOTAL) that Tesseract left out of the block: read each one alone."""
    extra: list[tuple[int, str]] = []
    for top, bottom in images.tall_text_bands(img):
        if any(min(bottom, b) - max(top, t) > (bottom - top) // 3 for t, b in ocr.spans):
            continue  # some words were read there
        pad = (bottom - top) // 4
        band = img.crop((0, max(0, top - pad), img.size[0], min(img.size[1], bottom + pad)))
        try:
            line = engine.recognize(band, min(deadline.left(), _BAND_TIME), psm=engine.PSM_LINE)
        except engine.OcrTimeout:
            break
        if line.lines and line.confidence >= _BAND_CONFIDENCE:
            extra.append((top, " ".join(line.lines)))
    return engine.with_lines(ocr, extra) if extra else ocr


def _quality(word_confidence: float) -> float:
    """Scale a total's confidence by how well Tesseract read the words (mean confidence 0..100)."""
    return max(0.3, min(1.0, (word_confidence - 30) / 50))


def _finish(
    texts: list[str],
    quality: float,
    engine_used: str,
    pages: int,
    deadline: _Deadline,
    result: TotalResult | None = None,
) -> Reading:
    text = "\n".join(texts)
    if result is None:
        result = find_total(text)
    fields = read_fields(text)
    currency = settle_currency(result.currency or detect_currency(text), fields.currency)
    confidence = round(result.confidence * quality, 3) if result.total is not None else 0.0
    return Reading(
        total=result.total,
        currency=currency,
        date=fields.date,
        confidence=confidence,
        engine=engine_used,
        pages=pages,
        seconds=deadline.elapsed(),
        error=None if result.total is not None else NO_TOTAL,
        text=text[:TEXT_LIMIT],
        merchant=fields.merchant,
        kind=fields.kind,
        kind_confidence=fields.kind_confidence,
        trip=fields.trip,
    )


def _read_image(data: bytes, deadline: _Deadline) -> Reading:
    ocr, result = _ocr_image(images.load_image(data), deadline)
    return _finish([ocr.text], _quality(ocr.confidence), "ocr", 1, deadline, result)


def _read_pdf(data: bytes, deadline: _Deadline) -> Reading:
    pages = pdf.page_count(data)
    if pages == 0:
        raise pdf.PdfRejected("Ce PDF ne contient aucune page : envoyez le justificatif complet.")
    texts = list(pdf.page_texts(data, min(pages, pdf.MAX_PAGES)))
    reading = _read_pdf_pages(data, texts, pages, deadline)
    if reading.total is None and reading.engine == "text" and len(texts) <= _OCR_FALLBACK_PAGES:
        # A text layer without a readable total (fonts without a character map, a scan with a stray
        # line of text): read the rendered pages instead.
        with contextlib.suppress(engine.OcrTimeout):
            return _read_pdf_pages(data, [None] * len(texts), pages, deadline)
    return reading


def _read_pdf_pages(data: bytes, texts: list[str | None], pages: int, deadline: _Deadline) -> Reading:
    """Combine the pages: their text layer when there is one, OCR of the rendered page otherwise."""
    out: list[str] = []
    qualities: list[float] = []
    used_ocr = False
    for index, text in enumerate(texts):
        if text is not None:
            out.append(text)
            qualities.append(1.0)
            continue
        if deadline.left() < 2:
            raise engine.OcrTimeout()
        used_ocr = True
        ocr, _ = _ocr_image(pdf.render_page(data, index), deadline)
        out.append(ocr.text)
        qualities.append(_quality(ocr.confidence))
    quality = min(qualities) if qualities else 0.0
    return _finish(out, quality, "ocr" if used_ocr else "text", pages, deadline)


def read(data: bytes, filename: str | None = None, *, time_limit: float = 60.0) -> Reading:
    """Read a receipt (PDF or image bytes): total, currency, date, confidence; a reason if unreadable.

    Never raises for bad input: refused or unreadable files give a Reading with `error` set (French).
    """
    deadline = _Deadline(time_limit)
    if not data:
        return Reading(error=EMPTY)
    kind = file_kind(data)
    try:
        if kind == "pdf":
            return _read_pdf(data, deadline)
        if kind == "image":
            return _read_image(data, deadline)
        return Reading(error=UNKNOWN_TYPE, seconds=deadline.elapsed())
    except (images.ImageRejected, pdf.PdfRejected) as exc:
        return Reading(error=str(exc), seconds=deadline.elapsed())
    except engine.OcrTimeout:
        return Reading(error=_timeout_message(time_limit), engine="ocr", seconds=deadline.elapsed())
    except engine.OcrUnavailable as exc:
        log.error("tesseract failed on %s: %s", filename, exc)
        return Reading(
            error="Lecture automatique indisponible pour le moment : le justificatif sera vérifié par un gestionnaire.",
            seconds=deadline.elapsed(),
        )
    except (MemoryError, Image.DecompressionBombError):
        return Reading(error=images.too_big_message(None), seconds=deadline.elapsed())
    except Exception:  # one bad file must never stop the queue
        log.exception("unexpected failure reading %s", filename)
        return Reading(
            error="Ce justificatif n'a pas pu être lu (fichier inhabituel ou endommagé). Envoyez "
            "une photo nette ou un PDF.",
            seconds=deadline.elapsed(),
        )
