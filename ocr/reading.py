"""`read()`: one receipt file in, one Reading out (total, currency, date, confidence), never an exception."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from PIL import Image

from ocr import engine, heap, images, pdf, rapid
from ocr.amounts import detect_currency, find_amounts
from ocr.dates import best_found, date_lines, find_dates, reread
from ocr.fields import TicketTrip, read_fields, settle_currency
from ocr.sniff import file_kind
from ocr.totals import TotalResult, find_total, settle

log = logging.getLogger(__name__)

TEXT_LIMIT = 4000  # characters of recognised text kept in a Reading
# Below this mean word confidence, a first reading not confirmed has its orientation checked. Measured on 200
# pages of three corpora, upright and turned (90, 180, 270) then put through `_prepare`: every page still the wrong
# way up read below 59, all but 3 of the upright ones above 62.
_WEAK_WORD_CONFIDENCE = 62
_SURE_TOTAL = 0.5  # a total found with less confidence is read again another way
_TURNS = (180, 90, 270)  # the turns tried on a page that may be the wrong way up
_OSD_MAX_SIDE = 1400  # orientation detection works on a reduced copy (smaller, it is often wrong)
_RETRY_TIME = 2.5  # a second reading may take this many times the first one, at most (a loaded machine)
_RETRY_FLOOR = 1.0  # seconds always allowed to a second reading (small images)
_DOUBT_PENALTY = 0.6  # a total that other lines contradict loses against one they do not
_BAND_TIME = 2.0  # seconds for reading one double-height line alone
_BAND_CONFIDENCE = 60  # a double-height line read alone is kept above this mean word confidence
_SURE_ORIENTATION = 1.0  # Tesseract's orientation confidence above which its answer is the only one tried
_ORIENTATION_TIME = 8.0  # seconds at least for reading one candidate orientation
_ORIENTATION_SIDE = 1400  # candidate orientations are read on a copy this large at most
_NO_VALUE = Decimal("-999999")
_OCR_FALLBACK_PAGES = 3  # a text PDF without a readable total is OCRed when it has at most this many pages
_SECOND_LINE_CONFIDENCE = 80  # RapidOCR's reading of a line replaces Tesseract's above this confidence (0..100)

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
    if images.is_sideways(gray) and engine.enabled("tesseract"):
        # Text lines look vertical: OSD only has to choose between a quarter turn either way.
        rotation = _osd(gray, deadline, min_confidence=0.2)
        if rotation in (90, 270):
            gray = gray.rotate(-rotation, expand=True, fillcolor=255)
    return images.straighten(gray)


def _score(ocr: engine.OcrText, result: TotalResult) -> float:
    doubt = _DOUBT_PENALTY if result.doubtful else 1.0
    return (result.confidence if result.total is not None else 0.0) * _quality(ocr.confidence) * doubt


def _sure(result: TotalResult) -> bool:
    return result.total is not None and result.confidence >= _SURE_TOTAL and not result.doubtful


Readings = list[tuple[engine.OcrText, TotalResult]]


Page = tuple[Image.Image, engine.OcrText, TotalResult]  # the view read (cleaned, turned), its reading, its total


def _ocr_image(img: Image.Image, deadline: _Deadline) -> Page:
    """OCR an image: Tesseract's first reading, kept when the receipt's own lines confirm its total (fast);
    otherwise RapidOCR's reading, kept when its total is sure; otherwise more Tesseract readings (another
    size, binarisation, orientation) and a vote between all of them. A total that the other lines contradict
    is then re-read on its line alone. Either engine alone works when the other is missing."""
    use_tesseract, use_rapid = engine.enabled("tesseract"), engine.enabled("rapidocr") and rapid.installed()
    if not use_tesseract and not use_rapid:
        raise engine.OcrUnavailable("no OCR engine enabled (IMAGIN_OCR_ENGINES)")
    if not use_rapid:
        _notice(f"RapidOCR not installed or disabled ({engine.ENGINES_ENV}): reading with Tesseract alone")
    if not use_tesseract:
        _notice(f"Tesseract disabled ({engine.ENGINES_ENV}): reading with RapidOCR alone")
    img = _prepare(img, deadline)
    readings: Readings = []
    retry_limit = _RETRY_FLOOR
    other_angles: list[int] = []
    if use_tesseract:
        try:
            first, retry_limit = _tesseract_first(img, deadline)
        except engine.OcrUnavailable as exc:
            if not use_rapid:
                raise
            _notice(f"Tesseract unavailable, reading with RapidOCR alone: {exc}")
            use_tesseract = False
        else:
            if first[1].confirmed:
                return img, *first
            turned, other_angles = _turned_first(img, first[0], deadline, retry_limit)
            if turned is not None:
                img, first = turned
                if first[1].confirmed:
                    return img, *first
            second = _second_opinion(img, first[0]) if use_rapid and first[1].total is not None else None
            if second is not None:
                return img, *second
            readings.append(first)
    if use_rapid:
        other = _rapid_reading(img, deadline)
        use_rapid = other is not None
        if other is not None:
            readings.append(other)
            if _sure(other[1]):
                return img, *other
    if use_tesseract:
        img, readings = _tesseract_more(img, readings, deadline, retry_limit, use_rapid, other_angles)
    best, best_result = _choose(readings) if readings else (engine.OcrText((), 0.0, 0), find_total(""))
    if best_result.doubtful and deadline.left() > 2:
        reread = _reread_total_line(img, best, best_result, deadline, use_tesseract, use_rapid)
        if reread is not None:
            return img, best, reread
    return img, best, best_result


def _second_opinion(img: Image.Image, first: engine.OcrText) -> tuple[engine.OcrText, TotalResult] | None:
    """Tesseract's total is not confirmed: RapidOCR reads again, cropped by Tesseract's boxes, each line that
    states an amount (no detection over the whole page: a fraction of its time), and its readings replace
    Tesseract's. Kept when the receipt's lines then confirm the total (two engines agreeing on one line is not
    enough: the line may be the wrong one, a VAT row); None otherwise (RapidOCR reads the whole page next)."""
    picks = [i for i, line in enumerate(first.lines[: len(first.boxes)]) if find_amounts(line)]
    merged = _with_lines_read(first, dict(_second_readings(img, first, picks)))
    again = find_total(merged.text)
    return (merged, again) if again.confirmed else None


def _second_readings(img: Image.Image, ocr: engine.OcrText, rows: list[int]) -> list[tuple[int, str]]:
    """RapidOCR's readings of these lines of `ocr`, cropped by their boxes from `img`, each with its row: those
    it is sure of (none when it cannot run)."""
    try:
        read = rapid.recognize_lines([_line_crop(img, ocr.boxes[row]) for row in rows])
    except engine.OcrUnavailable:
        return []
    return [
        (row, text) for row, (text, score) in zip(rows, read, strict=True) if text and score >= _SECOND_LINE_CONFIDENCE
    ]


def _with_lines_read(ocr: engine.OcrText, texts: dict[int, str]) -> engine.OcrText:
    """The reading with these rows' texts replaced (boxes and confidence kept)."""
    return dataclasses.replace(ocr, lines=tuple(texts.get(i, line) for i, line in enumerate(ocr.lines)))


