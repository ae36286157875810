"""A corpus of odd and malformed receipt e-mails as real clients and broken senders write them, generated here,
delivered over a real SMTP conversation to the running service (and through Dovecot to the IMAP poller):
each ends accepted (its receipts in the store) or kept, and its sender gets one French answer saying
what was accepted and why anything was refused."""

from __future__ import annotations

import base64
import binascii
import io
import quopri
import smtplib
import socket
import struct
import zlib
from dataclasses import dataclass

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw
from sqlalchemy import select

from core.filestore import receipt_store
from core.models import InboundMail, MailState, OutboxMessage, Receipt
from core.settings import get_settings
from mail_ingest import worker
from tests.mail import factory
from tests.mail.conftest import INTAKE, wait_for
from tests.mail.test_imap_poller import imap_env  # noqa: F401 - fixture

INES = "ines.leroy@example.org"  # one open mission: DEMO-301
CLAIRE = "claire.martin@example.org"  # three open missions: DEMO-101, DEMO-102, DEMO-103
ACCEPTED, REJECTED, IGNORED = "accepted", "rejected", "ignored"


# ------------------------------------------------------------------------------ building raw messages


def pdf(text: str) -> bytes:
    return factory.pdf_bytes(f"Facture {text} - Total 12,50 EUR")


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def head(mid: str, *, subject: str = "Justificatifs", sender: str = INES, date: bool = True) -> bytes:
    lines = [f"From: {sender}", f"To: {INTAKE}", f"Subject: {subject}"]
    lines += ["Date: Mon, 01 Jun 2026 10:00:00 +0200"] if date else []
    lines += [f"Message-ID: <{mid}@corpus.example.org>"] if mid else []
    return ("\r\n".join([*lines, "MIME-Version: 1.0"]) + "\r\n").encode()


