"""ocr.read() on real files: each gives a reading or a clear French reason, never a crash or a hang."""

from __future__ import annotations

import io
import json
import struct
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

import ocr
from ocr.reading import NO_TOTAL

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "receipts_fr"
LABELS = {item["file"]: item for item in map(json.loads, (CORPUS / "labels.jsonl").read_text().splitlines())}
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def corpus_file(kind: str, degradation: str) -> tuple[bytes, dict]:
    """The first corpus receipt of this kind and degradation (see labels.jsonl), and its label."""
    name = next(n for n, item in LABELS.items() if item["kind"] == kind and item["degradation"] == degradation)
    return (CORPUS / name).read_bytes(), LABELS[name]


def png_header_only(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of the given size whose pixel data compresses to almost nothing (a bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def encrypted_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, "TOTAL TTC 42,50 EUR")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    return bytes(pdf.output())


@pytest.mark.parametrize("kind", ["hotel", "train"])
def test_text_pdf_is_read_from_its_text_layer(kind: str) -> None:
    data, label = corpus_file(kind, "text pdf, 1 page(s)")
    reading = ocr.read(data, "facture.pdf")
    assert reading.engine == "text"
    assert reading.total == Decimal(label["total"])
    assert reading.currency == "EUR"
    assert reading.date is not None and reading.date.isoformat() == label["date"]
    assert reading.confidence >= 0.7
    assert reading.error is None


def test_multi_page_text_pdf_finds_the_total_on_the_last_page() -> None:
    data, label = corpus_file("train", "text pdf, 2 page(s)")
    reading = ocr.read(data)
    assert reading.pages == 2
    assert reading.total == Decimal(label["total"])


def test_scanned_multi_page_pdf_is_ocred() -> None:
    data, label = corpus_file("hotel", "scanned pdf none, 2 page(s)")
    reading = ocr.read(data, "scan.pdf")
    assert reading.engine == "ocr"
    assert reading.pages == 2
    assert reading.total == Decimal(label["total"])
    assert reading.error is None


@pytest.mark.parametrize(("kind", "turn"), [("taxi", "rot90"), ("restaurant", "rot180")])
def test_rotated_photo(kind: str, turn: str) -> None:
    data, label = corpus_file(kind, turn)  # sideways (90° or 270°) and upside down
    reading = ocr.read(data, "photo.jpg")
    assert reading.engine == "ocr"
    assert reading.total == Decimal(label["total"])
    assert reading.confidence > 0.3


@pytest.mark.parametrize(
    ("kind", "degradation"), [("restaurant", "perspective+lowlight+noise"), ("restaurant", "photo+shadow")]
)
def test_degraded_phone_photo(kind: str, degradation: str) -> None:
    data, label = corpus_file(kind, degradation)
    reading = ocr.read(data, "photo.jpg")
    assert reading.total == Decimal(label["total"])


def test_exif_orientation_is_applied() -> None:
    data, label = corpus_file("peage", "none")
    upright = Image.open(io.BytesIO(data))
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera says: rotate 90° clockwise to display
    buf = io.BytesIO()
    upright.rotate(90, expand=True).save(buf, "JPEG", exif=exif.tobytes(), quality=90)
    assert ocr.read(buf.getvalue()).total == Decimal(label["total"])


def test_tiny_gif_gives_a_reason() -> None:
    buf = io.BytesIO()
    Image.new("P", (12, 9), 0).save(buf, "GIF")
    reading = ocr.read(buf.getvalue(), "mini.gif")
    assert reading.total is None
    assert reading.error


def test_small_gif_with_text_is_read() -> None:
    img = Image.new("L", (260, 40), 255)
    ImageDraw.Draw(img).text((6, 8), "TOTAL 8,40 €", font=ImageFont.truetype(FONT, 20), fill=0)
    buf = io.BytesIO()
    img.convert("P").save(buf, "GIF")
    reading = ocr.read(buf.getvalue(), "ticket.gif")
    assert reading.total == Decimal("8.40")


@pytest.mark.parametrize("size", [(8000, 6000), (16000, 12000)])  # above our cap; above Pillow's own limit
def test_bomb_sized_png_is_refused_with_a_reason(size: tuple[int, int]) -> None:
    data = png_header_only(*size)
    assert len(data) < 200_000
    reading = ocr.read(data, "bombe.png")
    assert reading.total is None
    assert reading.error is not None and reading.error.startswith("Image trop grande")
    assert "millions de pixels" in reading.error


def test_encrypted_pdf_gives_a_reason() -> None:
    reading = ocr.read(encrypted_pdf(), "protege.pdf")
    assert reading.total is None
    assert reading.error is not None and "mot de passe" in reading.error


def test_broken_pdf_gives_a_reason() -> None:
    data, _ = corpus_file("hotel", "text pdf, 1 page(s)")
    for broken in (data[: len(data) // 3], b"%PDF-1.7\n" + b"\x00garbage" * 50):
        reading = ocr.read(broken, "casse.pdf")
        assert reading.total is None
        assert reading.error is not None and "PDF" in reading.error


def test_non_receipt_image_has_no_total() -> None:
    img = Image.new("RGB", (900, 600), (90, 140, 200))
    draw = ImageDraw.Draw(img)
    draw.ellipse((200, 100, 700, 500), fill=(240, 200, 60))
    draw.text((60, 40), "Vacances en Bretagne", font=ImageFont.truetype(FONT, 40), fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    reading = ocr.read(buf.getvalue(), "plage.png")
    assert reading.total is None
    assert reading.error == NO_TOTAL
    assert reading.confidence == 0.0


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not a receipt", b"\xff\xd8\xff\xe0 truncated jpeg"])
def test_unknown_or_empty_files_give_a_reason(data: bytes) -> None:
    reading = ocr.read(data, "x")
    assert reading.total is None and reading.error


def test_time_limit_is_respected() -> None:
    data, _ = corpus_file("hotel", "rot180")
    reading = ocr.read(data, "photo.jpg", time_limit=0.5)
    assert reading.total is None
    assert reading.error is not None and "Lecture interrompue" in reading.error


def test_reading_to_dict_is_json_safe() -> None:
    data, label = corpus_file("restaurant", "text pdf, 1 page(s)")
    out = ocr.read(data).to_dict()
    assert json.loads(json.dumps(out))["total"] == label["total"]
    assert set(out) == {
        "total",
        "currency",
        "date",
        "confidence",
        "engine",
        "pages",
        "seconds",
        "error",
        "text",
        "merchant",
        "kind",
        "kind_confidence",
        "trip",
    }


def test_pdf_with_a_stray_text_line_over_a_scan_is_ocred() -> None:
    data, label = corpus_file("restaurant", "none")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.cell(0, 5, "Document numerise par ScanApp le 12/03/2025 - page 1")  # a text layer, but no total
    pdf.image(io.BytesIO(data), x=30, y=20, w=120)
    reading = ocr.read(bytes(pdf.output()), "scan.pdf")
    assert reading.engine == "ocr"
    assert reading.total == Decimal(label["total"])
