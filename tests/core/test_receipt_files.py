"""Receipt files are judged by their bytes; a refusal says what the file is and how to send it instead."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.receipts import MAX_RECEIPT_BYTES, check_receipt_file
from tests.mail.factory import docx_bytes, encrypted_pdf_bytes, pdf_bytes, photo_bytes

PNG = photo_bytes("PNG", size=(300, 400))
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def refusal(data: bytes, name: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        check_receipt_file(data, name)
    return refused.value.message


def test_the_type_comes_from_the_bytes_not_the_name() -> None:
    assert check_receipt_file(PNG, "ticket.pdf") == "image/png"
    assert check_receipt_file(pdf_bytes(), "scan.jpg") == "application/pdf"
    assert "n'est pas un format accepté" in refusal(b"just text", "facture.pdf")


def test_common_refused_formats_are_named_with_a_way_out() -> None:
    heic = refusal(HEIC, "IMG_0042.HEIC")
    assert "« IMG_0042.HEIC » n'est pas un format accepté (photo HEIC d'iPhone)" in heic
    assert "« Le plus compatible »" in heic
    word = refusal(docx_bytes(), "note.docx")
    assert "(document Word)" in word and "Enregistrez-le en PDF" in word
    unknown = refusal(b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "outil")
    assert "fichier de type application/x-executable" in unknown and "gif, jpeg, jpg, png ou pdf" in unknown


def test_size_and_emptiness() -> None:
    big_pdf = refusal(b"%PDF-1.4\n" + b"\x00" * (MAX_RECEIPT_BYTES + 200_000), "scan.pdf")
    assert "« scan.pdf » est trop volumineux (5,2 Mo)" in big_pdf and "Envoyez un PDF plus léger" in big_pdf
    assert "« x.png » est vide" in refusal(b"", "x.png")


def test_mail_replies_state_the_limit_of_the_receipt_rule() -> None:
    from core import receipts
    from core.mail import replies

    assert MAX_RECEIPT_BYTES == 5 * 1024 * 1024 and receipts.MAX_RECEIPT_SIZE == "5 Mo"
    assert receipts.FILE_RULE in replies.ADVICE_TOO_LARGE


def test_a_file_that_does_not_open_is_refused_at_once_saying_why() -> None:
    """What the DEC could not open either is refused when it arrives, not accepted and explained later."""
    jpeg = photo_bytes("JPEG", size=(900, 1200))
    for broken in (jpeg[: len(jpeg) // 2], jpeg[:200] + bytes(range(256)) * 40, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64):
        assert "n'est pas accepté. Image illisible ou endommagée" in refusal(broken, "ticket.jpg")
    assert "Image trop petite (4×4 pixels)" in refusal(photo_bytes("PNG", size=(4, 4)), "point.png")
    locked = refusal(encrypted_pdf_bytes(), "facture.pdf")
    assert "« facture.pdf » n'est pas accepté. Ce PDF est protégé par un mot de passe" in locked
    pdf = pdf_bytes()
    garbled = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Cata" + bytes(range(256)) * 8
    for broken in (pdf[: len(pdf) // 3], garbled):
        assert "n'est pas accepté. Ce PDF est illisible ou endommagé" in refusal(broken, "facture.pdf")
    assert check_receipt_file(jpeg, "ticket.jpg") == "image/jpeg"