def part(headers: str, payload: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode("utf-8") + b"\r\n\r\n" + payload


def attachment(data: bytes, ctype: str = "application/pdf", name: str = "recu.pdf", **kw: str) -> bytes:
    disposition = kw.get("disposition", "attachment")
    params = f'; filename="{name}"' if name else ""
    return part(
        f"Content-Type: {ctype}\nContent-Disposition: {disposition}{params}\nContent-Transfer-Encoding: base64",
        b64(data),
    )


TEXT = part("Content-Type: text/plain; charset=utf-8", b"Bonjour, voici mes justificatifs.\r\n")


def multipart(subtype: str, parts: list[bytes], boundary: str = "B") -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return part(f'Content-Type: multipart/{subtype}; boundary="{boundary}"', body + b"--" + boundary.encode() + b"--")


def mixed(mid: str, parts: list[bytes], **kw: object) -> bytes:
    return head(mid, **kw) + multipart("mixed", [TEXT, *parts])  # type: ignore[arg-type]


def uuencode(data: bytes, name: str) -> bytes:
    lines = [binascii.b2a_uu(data[i : i + 45]) for i in range(0, len(data), 45)]
    return f"begin 644 {name}\r\n".encode() + b"".join(x.replace(b"\n", b"\r\n") for x in lines) + b"`\r\nend\r\n"


def screenshot_png() -> bytes:
    """A receipt screenshot: large, mostly white, so PNG makes it a few kilobytes (less than many logos)."""
    img = Image.new("L", (720, 1280), 255)
    draw = ImageDraw.Draw(img)
    for n, line in enumerate(["TAXI LISIEUX", "Course du 01/06/2026", "TOTAL TTC 23,40 EUR"]):
        draw.text((60, 120 + 60 * n), line, fill=0)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def png_bomb(side: int = 60_000) -> bytes:
    """A PNG whose header claims side x side pixels, in a few hundred bytes (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * (side // 8 + 1) * 64, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )


def encrypted_pdf() -> bytes:
    doc = FPDF()
    doc.set_encryption(owner_password="proprietaire", user_password="secret")
    doc.add_page()
    doc.set_font("Helvetica", size=14)
    doc.cell(0, 10, "Hotel - Total 89,00 EUR")
    return bytes(doc.output())


def heic_photo() -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(factory.photo_bytes(size=(800, 600), seed=9))).save(out, "HEIF")
    return out.getvalue()


# ------------------------------------------------------------------------------ the corpus


@dataclass(frozen=True)
class Case:
    raw: bytes
    state: MailState
    files: list[tuple[str, str]]  # (file name as recorded, attachment state), in order
    says: tuple[str, ...] = ()  # what the answer must say
    mission: str = "DEMO-301"  # the dossier it lands in when processed
    sender: str = INES  # MAIL FROM


def corpus() -> dict[str, Case]:
    jpeg = factory.photo_bytes(seed=2)
    cases = {
        "rfc2231_continued_utf8_name": Case(
            mixed(
                "rfc2231_continued_utf8_name",
                [
                    part(
                        "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
                        "Content-Disposition: attachment;\n filename*0*=UTF-8''re%C3%A7u%20;\n filename*1*=taxi.pdf",
                        b64(pdf("rfc2231")),
                    )
                ],
            ),
            MailState.PROCESSED,
            [("reçu taxi.pdf", ACCEPTED)],
            ("reçu taxi.pdf",),
        ),
        "rfc2047_name_and_subject": Case(
            mixed(
                "rfc2047_name_and_subject",
                [attachment(pdf("2047"), name="=?ISO-8859-1?Q?h=F4tel_=E9t=E9.pdf?=")],
                subject="=?UTF-8?Q?Re=C3=A7us_de_la_mission?= =?UTF-8?B?IERFTU8tMzAx?=",
            ),
            MailState.PROCESSED,
            [("hôtel été.pdf", ACCEPTED)],
            ("« Reçus de la mission DEMO-301 »", "hôtel été.pdf"),
        ),
        "windows_path_no_extension": Case(
            mixed("windows_path_no_extension", [attachment(pdf("path"), name="C:\\\\Users\\\\ines\\\\facture")]),
            MailState.PROCESSED,
            [("facture", ACCEPTED)],
        ),
        "wrong_or_missing_content_types": Case(
            mixed(
                "wrong_or_missing_content_types",
                [
                    attachment(jpeg, "application/octet-stream", name=""),  # a JPEG with neither type nor name
                    attachment(factory.photo_bytes(seed=3), "image/jpg", name="photo.JPG"),
                    attachment(pdf("text"), "text/plain", name="facture.pdf"),  # a PDF said to be text
                    part(  # no Content-Type at all: text/plain by default
                        'Content-Disposition: attachment; filename="ticket.pdf"\nContent-Transfer-Encoding: base64',
                        b64(pdf("no type")),
                    ),
                ],
            ),
            MailState.PROCESSED,
            [("", ACCEPTED), ("photo.JPG", ACCEPTED), ("facture.pdf", ACCEPTED), ("ticket.pdf", ACCEPTED)],
            ("pièce jointe n° 1 (sans nom)",),
        ),
        "smime_signed_as_a_whole": Case(  # the files are inside the signature (opaque signed-data)
            head("smime_signed_as_a_whole")
            + factory.smime(
                multipart(
                    "mixed",
                    [
                        TEXT,
                        attachment(pdf("signed"), name="taxi signé.pdf"),
                        attachment(jpeg, "image/jpeg", name="repas.jpg"),
                    ],
                ),
                encrypted=False,
            ),
            MailState.PROCESSED,
            [("taxi signé.pdf", ACCEPTED), ("repas.jpg", ACCEPTED)],
            ("taxi signé.pdf",),
        ),
        "smime_encrypted": Case(
            head("smime_encrypted")
            + factory.smime(multipart("mixed", [TEXT, attachment(pdf("secret"))]), encrypted=True),
            MailState.PROCESSED,
            [("smime.p7m", REJECTED)],
            ("(message chiffré S/MIME)", "renvoyez-le sans chiffrement"),
        ),
        "outlook_winmail_dat": Case(  # Outlook's rich text format: the files packed in a TNEF part
            mixed(
                "outlook_winmail_dat",
                [
                    attachment(
                        factory.tnef([("hotel.pdf", pdf("tnef")), ("repas été.jpg", factory.photo_bytes(seed=12))]),
                        "application/ms-tnef",
                        name="winmail.dat",
                    )
                ],
            ),
            MailState.PROCESSED,
            [("hotel.pdf", ACCEPTED), ("", ACCEPTED)],  # an accented short name may not decode: unnamed
            ("hotel.pdf",),
        ),
        "zip_of_receipts": Case(  # folders, macOS resource forks and hidden files are left out
            mixed(
                "zip_of_receipts",
                [
                    attachment(
                        factory.zipped(
                            [
                                ("mission/", b""),
                                ("mission/hotel.pdf", pdf("zip hotel")),
                                ("mission/taxi.jpg", factory.photo_bytes(seed=11)),  # no other case's file
                                ("__MACOSX/mission/._hotel.pdf", b"\x00\x05\x16\x07"),
                                ("mission/.DS_Store", b"\x00\x00\x00\x01Bud1"),
                                ("mission/notes.docx", factory.docx_bytes()),
                            ]
                        ),
                        "application/zip",
                        name="justificatifs.zip",
                    )
                ],
            ),
            MailState.PROCESSED,
            [("hotel.pdf", ACCEPTED), ("taxi.jpg", ACCEPTED), ("notes.docx", REJECTED)],
            ("hotel.pdf", "« notes.docx » n'est pas un format accepté (document Word)"),
        ),
        "zip_left_whole": Case(  # a bomb (25 MB of zeros) and an archive of too many files: refused whole
            mixed(
                "zip_left_whole",
                [
                    attachment(factory.zipped([("scan.pdf", b"\x00" * (25 * 1024 * 1024))]), name="bombe.zip"),
                    attachment(factory.zipped([(f"r{k}.pdf", pdf(f"r{k}")) for k in range(21)]), name="tous.zip"),
                ],
            ),
            MailState.PROCESSED,
            [("bombe.zip", REJECTED), ("tous.zip", REJECTED)],
            ("(archive ZIP)", "sans le compresser"),
        ),
        "bytes_unlike_the_name": Case(
            mixed(
                "bytes_unlike_the_name",
                [
                    attachment(factory.docx_bytes(), name="facture.pdf"),
                    attachment(b"<html>Uber</html>", "text/html", name="recu.html"),
                ],
            ),
            MailState.PROCESSED,
            [("facture.pdf", REJECTED), ("recu.html", REJECTED)],
            ("Pièces refusées", "« facture.pdf » n'est pas un format accepté (document Word)", "Enregistrez-le en PDF"),
        ),
        "base64_noise_and_bad_padding": Case(
            mixed(
                "base64_noise_and_bad_padding",
                [
                    part(
                        'Content-Type: application/pdf; name="bruit.pdf"\nContent-Transfer-Encoding: base64',
                        b"  " + b64(pdf("noise")).rstrip(b"=\r\n").replace(b"\r\n", b" *\r\n\t") + b"\r\n\r\n-- \r\n",
                    )
                ],
            ),
            MailState.PROCESSED,
            [("bruit.pdf", ACCEPTED)],
        ),
        "quoted_printable_and_binary_attachments": Case(
            mixed(
                "quoted_printable_and_binary_attachments",
                [
                    part(
                        'Content-Type: application/pdf\nContent-Disposition: attachment; filename="qp.pdf"\n'
                        "Content-Transfer-Encoding: quoted-printable",
                        quopri.encodestring(pdf("qp")).replace(b"\n", b"\r\n"),
                    ),
                    part(
                        'Content-Type: application/pdf\nContent-Disposition: attachment; filename="brut.pdf"\n'
                        "Content-Transfer-Encoding: binary",
                        pdf("binary"),
                    ),
                ],
            ),
            MailState.PROCESSED,
            [("qp.pdf", ACCEPTED), ("brut.pdf", ACCEPTED)],
        ),
        "uuencoded_part_and_body": Case(
            mixed(
                "uuencoded_part_and_body",
                [
                    part(
                        'Content-Type: application/octet-stream; name="uu.pdf"\nContent-Transfer-Encoding: x-uuencode',
                        uuencode(pdf("uu part"), "uu.pdf"),
                    ),
                    part("Content-Type: text/plain", b"Et le second :\r\n\r\n" + uuencode(pdf("uu body"), "repas.pdf")),
                ],
            ),
            MailState.PROCESSED,
            [("uu.pdf", ACCEPTED), ("repas.pdf", ACCEPTED)],
        ),
        "mixed_inside_alternative": Case(
            head("mixed_inside_alternative")
            + multipart(
                "alternative",
                [
                    TEXT,
                    multipart(
                        "mixed",
                        [
                            part("Content-Type: text/html; charset=utf-8", b"<p>Bonjour, voici le re&ccedil;u.</p>"),
                            attachment(pdf("alternative"), name="train.pdf"),
                        ],
                        boundary="INNER",
                    ),
                ],
            ),
            MailState.PROCESSED,
            [("train.pdf", ACCEPTED)],
        ),
        "forwarded_message_holding_the_receipt": Case(
            mixed(
                "forwarded_message_holding_the_receipt",
                [
                    part(
                        'Content-Type: message/rfc822\nContent-Disposition: attachment; filename="Votre facture.eml"',
                        head("", subject="Votre facture", sender="hotel@example.com")
                        + multipart(
                            "mixed", [TEXT, attachment(pdf("forwarded"), name="facture-hotel.pdf")], boundary="FWD"
                        ),
                    )
                ],
                subject="Fwd: Votre facture",
            ),
            MailState.PROCESSED,
            [("facture-hotel.pdf", ACCEPTED)],
        ),
        "inline_logo_and_inline_photo": Case(
            mixed(
                "inline_logo_and_inline_photo",
                [
                    multipart(
                        "related",
                        [
                            part(
                                "Content-Type: text/html; charset=utf-8",
                                b'<p>Voici la photo :</p><img src="cid:photo@x"><p>--<img src="cid:logo@x"></p>',
                            ),
                            part(
                                "Content-Type: image/jpeg\nContent-ID: <photo@x>\nContent-Disposition: inline\n"
                                "Content-Transfer-Encoding: base64",
                                b64(jpeg),
                            ),
                            part(
                                'Content-Type: image/png; name="logo.png"\nContent-ID: <logo@x>\n'
                                "Content-Disposition: inline\nContent-Transfer-Encoding: base64",
                                b64(factory.logo_bytes()),
                            ),
                        ],
                        boundary="REL",
                    )
                ],
            ),
            MailState.PROCESSED,
            [("", ACCEPTED), ("logo.png", IGNORED)],
        ),
        "inline_screenshot_smaller_than_a_logo": Case(
            mixed(
                "inline_screenshot_smaller_than_a_logo",
                [
                    part(
                        'Content-Type: image/png; name="Capture.png"\nContent-ID: <shot@x>\n'
                        "Content-Disposition: inline\nContent-Transfer-Encoding: base64",
                        b64(screenshot_png()),
                    )
                ],
            ),
            MailState.PROCESSED,
            [("Capture.png", ACCEPTED)],
        ),
        "zero_byte_attachment": Case(
            mixed(
                "zero_byte_attachment", [attachment(b"", name="facture.pdf"), attachment(pdf("zero"), name="ok.pdf")]
            ),
            MailState.PROCESSED,
            [("facture.pdf", REJECTED), ("ok.pdf", ACCEPTED)],
            ("« facture.pdf » est vide",),
        ),
        "over_5_mb_and_heic": Case(
            mixed(
                "over_5_mb_and_heic",
                [
                    attachment(factory.big_pdf_bytes(5.2), name="scan.pdf"),
                    attachment(heic_photo(), "image/heic", name="IMG_0042.HEIC"),
                ],
            ),
            MailState.PROCESSED,
            [("scan.pdf", REJECTED), ("IMG_0042.HEIC", ACCEPTED)],
            ("« scan.pdf » est trop volumineux", "5 Mo au maximum"),
        ),
        "many_attachments_one_twice": Case(
            mixed(
                "many_attachments_one_twice",
                [attachment(pdf(f"many {n}"), name=f"recu-{n:02}.pdf") for n in range(24)]
                + [attachment(pdf("many 0"), name="encore.pdf")],
            ),
            MailState.PROCESSED,
            [(f"recu-{n:02}.pdf", ACCEPTED) for n in range(24)] + [("encore.pdf", ACCEPTED)],
            ("recu-23.pdf", "déjà reçue pour ce dossier"),
        ),
        "latin1_body_without_charset": Case(
            head("latin1_body_without_charset", sender=CLAIRE, subject="Mes reçus")
            + multipart(
                "mixed",
                [
                    part(
                        "Content-Type: text/plain",
                        "Voici le reçu de la mission DEMO-102, réglé à l'hôtel.\r\n".encode("latin-1"),
                    ),
                    attachment(pdf("latin1"), name="hotel.pdf"),
                ],
            ),
            MailState.PROCESSED,
            [("hotel.pdf", ACCEPTED)],
            ("DEMO-102",),
            mission="DEMO-102",
            sender=CLAIRE,
        ),
        "eight_bit_name_without_encoding": Case(
            mixed(
                "eight_bit_name_without_encoding",
                [
                    b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="r\xe9servation.pdf"'
                    b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(pdf("8bit"))
                ],
                subject="Billet",
            ),
            MailState.PROCESSED,
            [("réservation.pdf", ACCEPTED)],
        ),
        "no_message_id_nor_date": Case(
            mixed("", [attachment(pdf("no id"), name="sans-id.pdf")], subject="Sans identifiant", date=False),
            MailState.PROCESSED,
            [("sans-id.pdf", ACCEPTED)],
            ("« Sans identifiant »",),
        ),
        "from_with_a_display_name_only": Case(
            mixed("from_with_a_display_name_only", [attachment(pdf("name only"), name="nom.pdf")], sender="Inès Leroy"),
            MailState.PROCESSED,
            [("nom.pdf", ACCEPTED)],
        ),
        "very_long_header_lines": Case(
            mixed(
                "very_long_header_lines",
                [attachment(pdf("long"), name="long.pdf")],
                subject="Justificatifs " + "très long objet " * 700 + "DEMO-301",
            ).replace(b"MIME-Version", b"X-Junk: " + b"x" * 20_000 + b"\r\nMIME-Version"),
            MailState.PROCESSED,
            [("long.pdf", ACCEPTED)],
        ),
        "no_attachment_at_all": Case(
            head("no_attachment_at_all") + TEXT,
            MailState.PROCESSED,
            [],
            ("ne contenait aucun justificatif", "gif, jpeg, jpg, png ou pdf"),
        ),
        "single_part_scan": Case(  # a scanner's "scan to e-mail": the whole message is the PDF
            head("single_part_scan", subject="Scan")
            + part(
                'Content-Type: application/pdf; name="SCAN0001.PDF"\nContent-Transfer-Encoding: base64',
                b64(pdf("scan")),
            ),
            MailState.PROCESSED,
            [("SCAN0001.PDF", ACCEPTED)],
        ),
        "image_bomb": Case(
            mixed("image_bomb", [attachment(png_bomb(), "image/png", name="bombe.png")]),
            MailState.PROCESSED,
            [("bombe.png", REJECTED)],
            ("« bombe.png »", "Image trop grande"),
        ),
    }
    return cases


# ------------------------------------------------------------------------------ outcomes


def mid_of(name: str) -> str:
    return "" if name == "no_message_id_nor_date" else f"<{name}@corpus.example.org>"


def settled(db, name: str) -> InboundMail | None:  # type: ignore[no-untyped-def]
    query = select(InboundMail).where(InboundMail.message_id == mid_of(name))
    with db() as session:
        mail = session.scalar(query)
        if mail is None or mail.state not in (MailState.PROCESSED, MailState.QUARANTINED, MailState.FAILED):
            return None
        mail.attachments  # noqa: B018 - load before the session closes
        return mail


def check(db, name: str, case: Case, mail: InboundMail) -> None:  # type: ignore[no-untyped-def]
    """The message's real outcome: its ledger state, each file's state, receipts in the store."""
    from tests.core.helpers import efm_by_mission

    assert mail.state == case.state and mail.last_error is None, (name, mail.state, mail.quarantine_reason)
    got = [(a.filename, a.state) for a in sorted(mail.attachments, key=lambda a: a.position)]
    assert got == case.files, (name, got, [a.reason for a in mail.attachments])
    with db() as session:
        if case.state == MailState.PROCESSED:
            assert mail.efm_id == efm_by_mission(session, case.mission).id, name
        for att in mail.attachments:
            if att.state == ACCEPTED:
                receipt = session.get(Receipt, att.receipt_id)
                assert receipt is not None and receipt.efm_id == mail.efm_id, (name, att.filename)
                assert receipt_store().exists(receipt.storage_key), (name, att.filename)
            elif att.state == REJECTED:
                assert att.reason and att.receipt_id is None, (name, att.filename)


def check_reply(name: str, case: Case, text: str) -> None:
    assert text.startswith("Bonjour") and text.rstrip().endswith("(message automatique)"), (name, text)
    for said in case.says:
        assert said in text, (name, said, text)
    for filename, state in case.files:
        if state == REJECTED:  # every refused file is named with its reason
            assert f"« {filename} »" in text or f"{filename} :" in text, (name, filename, text)


def smtp_deliver(port: int, raw: bytes, sender: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo()
        client.mail(sender)
        client.rcpt(INTAKE)
        return client.data(raw)


def reply_to(sink, name: str, subject_words: str):  # type: ignore[no-untyped-def]
    mid = mid_of(name)

    def found():  # type: ignore[no-untyped-def]
        return [
            m
            for m in sink.messages
            if (m["In-Reply-To"] == mid if mid else subject_words in str(m["Subject"]) and not m["In-Reply-To"])
        ]

    return wait_for(found, what=f"reply to {name}")


@pytest.fixture
def corpus_service(mail_env, start_service, monkeypatch):  # type: ignore[no-untyped-def]
    """The service, answering one sender more often than its default hourly limit (the corpus is one sender's)."""
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_MAIL_REPLIES_PER_HOUR", "100")
    reset_settings()
    return start_service()


def test_corpus_over_smtp(corpus_service, mail_env, reply_sink):
    cases = corpus()
    for name, case in cases.items():
        code, answer = smtp_deliver(corpus_service.port, case.raw, case.sender)
        assert code == 250, (name, code, answer)
    failed: list[str] = []  # every case is judged, then all that failed are reported together
    for name, case in cases.items():
        try:
            mail = wait_for(lambda name=name: settled(mail_env, name), what=f"processing of {name}")
            check(mail_env, name, case, mail)
            (reply,) = reply_to(reply_sink, name, "Sans identifiant")
            assert str(reply["To"]) == case.sender, name
            check_reply(name, case, reply.get_content())
        except AssertionError as exc:
            failed.append(f"{name}: {exc}")
    assert not failed, "\n".join(failed)


def test_duplicate_deliveries_make_one_receipt(service, mail_env, reply_sink):
    """The same message delivered three times (a sender's retry after a lost 250, a second relay): one row,
    one receipt, one answer; also without a Message-ID."""
    for name in ("duplicate", ""):
        raw = mixed(name, [attachment(pdf(f"dup {name}"), name="double.pdf")], subject=f"Doublon {name or 'sans id'}")
        answers = [smtp_deliver(service.port, raw, INES)[1] for _ in range(2)]
        answers.append(
            smtp_deliver(service.port, b"Received: from mx2.example.org; Mon, 1 Jun 2026\r\n" + raw, INES)[1]
        )
        assert b"accepted" in answers[0] and all(b"Already received" in a for a in answers[1:]), answers
    wait_for(lambda: len(reply_sink.replies_to(INES)) >= 2, what="the two answers")
    with mail_env() as session:
        rows = session.scalars(select(InboundMail).where(InboundMail.subject.like("Doublon%"))).all()
        assert len(rows) == 2 and all(r.state == MailState.PROCESSED for r in rows)
        assert len(session.scalars(select(Receipt).where(Receipt.original_name == "double.pdf")).all()) == 2
    assert sorted(str(r["Subject"]) for r in reply_sink.replies_to(INES)) == [
        "Re: Doublon duplicate",
        "Re: Doublon sans id",
    ]


def test_a_connection_dropped_mid_data_stores_nothing_and_the_server_goes_on(service, mail_env, reply_sink):
    raw = mixed("dropped", [attachment(pdf("dropped"), name="coupe.pdf")])
    for cut in (len(raw) // 2, len(raw)):  # in the middle, and right before the final dot
        with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
            conversation = sock.makefile("rwb")
            conversation.readline()
            for line in (b"EHLO client.example.org", f"MAIL FROM:<{INES}>".encode(), f"RCPT TO:<{INTAKE}>".encode()):
                conversation.write(line + b"\r\n")
                conversation.flush()
                while conversation.readline()[3:4] == b"-":
                    pass
            conversation.write(b"DATA\r\n")
            conversation.flush()
            assert conversation.readline().startswith(b"354")
            conversation.write(raw[:cut])
            conversation.flush()
        # the sender never ended DATA: nothing was acknowledged, so nothing is kept and nobody is answered
    code, _ = smtp_deliver(service.port, raw, INES)  # the sender's retry is taken
    assert code == 250
    mail = wait_for(lambda: settled(mail_env, "dropped"), what="processing of the retry")
    assert mail.state == MailState.PROCESSED and [a.state for a in mail.attachments] == [ACCEPTED]
    with mail_env() as session:
        assert len(session.scalars(select(InboundMail)).all()) == 1


def test_unreadable_pdfs_are_answered_in_french(service, mail_env, reply_sink):
    """A password-protected PDF and a corrupt one: the sender is told why they cannot be read (at intake,
    or once the reading job has tried, by e-mail too)."""
    from core import jobs

    raw = mixed(
        "unreadable_pdfs",
        [
            attachment(encrypted_pdf(), name="protege.pdf"),
            attachment(
                b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Cata" + bytes(range(256)) * 8, name="abime.pdf"
            ),
        ],
    )
    assert smtp_deliver(service.port, raw, INES)[0] == 250
    mail = wait_for(lambda: settled(mail_env, "unreadable_pdfs"), what="processing")
    assert mail.state == MailState.PROCESSED
    said = {a.filename: a.reason for a in mail.attachments if a.state == REJECTED}
    for att in mail.attachments:
        if att.state == ACCEPTED:  # read by the OCR job, as a worker does
            jobs.read_receipt(att.receipt_id)
    with mail_env() as session:
        for receipt in session.scalars(select(Receipt).where(Receipt.efm_id == mail.efm_id)):
            said[receipt.original_name] = receipt.ocr_error
            email = session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.channel == "email", OutboxMessage.dedupe_key == f"receipt_read:{receipt.id}:mail"
                )
            )
            assert email is not None and email.recipient == INES and receipt.ocr_error in email.text
    assert "protégé par un mot de passe" in said["protege.pdf"]
    assert "illisible ou endommagé" in said["abime.pdf"]


def test_corpus_through_imap(imap_env, dovecot):  # noqa: F811 - the imported fixture
    """The IMAP door stores the same bytes and the same parsing path gives the same outcome; a message also
    delivered by SMTP before is recognised and processed once."""
    from core.mail import ledger as mail_ledger
    from mail_ingest.imap_poller import ImapPoller

    cases = corpus()
    names = [
        "rfc2231_continued_utf8_name",
        "eight_bit_name_without_encoding",
        "uuencoded_part_and_body",
        "zero_byte_attachment",
        "from_with_a_display_name_only",
        "latin1_body_without_charset",
        "image_bomb",
    ]
    already = mail_ledger.store_raw(cases[names[0]].raw, source="smtp", envelope_from=INES, envelope_to=[INTAKE])
    with dovecot.mailbox() as box:
        for name in names:
            box.append(cases[name].raw, "INBOX")
    poller = ImapPoller(get_settings())
    try:
        assert poller.poll_once() == len(names)
    finally:
        poller.close()
    assert worker.process_due(len(names) + 1) == len(names)
    with imap_env() as session:
        assert len(session.scalars(select(InboundMail)).all()) == len(names)
        assert session.get(InboundMail, already.mail_id).state == MailState.PROCESSED
    for name in names:
        case = cases[name]
        mail = settled(imap_env, name)
        assert mail is not None, name
        if name == "from_with_a_display_name_only":  # no address at all and no envelope: nobody to match
            assert mail.state == MailState.QUARANTINED and "aucun intervenant" in mail.quarantine_reason
            continue
        check(imap_env, name, case, mail)
