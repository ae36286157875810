"""Recognise a receipt file by its first bytes, not by its name: the one sniffer (core.receipts asks it too)."""

from __future__ import annotations

import filetype

PDF = "application/pdf"
PKCS7 = "application/pkcs7-mime"  # an S/MIME message part (DER: a SEQUENCE, then the PKCS #7 content type OID)
_PKCS7_OID = bytes.fromhex("06092a864886f70d0107")  # 1.2.840.113549.1.7 (signed, enveloped... data)
READABLE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/bmp", "image/tiff", "image/webp"})


def mime_type(data: bytes) -> str | None:
    """The MIME type read from the content (``filetype``'s magic numbers), or None when unknown.

    A PDF whose header comes after a few stray bytes (within the first KiB, as PDF readers accept) is a PDF.
    """
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return str(kind.mime)
    if data[:1] == b"\x30" and _PKCS7_OID in data[2 : 8 + len(_PKCS7_OID)]:
        return PKCS7
    return PDF if b"%PDF-" in data[:1024] else None


def file_kind(data: bytes) -> str | None:
    """ "pdf", "image" (of a format the reader opens) or None (anything else) from the content."""
    mime = mime_type(data)
    if mime == PDF:
        return "pdf"
    return "image" if mime in READABLE_IMAGES else None
