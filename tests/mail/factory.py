"""Real test files (PDF, JPEG, PNG...) and real MIME messages for the mail intake tests."""

from __future__ import annotations

import io
import random
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid

from fpdf import FPDF
from PIL import Image


def pdf_bytes(text: str = "Facture SNCF - Total 42,50 EUR") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def encrypted_pdf_bytes(text: str = "Hotel - Total 89,00 EUR") -> bytes:
    """A PDF that opens only with its password."""
    pdf = FPDF()
    pdf.set_encryption(owner_password="proprietaire", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def photo_bytes(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), seed: int = 1) -> bytes:
    """A noisy photo-like image (large enough not to look like a logo)."""
    rng = random.Random(seed)
    img = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def logo_bytes() -> bytes:
    img = Image.new("RGB", (64, 24), (10, 80, 160))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def big_pdf_bytes(megabytes: float = 5.5) -> bytes:
    """A PDF-looking file above the 5 MB receipt limit."""
    head = pdf_bytes()
    return head + b"%" + b"x" * int(megabytes * 1024 * 1024)


def message(
    *,
    sender: str = "ines.leroy@example.org",
    to: str = "recus@imagin.test",
    subject: str = "Justificatifs",
    body: str = "Bonjour, voici mes justificatifs.",
    attachments: list[tuple[bytes, str, str]] = (),
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A message with attachments given as (data, filename, mime type)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for data, filename, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def wire(msg: EmailMessage) -> bytes:
    """The message as it travels (CRLF line ends), serialised once so resending gives the same bytes."""
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
