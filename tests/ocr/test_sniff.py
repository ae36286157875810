"""The one file-type sniffer (ocr.sniff): what the reader opens, and what core's receipt rule is told."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.receipts import check_receipt_file, sniff_type
from ocr.sniff import file_kind, mime_type
from tests.core.test_receipt_files import HEIC
from tests.mail.factory import pdf_bytes


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("BMP", "image/bmp"), ("TIFF", "image/tiff")],
)
def test_images_by_their_bytes(fmt: str, mime: str) -> None:
    data = _image(fmt)
    assert mime_type(data) == sniff_type(data) == mime and file_kind(data) == "image"


def test_pdf_even_after_stray_bytes_and_unknown_files() -> None:
    assert file_kind(b"%PDF-1.7\n%...") == "pdf"
    assert mime_type(b"\r\n\xef\xbb\xbf%PDF-1.4\n...") == "application/pdf"  # a mail gateway's leading junk
    assert check_receipt_file(b"\r\n" + pdf_bytes(), "scan.pdf") == "application/pdf"  # and it opens
    assert mime_type(HEIC) == "image/heic" and file_kind(HEIC) is None  # known, but not read
    assert mime_type(b"Bonjour, voici ma facture") is None and file_kind(b"") is None
