"""PDF receipts: text layer through pdfplumber, page images through pypdfium2 for scanned pages."""

from __future__ import annotations

import contextlib
import copy
import io
import logging

import pdfplumber
import pypdfium2 as pdfium
from pdfplumber.page import Page
from PIL import Image

from ocr.images import MAX_PIXELS, ImageRejected, check_shape

MAX_PAGES = 10  # pages read per document; the rest are ignored
RENDER_DPI = 300  # scanned pages are rendered at this resolution (capped by MAX_PIXELS)
MIN_TEXT_CHARS = 25  # fewer visible characters on a page with an image or drawn shapes: treat it as a scan

# pdfminer logs every oddity of real-world PDFs at WARNING level.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


class PdfRejected(Exception):
    """The PDF cannot be read; the message is French and user-facing."""


_ENCRYPTED = (
    "Ce PDF est protégé par un mot de passe : impossible de le lire. Envoyez une version sans mot de "
    "passe, ou une photo du justificatif."
)
_BROKEN = (
    "Ce PDF est illisible ou endommagé. Envoyez-le à nouveau ou joignez une photo nette du justificatif (JPEG ou PNG)."
)


def _is_password_error(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc} {exc.__cause__!r}".lower()
    return "password" in text or "encrypt" in text


def page_count(data: bytes) -> int:
    """Number of pages, raising PdfRejected with a French reason for encrypted or broken files."""
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfRejected(_ENCRYPTED if _is_password_error(exc) else _BROKEN) from exc
    try:
        return len(doc)
    finally:
        doc.close()


def page_texts(data: bytes, pages: int) -> list[str | None]:
    """The text layer of the first `pages` pages, None for a page without usable text (a scan)."""
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many unrelated types on bad files
        raise PdfRejected(_ENCRYPTED if _is_password_error(exc) else _BROKEN) from exc
    texts: list[str | None] = []
    try:
        for page in pdf.pages[:pages]:
            try:
                text = _page_text(pdf, page)
            except Exception:  # a damaged page is OCRed instead
                text, scan = "", True
            else:
                scan = sum(not c.isspace() for c in text) < MIN_TEXT_CHARS and bool(page.images or page.curves)
            texts.append(None if scan else text)
    except Exception:  # pdfminer cannot lay the pages out (no MediaBox...): pdfium renders them for OCR
        texts = [None] * pages
    finally:
        with contextlib.suppress(Exception):  # closing lays the pages out again
            pdf.close()
    return texts


def _page_text(pdf: pdfplumber.PDF, page: Page) -> str:
    """The page's text in reading order. A page turned by its /Rotate entry whose characters run left to right
    where they are drawn (a page turned in a viewer) is read as drawn: turned, its lines would come out
    backwards or one word a line. A page of short text with nothing drawn besides (a « page 2/2 ») is text,
    not a scan: there is nothing more for OCR to read on it."""
    if page.rotation:
        unturned = copy.copy(page.page_obj)
        unturned.rotate, unturned.attrs = 0, {**page.page_obj.attrs, "Rotate": 0}
        as_drawn = Page(pdf, unturned, page_number=page.page_number, initial_doctop=page.initial_doctop)
        if _left_to_right(as_drawn.chars):
            page = as_drawn
    return str(page.extract_text(layout=False) or "")


def _left_to_right(chars: list[dict[str, object]]) -> bool:
    """Most characters are drawn upright, running left to right, in the page's own coordinates."""
    upright = 0
    for char in chars:
        a, b = char["matrix"][:2]  # type: ignore[index]
        upright += a > 0 and abs(b) <= 0.01 * a
    return upright > len(chars) / 2


def render_page(data: bytes, index: int, dpi: int = RENDER_DPI) -> Image.Image:
    """Render one page to a grayscale image, at `dpi` or less so it stays under the pixel cap."""
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfRejected(_ENCRYPTED if _is_password_error(exc) else _BROKEN) from exc
    try:
        page = doc[index]
        width, height = page.get_size()  # points (1/72 inch)
        scale = dpi / 72
        pixels = width * height * scale * scale
        if pixels > MAX_PIXELS / 2:
            scale *= (MAX_PIXELS / 2 / pixels) ** 0.5
        try:
            check_shape(round(width * scale), round(height * scale))
        except ImageRejected as exc:
            raise PdfRejected(f"Page {index + 1} du PDF : {exc}") from exc
        image: Image.Image = page.render(scale=scale, grayscale=True).to_pil()
        return image.convert("L")
    finally:
        doc.close()
