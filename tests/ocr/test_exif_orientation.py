"""EXIF orientation pinned: a JPEG whose camera stored it turned (Orientation 3, 6 or 8) is read upright.

Orientation detection on the text may rescue a sideways receipt on its own, so ``ocr.read`` finding the total
proves nothing about EXIF; these tests look at the image the reader works on, and at the perceptual hash that
finds "the same receipt sent again", which must not change when the phone stored the photo turned.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageStat

import ocr
from core.prechecks import PHASH_MAX_DISTANCE
from ocr.images import load_image
from tests.ocr.test_read import corpus_file

ORIENTATION = 0x0112
# Orientation tag -> how the camera stored the upright picture (Image.rotate turns counter-clockwise):
# 3 = upside down, 6 = display it turned 90° clockwise, 8 = display it turned 90° counter-clockwise.
STORED = {3: 180, 6: 90, 8: 270}


def as_camera_stores(upright: Image.Image, orientation: int) -> bytes:
    """A JPEG of ``upright`` as a phone writes it: pixels turned, and the EXIF tag saying how to display them."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    out = io.BytesIO()
    upright.rotate(STORED[orientation], expand=True).save(out, "JPEG", exif=exif.tobytes(), quality=92)
    return out.getvalue()


def marked_picture() -> Image.Image:
    """A 480×320 white picture, black block in the top left corner, grey block in the bottom right one."""
    img = Image.new("L", (480, 320), 255)
    img.paste(0, (0, 0, 120, 80))
    img.paste(128, (360, 240, 480, 320))
    return img


def mean(img: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(ImageStat.Stat(img.convert("L").crop(box)).mean[0])


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_a_turned_jpeg_is_loaded_upright(orientation: int) -> None:
    img = load_image(as_camera_stores(marked_picture(), orientation))
    assert img.size == (480, 320)  # sideways storage (6, 8) has width and height swapped: swapped back
    assert mean(img, (10, 10, 110, 70)) < 40  # black, top left
    assert mean(img, (370, 250, 470, 310)) == pytest.approx(128, abs=20)  # grey, bottom right
    assert mean(img, (370, 10, 470, 70)) > 215 and mean(img, (10, 250, 110, 310)) > 215  # the other corners white


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_the_same_receipt_stored_turned_has_the_same_perceptual_hash(orientation: int) -> None:
    data, _ = corpus_file("peage", "none")
    upright = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=92)
    reference = ocr.perceptual_hash(out.getvalue())
    turned = as_camera_stores(upright, orientation)
    untagged = io.BytesIO()  # the same pixels without the tag: a really turned photo, a different picture
    Image.open(io.BytesIO(turned)).save(untagged, "JPEG", quality=92)
    assert reference is not None
    assert distance(ocr.perceptual_hash(turned), reference) <= PHASH_MAX_DISTANCE
    assert distance(ocr.perceptual_hash(untagged.getvalue()), reference) > PHASH_MAX_DISTANCE  # the test can fail


def distance(a: str | None, b: str) -> int:
    assert a is not None
    return bin(int(a, 16) ^ int(b, 16)).count("1")
