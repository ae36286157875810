"""Blank pages and blank images: no ink is a reading without a total, never an internal error."""

from __future__ import annotations

import io
from decimal import Decimal

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
