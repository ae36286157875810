"""MIME parsing: every attachment form of the issue, on real message bytes."""

from __future__ import annotations

import base64
from email.message import EmailMessage

from mail_ingest.parsing import parse_message
from tests.mail import factory


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data)


def raw_message(parts: list[bytes], headers: bytes = b"") -> bytes:
    head = (
        b"From: =?utf-8?q?In=C3=A8s_Leroy?= <Ines.Leroy@Example.org>\r\nTo: recus@imagin.test\r\n"
        b"Subject: =?utf-8?b?" + base64.b64encode("Reçus mission DEMO-301".encode()) + b"?=\r\n"
        b"Message-ID: <abc@example.org>\r\n"
        + headers
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'
    )
    body = b"".join(b"--XX\r\n" + p + b"\r\n" for p in parts) + b"--XX--\r\n"
    return head + body


TEXT = (
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour, voici mes re\xc3\xa7us.\r\n> cit\xc3\xa9 mission 999\r\n"
)


def test_headers_and_body_are_decoded():
    mail = parse_message(raw_message([TEXT]))
    assert mail.from_address == "ines.leroy@example.org"
    assert mail.from_name == "Inès Leroy"
    assert mail.subject == "Reçus mission DEMO-301"
    assert mail.message_id == "<abc@example.org>"
    assert "voici mes reçus" in mail.body_text and "999" not in mail.body_text  # quoted lines dropped
    assert mail.files == () and not mail.structure_broken and not mail.automatic


def test_rfc2231_and_rfc2047_names_and_octet_stream_pdf():
    pdf = factory.pdf_bytes()
    rfc2231 = (
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''note%20d%C3%A9jeuner.pdf\r\n\r\n" + b64(pdf)
    )
    rfc2047 = (
        b'Content-Type: application/pdf; name="=?iso-8859-1?q?h=F4tel_r=E9serv=E9.pdf?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(pdf)
    )
    mail = parse_message(raw_message([TEXT, rfc2231, rfc2047]))
    assert [f.filename for f in mail.files] == ["note déjeuner.pdf", "hôtel réservé.pdf"]
    assert [f.declared_type for f in mail.files] == ["application/octet-stream", "application/pdf"]
    assert all(f.data == pdf for f in mail.files)
    assert mail.files[1].disposition is None  # inline PDF without Content-Disposition is still found


def test_forwarded_message_attachments_are_found():
    inner = factory.message(
        sender="sncf@example.com",
        subject="Votre billet",
        attachments=[(factory.pdf_bytes("Billet"), "billet.pdf", "application/pdf")],
    )
    outer = EmailMessage()
    outer["From"] = "ines.leroy@example.org"
    outer["To"] = "recus@imagin.test"
    outer["Subject"] = "Fwd: Votre billet"
    outer.set_content("Je transfère mon billet.")
    outer.add_attachment(inner)
    mail = parse_message(outer.as_bytes())
    assert len(mail.files) == 1
    assert mail.files[0].filename == "billet.pdf" and mail.files[0].forwarded
    assert mail.body_text.startswith("Je transfère")


def test_inline_logo_is_reported_with_its_content_id():
    msg = factory.message(attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")])
    msg.get_payload()[0].add_related(factory.logo_bytes(), maintype="image", subtype="png", cid="<logo@x>")
    mail = parse_message(msg.as_bytes())
    logo = next(f for f in mail.files if f.declared_type == "image/png")
    assert logo.content_id == "<logo@x>" and logo.disposition != "attachment"


def test_missing_boundary_is_flagged_not_raised():
    raw = (
        b"From: a@example.org\r\nSubject: cass\xc3\xa9\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="NOPE"\r\n\r\nno parts at all\r\n\x00\xff garbage\r\n'
    )
    mail = parse_message(raw)
    assert mail.structure_broken
    assert mail.files == ()
    assert mail.from_address == "a@example.org"


def test_garbage_bytes_do_not_raise():
    mail = parse_message(b"\x00\x01\x02 not a mail \xff\xfe" * 50)
    assert mail.from_address is None and mail.files == ()


def test_authentication_results_failures_and_trust():
    headers = (
        b"Authentication-Results: mx.academie.test; spf=pass smtp.mailfrom=x; dmarc=fail (p=reject) "
        b"header.from=example.org\r\nAuthentication-Results: other.test; spf=fail\r\n"
    )
    mail = parse_message(raw_message([TEXT], headers))
    assert set(mail.auth_failures) == {"dmarc=fail", "spf=fail"}
    trusted = parse_message(raw_message([TEXT], headers), trusted_authserv_ids=frozenset({"mx.academie.test"}))
    assert trusted.auth_failures == ("dmarc=fail",)
    clean = parse_message(raw_message([TEXT], b"Authentication-Results: mx; spf=pass; dmarc=pass\r\n"))
    assert clean.auth_failures == ()


def test_bounces_and_auto_replies_are_automatic():
    assert parse_message(raw_message([TEXT], b"Auto-Submitted: auto-replied\r\n")).automatic
    assert parse_message(raw_message([TEXT], b"Precedence: bulk\r\n")).automatic
    assert not parse_message(raw_message([TEXT], b"Auto-Submitted: no\r\n")).automatic


def test_quoted_and_forwarded_text_is_not_the_senders_own_words():
    plain = factory.message(
        body="Voici le reçu, mission 621.\n\n-----Original Message-----\nDe : dec@ac.fr\nmission 622"
    )
    assert parse_message(plain.as_bytes()).body_text == "Voici le reçu, mission 621."
    html_only = EmailMessage()
    html_only["From"] = "a@example.org"
    html_only.set_content(
        "<div>Mission&nbsp;DEMO-101</div><div>Le 2 juin 2026, DEC a écrit :</div><p>DEMO-102</p>",
        subtype="html",
    )
    assert parse_message(html_only.as_bytes()).body_text == "Mission\xa0DEMO-101"
