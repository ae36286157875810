"""Generated receipt images for OCR tests: lines of text printed with a DejaVu font on white paper."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def receipt(lines: list[str], size: int = 26, width: int = 720) -> Image.Image:
    """A till receipt: one text line per entry, left aligned, on white paper (grayscale)."""
    font = ImageFont.truetype(FONT, size)
    step = int(size * 1.5)
    img = Image.new("L", (width, step * (len(lines) + 4)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, step * (i + 2)), line, fill=20, font=font)
    return img


def jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()
