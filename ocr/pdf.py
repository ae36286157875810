"""PDF receipts: text layer through pdfplumber, page images through pypdfium2 for scanned pages."""

from __future__ import annotations

import contextlib
import io
import logging

import pdfplumber
import pypdfium2 as pdfium
from PIL import Image

from ocr.images import MAX_PIXELS, ImageRejected, check_shape

MAX_PAGES = 10  # pages read per document; the rest are ignored
RENDER_DPI = 300  # scanned pages are rendered at this resolution (capped by MAX_PIXELS)
MIN_TEXT_CHARS = 25  # fewer visible characters on a page: treat it as a scan

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
                text = page.extract_text(layout=False) or ""
            except Exception:  # a damaged page is OCRed instead
                text = ""
            texts.append(text if sum(not c.isspace() for c in text) >= MIN_TEXT_CHARS else None)
    except Exception:  # pdfminer cannot lay the pages out (no MediaBox...): pdfium renders them for OCR
        texts = [None] * pages
    finally:
        with contextlib.suppress(Exception):  # closing lays the pages out again
            pdf.close()
    return texts


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
