"""Odd but harmless files: blank pages and photos, PDFs pdfminer cannot lay out or that loop, pixel strips."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

import ocr

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def test_a_blank_page_of_a_scan_does_not_hide_the_total_of_the_other() -> None:
    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 40)
    draw.text((100, 200), "HOTEL DU PORT", font=font, fill=0)
    draw.text((100, 300), "TOTAL TTC 123,45 EUR", font=font, fill=0)
    blank = Image.new("L", page.size, 255)
    buf = io.BytesIO()
    page.convert("RGB").save(buf, "PDF", save_all=True, append_images=[blank.convert("RGB")], resolution=150)
    reading = ocr.read(buf.getvalue(), "scan.pdf", time_limit=60)
    assert reading.error is None and reading.pages == 2
    assert reading.total == Decimal("123.45")


def test_a_blank_photo_gets_a_plain_reason() -> None:
    buf = io.BytesIO()
    Image.new("L", (800, 1200), 200).save(buf, "PNG")
    reading = ocr.read(buf.getvalue(), "vide.png", time_limit=60)
    assert reading.total is None
    assert reading.error is not None and "Aucun montant total" in reading.error


def test_a_pdf_without_media_box_is_rendered_and_read() -> None:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=14)
    doc.cell(0, 10, "RESTAURANT DU PORT", new_x="LMARGIN", new_y="NEXT")
    doc.cell(0, 10, "TOTAL TTC 42,50 EUR")
    data = re.sub(rb"/MediaBox\s*\[[^\]]*\]", b"", bytes(doc.output()))
    assert b"MediaBox" not in data
    reading = ocr.read(data, "sans-mediabox.pdf", time_limit=60)
    assert reading.total == Decimal("42.50"), reading.error


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF made of these objects (1: the catalog), with a correct cross-reference table."""
    buf = io.BytesIO()
    buf.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(buf.tell())
        buf.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = buf.tell()
    buf.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    buf.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    buf.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return buf.getvalue()


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), entries, data)


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TOTAL = b"BT /F1 14 Tf 50 700 Td (TOTAL TTC 12,50 EUR) Tj ET"


def test_a_form_that_draws_itself_does_not_loop() -> None:
    data = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >> >>",
            _stream(b"q /X1 Do Q " + _TOTAL),
            _FONT,
            _stream(
                b"/X1 Do",
                b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /XObject << /X1 6 0 R >> >>",
            ),
        ]
    )
    assert ocr.read(data, "boucle.pdf", time_limit=60).total == Decimal("12.50")


def test_a_page_tree_that_contains_itself_is_read() -> None:
    data = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(_TOTAL),
            _FONT,
        ]
    )
    reading = ocr.read(data, "arbre.pdf", time_limit=60)
    assert reading.total == Decimal("12.50") and reading.error is None


def test_a_strip_of_pixels_is_refused_with_a_reason_before_decoding() -> None:
    buf = io.BytesIO()
    Image.new("L", (8, 5_000_000), 255).save(buf, "PNG", optimize=True)  # 40 M pixels, 90 kB
    reading = ocr.read(buf.getvalue(), "bande.png", time_limit=60)
    assert reading.total is None and reading.seconds < 5
    assert reading.error is not None and "dimensions inhabituelles (8×5000000 pixels)" in reading.error


def test_a_pdf_page_shaped_like_a_strip_is_refused_with_a_reason() -> None:
    data = _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 20 14000] /Contents 4 0 R >>",
            _stream(b"0 0 m 20 14000 l S"),
        ]
    )
    reading = ocr.read(data, "bande.pdf", time_limit=60)
    assert reading.total is None and reading.error is not None
    assert "Page 1 du PDF" in reading.error and "dimensions inhabituelles" in reading.error


HOTEL = ["HOTEL DU CENTRE", "12 rue de la Gare 14000 CAEN", "Facture du 14/03/2026", "Nuitee 1 x 78,00"]
HOTEL += ["Taxe de sejour 1,65", "TOTAL TTC 79,65 EUR", "Paiement CB 79,65"]


def _text_pdf(pages: list[list[str]], turned_content: int = 0) -> FPDF:
    doc = FPDF()
    doc.set_font("helvetica", size=12)
    for lines in pages:
        doc.add_page()
        with doc.rotation(turned_content, x=105, y=148):  # the text itself drawn turned, when asked
            for line in lines:
                doc.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return doc


def _with_page_rotation(data: bytes, degrees: int) -> bytes:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    doc[0].set_rotation(degrees)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_a_text_pdf_turned_by_its_page_rotation_is_read_as_drawn() -> None:
    """A page turned in a viewer (/Rotate) keeps its text upright where it is drawn: read there, not backwards."""
    upright = bytes(_text_pdf([HOTEL]).output())
    for degrees in (90, 180, 270):
        reading = ocr.read(_with_page_rotation(upright, degrees), "facture.pdf")
        assert reading.engine == "text", degrees
        assert (reading.total, str(reading.date)) == (Decimal("79.65"), "2026-03-14"), degrees
    # text drawn turned, the page's rotation setting it upright: read as it is shown
    turned = _with_page_rotation(bytes(_text_pdf([HOTEL], turned_content=90).output()), 90)
    reading = ocr.read(turned, "facture.pdf")
    assert reading.engine == "text" and reading.total == Decimal("79.65")


def test_pages_of_short_text_with_nothing_else_drawn_are_not_read_as_scans() -> None:
    """A « page 2/12 » footer alone is text, not a scan to OCR (twelve pages took over eight seconds)."""
    pages = [HOTEL, *([f"Conditions page {n}/12"] for n in range(2, 13))]
    reading = ocr.read(bytes(_text_pdf(pages).output()), "facture.pdf")
    assert reading.engine == "text" and reading.total == Decimal("79.65")
