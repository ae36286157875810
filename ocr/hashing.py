"""Perceptual hash of a receipt, to spot the same photo sent again (re-taken or re-encoded)."""

from __future__ import annotations

import imagehash
from PIL import Image

from ocr import images, pdf
from ocr.sniff import file_kind


def perceptual_hash(data: bytes) -> str | None:
    """A 64-bit perceptual hash (hex) of the image or the first PDF page; None if it cannot be rendered.

    Computed on the straightened receipt cropped to its content, so a photo taken again with another
    framing, size, light or a slight tilt stays within a small Hamming distance.
    """
    try:
        kind = file_kind(data)
        if kind == "pdf":
            img = pdf.render_page(data, 0, dpi=72)
        elif kind == "image":
            img = images.load_image(data)
        else:
            return None
        gray = images.clean(img)
        angle = images.skew_angle(gray)
        if abs(angle) >= 1.0:
            gray = gray.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
        return str(imagehash.phash(images.content_box(gray)))
    except Exception:  # the hash is a hint for duplicates; an unreadable file simply has none
        return None
