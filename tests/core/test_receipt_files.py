"""Receipt files are judged by their bytes; a refusal says what the file is and how to send it instead."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.receipts import MAX_RECEIPT_BYTES, check_receipt_file
from tests.mail.factory import docx_bytes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def refusal(data: bytes, name: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        check_receipt_file(data, name)
    return refused.value.message


def test_the_type_comes_from_the_bytes_not_the_name() -> None:
    assert check_receipt_file(PNG, "ticket.pdf") == "image/png"
    assert check_receipt_file(b"%PDF-1.7\n...", "scan.jpg") == "application/pdf"
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
    big_photo = refusal(PNG + b"\x00" * MAX_RECEIPT_BYTES, "x.png")
    assert "trop volumineux (5,0 Mo) : 5 Mo au maximum. Envoyez une photo moins lourde" in big_photo
    big_pdf = refusal(b"%PDF-1.4\n" + b"\x00" * (MAX_RECEIPT_BYTES + 200_000), "scan.pdf")
    assert "« scan.pdf » est trop volumineux (5,2 Mo)" in big_pdf and "Envoyez un PDF plus léger" in big_pdf
    assert "« x.png » est vide" in refusal(b"", "x.png")


def test_mail_replies_state_the_limit_of_the_receipt_rule() -> None:
    from core import receipts
    from core.mail import replies

    assert MAX_RECEIPT_BYTES == 5 * 1024 * 1024 and receipts.MAX_RECEIPT_SIZE == "5 Mo"
    assert receipts.FILE_RULE in replies.ADVICE_TOO_LARGE
