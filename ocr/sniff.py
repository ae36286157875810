"""Recognise a receipt file by its first bytes, not by its name."""

from __future__ import annotations

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def file_kind(data: bytes) -> str | None:
    """ "pdf", "image" or None (unknown) from the content."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    return None
