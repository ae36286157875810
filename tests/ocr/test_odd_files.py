"""Odd but harmless files: blank pages and photos, a PDF whose pages pdfminer cannot lay out."""

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