def _line_crop(img: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    left, top, right, bottom = box
    pad_y, pad_x = max(2, (bottom - top) // 4), max(4, (bottom - top) // 2)
    return img.crop(
        (max(0, left - pad_x), max(0, top - pad_y), min(img.size[0], right + pad_x), min(img.size[1], bottom + pad_y))
    )


def _rapid_reading(img: Image.Image, deadline: _Deadline) -> tuple[engine.OcrText, TotalResult] | None:
    """RapidOCR's reading of the page; None (and said once) when it cannot run."""
    if deadline.left() < 2:
        return None
    try:
        other = rapid.recognize(img)
    except engine.OcrUnavailable as exc:
        _notice(f"RapidOCR unavailable, reading with Tesseract alone: {exc}")
        return None
    return other, find_total(other.text)


_NOTICES: set[str] = set()


def _notice(message: str) -> None:
    """Say once per process that an engine is missing: the reading goes on with the other one."""
    if message not in _NOTICES:
        _NOTICES.add(message)
        log.warning(message)


def _choose(readings: Readings) -> tuple[engine.OcrText, TotalResult]:
    """The best of several readings: a total two readings agree on, else a vote settled by the receipt's
    other lines, else the best score."""
    best, best_result = max(readings, key=lambda r: _score(*r))
    if len(readings) < 2:
        return best, best_result
    totals = [r.total for _, r in readings if r.total is not None]
    agreed = [v for v in dict.fromkeys(totals) if totals.count(v) >= 2]
    if agreed and best_result.total not in agreed:
        best, best_result = max((r for r in readings if r[1].total in agreed), key=lambda r: _score(*r))
    settled = None if _sure(best_result) else settle([r for _, r in readings], best_result)
    if settled is not None:
        best = next(o for o, r in readings if any(c.value == settled.total for c in r.candidates))
        return best, settled
    return best, best_result


def _tesseract_first(img: Image.Image, deadline: _Deadline) -> tuple[tuple[engine.OcrText, TotalResult], float]:
    """Tesseract's first reading (double-height lines it dropped read alone) and the time a retry may take."""
    started = time.monotonic()
    first = engine.recognize(img, deadline.left())
    retry_limit = max(_RETRY_FLOOR, (time.monotonic() - started) * _RETRY_TIME)
    first = _read_dropped_lines(img, first, deadline)
    return (first, find_total(first.text)), retry_limit


def _tesseract_more(
    img: Image.Image,
    readings: Readings,
    deadline: _Deadline,
    retry_limit: float,
    use_rapid: bool,
    other_angles: list[int],
) -> tuple[Image.Image, Readings]:
    """More Tesseract readings when no total is sure yet (readings[0] is Tesseract's first one). A total that
    other lines contradict is read again at another size first (Tesseract segments the same text differently
    and often reads the digit right); on a poorly read page, the turns `_turned_first` left are tried (RapidOCR then
    reads the turned page too); Sauvola's local binarisation helps faded or unevenly lit prints; adaptive Otsu
    is the last resort when no total was found at all."""
    first = readings[0]
    if _sure(first[1]):
        return img, readings
    passes = [(img, engine.SAUVOLA)]
    if first[1].doubtful:
        passes.insert(0, (images.rescale_again(img), engine.OTSU))
    elif other_angles:
        turned = _turned_reading(img, first[0], other_angles, deadline, retry_limit)
        if turned is not None:
            img, reading = turned
            readings = [reading]
            other = _rapid_reading(img, deadline) if use_rapid else None
            if other is not None:
                readings.append(other)
                if _sure(other[1]):
                    return img, readings
            passes = [(img, engine.SAUVOLA)]
    passes.append((img, engine.ADAPTIVE_OTSU))
    for view, thresholding in passes:
        found = any(r.total is not None for _, r in readings)
        if deadline.left() < 2 or (thresholding == engine.ADAPTIVE_OTSU and found):
            break
        try:
            limit = deadline.left() if thresholding == engine.OTSU and view is img else retry_limit
            ocr = engine.recognize(view, min(deadline.left(), limit), thresholding=thresholding)
        except engine.OcrTimeout:
            break
        readings.append((ocr, find_total(ocr.text)))
        if _sure(readings[-1][1]):
            break
    return img, readings


def _text_score(ocr: engine.OcrText, result: TotalResult) -> float:
    """How much a reading looks like a receipt read the right way up: well-read words and a total."""
    return ocr.confidence * min(1.0, ocr.words / 20) + (20.0 if result.total is not None else 0.0)


def _turned_first(
    img: Image.Image, first: engine.OcrText, deadline: _Deadline, limit: float
) -> tuple[tuple[Image.Image, tuple[engine.OcrText, TotalResult]] | None, list[int]]:
    """Poorly read words, before another engine reads the page: it may be upside down or turned the wrong way
    (RapidOCR would read its lines backwards). The turn Tesseract's orientation detection is sure of is tried,
    else every turn; the one whose text scores best is kept if it beats the page as it is. Returns that reading,
    if kept, and the turns still worth trying later (none once turned)."""
    if first.confidence >= _WEAK_WORD_CONFIDENCE:
        return None, []
    rotation = _osd(img, deadline, min_confidence=_SURE_ORIENTATION)
    candidates = [rotation] if rotation else list(_TURNS)
    turned = _turned_reading(img, first, candidates, deadline, limit)
    return turned, [] if turned is not None else [a for a in _TURNS if a not in candidates]


def _turned_reading(
    img: Image.Image, first: engine.OcrText, candidates: list[int], deadline: _Deadline, limit: float
) -> tuple[Image.Image, tuple[engine.OcrText, TotalResult]] | None:
    """The page turned by the candidate angle whose reading scores better than `first` (one candidate: read at
    full size; several: each read on a reduced copy, the best read again at full size); None when none does."""
    base = _text_score(first, find_total(first.text))
    if len(candidates) == 1:
        turned = img.rotate(-candidates[0], expand=True, fillcolor=255)
        try:
            ocr = engine.recognize(turned, min(deadline.left(), max(_ORIENTATION_TIME, limit)))
        except engine.OcrTimeout:
            return None
        result = find_total(ocr.text)
        return (turned, (ocr, result)) if _text_score(ocr, result) > base else None
    best: tuple[float, int] | None = None
    for angle in candidates:
        if deadline.left() < 4:
            break
        turned = img.rotate(-angle, expand=True, fillcolor=255)
        try:
            ocr = engine.recognize(_reduced(turned), min(deadline.left() / 2, max(_ORIENTATION_TIME, limit)))
        except engine.OcrTimeout:
            continue
        score = _text_score(ocr, find_total(ocr.text))
        if score > base and (best is None or score > best[0]):
            best = (score, angle)
    if best is None:
        return None
    turned = img.rotate(-best[1], expand=True, fillcolor=255)
    ocr = engine.recognize(turned, deadline.left())
    return turned, (ocr, find_total(ocr.text))


def _reduced(img: Image.Image) -> Image.Image:
    if max(img.size) <= _ORIENTATION_SIDE:
        return img
    small = img.copy()
    small.thumbnail((_ORIENTATION_SIDE, _ORIENTATION_SIDE))
    return small


def _reread_total_line(
    img: Image.Image,
    ocr: engine.OcrText,
    result: TotalResult,
    deadline: _Deadline,
    use_tesseract: bool,
    use_rapid: bool,
) -> TotalResult | None:
    """The total contradicts the receipt's other lines (cash - change, net + tax, the card payment): read its
    line alone, cropped, at two sizes and two binarisations with Tesseract and with RapidOCR, and vote. A value
    that the other lines state and that the re-readings find wins; None when the vote changes nothing."""
    stated = {c.value for c in result.candidates if c.kind in ("derived", "payment")}
    chosen = next((c for c in result.candidates if c.value == result.total), None)
    if chosen is None or not stated or not ocr.spans:
        return None
    rows = [i for i, line in enumerate(ocr.lines) if line.strip()]
    if chosen.line >= len(rows) or rows[chosen.line] >= len(ocr.spans):
        return None
    top, bottom = ocr.spans[rows[chosen.line]]
    pad = max(2, (bottom - top) // 3)
    band = img.crop((0, max(0, top - pad), img.size[0], min(img.size[1], bottom + pad)))
    votes: dict[Decimal, int] = {}
    texts: list[str] = []
    if use_tesseract:
        for scale in (1.0, 1.5):
            view = band if scale == 1.0 else band.resize((int(band.size[0] * scale), int(band.size[1] * scale)))
            for thresholding in (engine.OTSU, engine.SAUVOLA):
                if deadline.left() < 2:
                    break
                with contextlib.suppress(engine.OcrTimeout, engine.OcrUnavailable):
                    line = engine.recognize(view, min(deadline.left(), _BAND_TIME), engine.PSM_LINE, thresholding)
                    texts.append(line.text)
    if use_rapid and deadline.left() > 1:
        with contextlib.suppress(engine.OcrUnavailable):
            texts.append(rapid.recognize_line(band)[0])
    for text in texts:
        for value in {a.value for a in find_amounts(text)}:
            votes[value] = votes.get(value, 0) + 1
    agreeing = [v for v in stated if votes.get(v, 0) >= 1]
    if not agreeing:
        return None
    value = max(agreeing, key=lambda v: votes[v])
    if votes.get(result.total or _NO_VALUE, 0) > votes[value]:
        return None
    log.info("total line re-read: %s instead of %s (%s votes)", value, result.total, votes[value])
    return TotalResult(value, max(0.3, result.confidence * 0.8), result.currency, result.candidates)


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
    return engine.with_lines(ocr, extra, img.size[0]) if extra else ocr


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
    view, ocr, result = _ocr_image(images.load_image(data), deadline)
    ocr = _date_second_look(view, ocr, deadline)
    return _finish([ocr.text], _quality(ocr.confidence), "ocr", 1, deadline, result)


def _date_second_look(img: Image.Image, ocr: engine.OcrText, deadline: _Deadline) -> engine.OcrText:
    """The transaction date's line read again by RapidOCR (better at digits: 2018 read 2016, 03 read 08): when
    it shows a valid date of the same shape, that date replaces the one read first in the text. No date read
    at all: the few lines that look like they print one are read again, and the first whose second reading
    shows a date replaces its first reading; failing that, `_date_from_page` (only then: a receipt printing no
    date costs no page reading)."""
    if not engine.enabled("rapidocr") or not rapid.installed():
        return ocr
    text = ocr.text
    found = best_found(find_dates(text))
    rows = date_lines(ocr.lines) if found is None else [text.count("\n", 0, found.start)]
    for row, other in _second_readings(img, ocr, [row for row in rows if row < len(ocr.boxes)]):
        if found is None:
            fixed = other if best_found(find_dates(other)) is not None else None
        elif (written := reread(text, found, other)) is not None:
            offset = text.rfind("\n", 0, found.start) + 1
            line = ocr.lines[row]
            fixed = line[: found.start - offset] + written + line[found.end - offset :]
        else:
            fixed = None
        if fixed is not None:
            return _with_lines_read(ocr, {row: fixed})
    return _date_from_page(img, ocr, deadline) if found is None and rows else ocr


def _date_from_page(img: Image.Image, ocr: engine.OcrText, deadline: _Deadline) -> engine.OcrText:
    """Still no date though some line hints at one (a date line Tesseract cut short: its box misses the date):
    RapidOCR reads the whole page, and its line printing the transaction date is added at the end of the
    reading."""
    if deadline.left() < 2:
        return ocr
    try:
        page = rapid.recognize(img)
    except engine.OcrUnavailable:
        return ocr
    found = best_found(find_dates(page.text))
    return ocr if found is None else dataclasses.replace(ocr, lines=(*ocr.lines, found.line))


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
        _, ocr, _ = _ocr_image(pdf.render_page(data, index), deadline)
        out.append(ocr.text)
        qualities.append(_quality(ocr.confidence))
    quality = min(qualities) if qualities else 0.0
    return _finish(out, quality, "ocr" if used_ocr else "text", pages, deadline)


def read(data: bytes, filename: str | None = None, *, time_limit: float = 60.0) -> Reading:
    """Read a receipt (PDF or image bytes): total, currency, date, confidence; a reason if unreadable.

    Never raises for bad input: refused or unreadable files give a Reading with `error` set (French).
    """
    try:
        return _read(data, filename, time_limit)
    finally:
        heap.give_back()  # a long-lived worker keeps its resident size to one page's worth


def _read(data: bytes, filename: str | None, time_limit: float) -> Reading:
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
