"""Real test files (PDF, JPEG, PNG...) and real MIME messages for the mail intake tests."""

from __future__ import annotations

import base64
import io
import random
import struct
import zipfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
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


def smime(entity: bytes, *, encrypted: bool) -> bytes:
    """A MIME entity as an S/MIME mail client sends it, as a part (headers, blank line, base64 body): signed as
    a whole (opaque signed-data: the entity inside the signature) or encrypted, with a throwaway certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ines Leroy")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    if encrypted:
        der = pkcs7.PKCS7EnvelopeBuilder().set_data(entity).add_recipient(cert).encrypt(serialization.Encoding.DER, [])
    else:
        signer = pkcs7.PKCS7SignatureBuilder().set_data(entity).add_signer(cert, key, hashes.SHA256())
        der = signer.sign(serialization.Encoding.DER, [])
    kind = "enveloped-data" if encrypted else "signed-data"
    headers = (
        f'Content-Type: application/pkcs7-mime; smime-type={kind}; name="smime.p7m"\r\n'
        'Content-Disposition: attachment; filename="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    )
    return headers.encode() + base64.encodebytes(der).replace(b"\n", b"\r\n")


def zipped(files: list[tuple[str, bytes]]) -> bytes:
    """A ZIP archive of ``files`` (a name ending in "/" is a folder), deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)
    return out.getvalue()


def tnef(files: list[tuple[str, bytes]]) -> bytes:
    """An Outlook winmail.dat (TNEF) packing ``files``: each its rendering, title (the name, Windows-1252, as
    Outlook writes it) and data attributes."""

    def attribute(level: int, kind: int, data: bytes) -> bytes:
        return struct.pack("<BII", level, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)

    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += attribute(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += attribute(1, 0x00069007, struct.pack("<II", 1252, 0))  # attOemCodepage
    for name, data in files:
        out += attribute(
            2, 0x00069002, b"\x01\x00\xff\xff\xff\xff\x01\x00\x01\x00\x00\x00\x00\x00"
        )  # attAttachRenddata
        out += attribute(2, 0x00018010, name.encode("cp1252") + b"\x00")  # attAttachTitle
        out += attribute(2, 0x0006800F, data)  # attAttachData
    return out


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
