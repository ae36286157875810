"""Receipts as they arrive from a phone through Telegram: a small ticket on a table, tilted, in a colour photo
that Telegram has reduced to 1280 pixels and recompressed."""

from __future__ import annotations

import io
import json
import random
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ocr

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "receipts_fr"
LABELS = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text().splitlines()]


def telegram_photo(ticket: Image.Image, share: float, seed: int) -> bytes:
    """The ticket covering `share` of the width of a 3:4 phone photo, on a grainy table, tilted a little,
    in warm light, reduced to 1280 pixels and saved as a JPEG of quality 72, as Telegram sends photos."""
    rng = random.Random(seed)
    w, h = ticket.size
    height = max(int(w / share * 4 / 3), int(h * 1.1))
    width = height * 3 // 4
    tone = rng.randint(60, 150)
    grain = np.random.default_rng(seed).normal(tone, 8, (height, width))
    photo = Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8))
    photo.paste(ticket, ((width - w) // 2, (height - h) // 2))
    photo = photo.rotate(rng.uniform(-4, 4), fillcolor=tone, resample=Image.Resampling.BICUBIC)
    warm = Image.merge("RGB", [photo.point(lambda v, k=k: min(255, int(v * k))) for k in (1.0, 0.95, 0.85)])
    warm.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    warm.save(buf, "JPEG", quality=72)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["restaurant", "hotel", "taxi"])
@pytest.mark.parametrize("share", [0.55, 0.4])
def test_a_ticket_photographed_and_sent_through_telegram_is_read(kind: str, share: float) -> None:
    label = next(item for item in LABELS if item["kind"] == kind and item["degradation"] == "none")
    ticket = Image.open(CORPUS / label["file"]).convert("L")
    reading = ocr.read(telegram_photo(ticket, share, seed=len(kind)), "photo.jpg", time_limit=60)
    assert reading.error is None and reading.total == Decimal(label["total"])


def turned_photo(name: str, angle: int) -> bytes:
    """A corpus photo turned by `angle` degrees (counter-clockwise), reduced to 1280 pixels, as Telegram sends it."""
    photo = Image.open(CORPUS / name).convert("RGB").rotate(angle, expand=True)
    photo.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "angle"),
    [
        ("fr_42_parking_photo-shadow.jpg", 270),  # orientation detection picks the wrong quarter turn
        ("fr_01_restaurant_none.jpg", 180),
        ("fr_04_taxi_none.jpg", 90),
    ],
)
def test_a_turned_photo_is_read_the_right_way_up(name: str, angle: int) -> None:
    """A page that reads poorly is tried the right way up before another engine reads it: upside down, or turned
    a quarter the wrong way, its lines would be read backwards and the total taken from the wrong one."""
    label = next(item for item in LABELS if item["file"] == name)
    reading = ocr.read(turned_photo(name, angle), "photo.jpg")
    assert reading.total == Decimal(label["total"])
    assert reading.date is not None and reading.date.isoformat() == label["date"]
