"""Malformed real-world mail: CPython's e-mail corpus and crafted messages (tests/fixtures/mail_malformed/)
go through the intake's own code path (ledger, parser, matching, receipts, mailer) without crashing,
hanging or losing anything, and every answer is French and can be sent."""

from __future__ import annotations

import re
import smtplib
import socket
import sysconfig
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from core.mail import ledger as mail_ledger
from core.mail.replies import SIGNATURE
from core.models import InboundMail, MailState, OutboxMessage
from core.settings import get_settings
from mail_ingest import parsing, worker
from mail_ingest.mailer import OutgoingMail, build_message
from tests.mail import factory
from tests.mail.conftest import INTAKE, wait_for
from tests.mail.test_imap_poller import imap_env  # noqa: F401 - fixture

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail_malformed"
CPYTHON_CORPUS = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
CORPUS_FILES = sorted(CPYTHON_CORPUS.glob("msg_*.txt")) if CPYTHON_CORPUS.is_dir() else []
ENVELOPE = "envelope.sender@example.org"
INES = "ines.leroy@example.org"
SETTLED = (MailState.PROCESSED, MailState.QUARANTINED)


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


def as_ines(raw: bytes) -> bytes:
    """The message with its From and To replaced by a registered intervenant and the intake address."""
    blank = re.search(rb"\r?\n\r?\n", raw)
    head, body = (raw[: blank.start()], raw[blank.start() :]) if blank else (raw, b"")
    head = re.sub(rb"(?im)^(from|to):.*(\r?\n[ \t].*)*(\r?\n|$)", b"", head)
    return b"From: " + INES.encode() + b"\r\nTo: " + INTAKE.encode() + b"\r\n" + head + body


@dataclass
class Outcome:
    mail: InboundMail
    replies: list[EmailMessage]


def intake(db, raw: bytes, source: str = "smtp") -> Outcome:  # type: ignore[no-untyped-def]
    """Store and process a message as the SMTP door and the worker do; build each answer as the mailer does."""
    stored = mail_ledger.store_raw(raw, source=source, envelope_from=ENVELOPE, envelope_to=[INTAKE])
    started = time.monotonic()
    worker.process_one(stored.mail_id)
    assert time.monotonic() - started < 30, "processing one message must never take this long"
    with db() as session:
        mail = session.get(InboundMail, stored.mail_id)
        mail.attachments  # noqa: B018 - load before the session closes
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.channel == "email", OutboxMessage.dedupe_key == f"mail_reply:{mail.id}"
            )
        ).all()
        outgoing = [
            OutgoingMail(r.id, r.recipient, r.subject, r.text, (r.payload or {}).get("in_reply_to")) for r in rows
        ]
    replies = [build_message(m, get_settings()) for m in outgoing]
    for reply in replies:
        reply.as_bytes()  # the mailer can serialise it
    return Outcome(mail, replies)


def assert_settled(outcome: Outcome) -> None:
    """Processed or quarantined at the first attempt, and every answer a French text."""
    mail = outcome.mail
    assert mail.state in SETTLED and mail.last_error is None, (mail.state, mail.last_error)
    assert "\x00" not in mail.message_id + mail.subject + (mail.from_address or "")
    for reply in outcome.replies:
        text = reply.get_content()
        assert text.startswith("Bonjour") and text.rstrip().endswith(SIGNATURE.splitlines()[-1]), text
        assert "\n" not in str(reply["Subject"]) and len(str(reply["Subject"])) <= 250


def files(mail: InboundMail) -> list[tuple[str, str]]:
    return [(a.filename, a.state) for a in sorted(mail.attachments, key=lambda a: a.position)]


# ------------------------------------------------------------------------------ CPython's corpus


@pytest.mark.parametrize("path", CORPUS_FILES or [None], ids=lambda p: p.name if p else "absent")
def test_cpython_email_corpus(mail_env, path):
    if path is None:
        pytest.skip(f"CPython's e-mail test corpus is not installed here ({CPYTHON_CORPUS})")
    raw = path.read_bytes()
    as_is = intake(mail_env, raw)
    assert_settled(as_is)
    if as_is.mail.state == MailState.QUARANTINED:
        assert as_is.mail.quarantine_reason
    matched = intake(mail_env, as_ines(raw))
    assert_settled(matched)
    if matched.mail.state == MailState.PROCESSED:
        assert matched.mail.intervenant_id is not None and matched.mail.match_evidence == "sender"
    else:  # only a structure the parser could not follow keeps a registered sender out
        assert "mal formé" in matched.mail.quarantine_reason or "trop de pièces" in matched.mail.quarantine_reason


# ------------------------------------------------------------------------------ crafted messages

ACCEPTED = "accepted"
CRAFTED: dict[str, tuple[MailState, list[tuple[str | None, str]]]] = {
    # name: (state, [(file name or None when any, attachment state)])
    "rfc2231_latin1_name": (MailState.PROCESSED, [("hôtel.pdf", ACCEPTED)]),
    "rfc2231_unknown_charset_name": (MailState.PROCESSED, [(None, ACCEPTED)]),
    "rfc2231_invalid_utf8_name": (MailState.PROCESSED, [(None, ACCEPTED)]),
    "encoded_word_invalid_base64_name": (MailState.PROCESSED, [(None, ACCEPTED)]),
    "encoded_word_koi8_name": (MailState.PROCESSED, [("Приз.pdf", ACCEPTED)]),
    "path_traversal_names": (
        MailState.PROCESSED,
        [("passwd", ACCEPTED), ("reçu.pdf", ACCEPTED), ("", ACCEPTED), ("", ACCEPTED)],
    ),
    "long_name": (MailState.PROCESSED, [("a" * 200, ACCEPTED)]),
    "empty_names": (MailState.PROCESSED, [("", ACCEPTED), ("", ACCEPTED)]),
    "nul_and_control_names": (MailState.PROCESSED, [("re[31mcu.pdf", ACCEPTED), ("abc.pdf", ACCEPTED)]),
    "wrong_content_types": (MailState.PROCESSED, [("scan.jpg", ACCEPTED), ("facture.pdf", ACCEPTED)]),
    "broken_base64": (MailState.PROCESSED, [("a.pdf", ACCEPTED)]),
    "broken_quoted_printable": (MailState.PROCESSED, [("qp.pdf", ACCEPTED)]),
    "missing_closing_boundary": (MailState.PROCESSED, [("a.pdf", ACCEPTED)]),
    "octet_stream_receipts": (MailState.PROCESSED, [("", ACCEPTED), ("facture", ACCEPTED)]),
    "winmail_dat": (MailState.PROCESSED, [("winmail.dat", "rejected")]),
    "forwarded_rfc822": (MailState.PROCESSED, [("hotel.pdf", ACCEPTED)]),
    "forwarded_rfc822_base64": (MailState.PROCESSED, [("hotel.pdf", ACCEPTED)]),
    "header_line_100k": (MailState.PROCESSED, []),
    "subject_invalid_encoded_words": (MailState.PROCESSED, []),
    "to_comment_bomb": (MailState.PROCESSED, []),
    "message_id_8bit_nul": (MailState.PROCESSED, []),
    "crlf_lf_mix": (MailState.PROCESSED, [("mix.pdf", ACCEPTED)]),
    "lf_only": (MailState.PROCESSED, [("lf.pdf", ACCEPTED)]),
    "unknown_body_charset": (MailState.PROCESSED, []),
    "eightbit_headers": (MailState.PROCESSED, [("hôtel réservé.pdf", ACCEPTED)]),
    "multipart_without_boundary": (MailState.QUARANTINED, []),
    "from_several_addresses": (MailState.QUARANTINED, []),
    "from_missing": (MailState.QUARANTINED, []),
    "from_empty_group": (MailState.QUARANTINED, []),
    "from_quote_bomb": (MailState.QUARANTINED, []),
}


UNKNOWN_SENDERS = {"from_several_addresses", "from_missing", "from_empty_group", "from_quote_bomb"}


def test_every_fixture_has_an_expectation():
    assert sorted(p.stem for p in FIXTURES.glob("*.eml")) == sorted(CRAFTED)


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_message(mail_env, name):
    state, expected = CRAFTED[name]
    outcome = intake(mail_env, fixture(name))
    assert_settled(outcome)
    assert outcome.mail.state == state, outcome.mail.quarantine_reason
    got = files(outcome.mail)
    assert [s for _, s in got] == [s for _, s in expected]
    assert [n for (n, _), (want, _) in zip(got, expected, strict=True) if want is not None] == [
        want for want, _ in expected if want is not None
    ]
    assert all(n.isprintable() and len(n) <= 200 for n, _ in got)
    # a known sender is always told, once; a sender nobody knows nor vouched for is never answered
    assert len(outcome.replies) == (0 if name in UNKNOWN_SENDERS else 1)


def reply_text(outcome: Outcome) -> str:
    (reply,) = outcome.replies
    return reply.get_content()


def test_crafted_details(mail_env):
    traversal = intake(mail_env, fixture("path_traversal_names"))
    assert "pièce jointe n° 3 (sans nom)" in reply_text(traversal)

    winmail = intake(mail_env, fixture("winmail_dat"))
    assert "Outlook" in winmail.mail.attachments[0].reason and "Outlook" in reply_text(winmail)

    forwarded = intake(mail_env, fixture("forwarded_rfc822_base64"))
    assert forwarded.mail.attachments[0].forwarded

    subject = intake(mail_env, fixture("subject_invalid_encoded_words"))
    assert "\n" not in subject.mail.subject and "\x07" not in subject.mail.subject
    assert "line break again" in subject.mail.subject

    eight = intake(mail_env, fixture("eightbit_headers"))
    assert eight.mail.subject == "reçu taxi mission DEMO-301"

    kinds = {a.filename: a.detected_type for a in intake(mail_env, fixture("wrong_content_types")).mail.attachments}
    assert kinds == {"scan.jpg": "application/pdf", "facture.pdf": "image/jpeg"}

    nul_id = intake(mail_env, fixture("message_id_8bit_nul"))
    assert nul_id.mail.message_id and "\x00" not in nul_id.mail.message_id


@pytest.mark.parametrize(
    ("name", "recipient"),
    [
        ("from_several_addresses", "stranger@example.net"),  # the first author, as written
        ("from_missing", ENVELOPE),
        ("from_empty_group", ENVELOPE),
        ("from_quote_bomb", ENVELOPE),  # never the garbled quoted string that contains an '@'
    ],
)
def test_unknown_or_unusable_sender_is_kept_without_an_answer(mail_env, name, recipient):
    outcome = intake(mail_env, fixture(name))
    assert outcome.replies == []  # no backscatter to whoever the headers name
    assert "aucun intervenant" in outcome.mail.quarantine_reason


def test_too_many_parts_or_levels_are_quarantined_not_silently_cut(mail_env):
    many = factory.message(
        subject="Mission DEMO-301",
        attachments=[
            (factory.pdf_bytes(f"recu {i}"), f"r{i}.pdf", "application/pdf") for i in range(parsing.MAX_PARTS + 5)
        ],
    )
    outcome = intake(mail_env, factory.wire(many))
    assert outcome.mail.state == MailState.QUARANTINED and "trop de pièces" in outcome.mail.quarantine_reason
    assert {a.state for a in outcome.mail.attachments} == {"held"}  # kept for the DEC
    assert "plusieurs messages" in reply_text(outcome)

    deep = b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=deep.pdf\r\n\r\n%PDF-1.4\r\n"
    for level in range(parsing.MAX_DEPTH + 5):
        deep = b'Content-Type: multipart/mixed; boundary="L%d"\r\n\r\n--L%d\r\n%s\r\n--L%d--\r\n' % (
            level,
            level,
            deep,
            level,
        )
    raw = b"From: ines.leroy@example.org\r\nSubject: gigogne\r\nMessage-ID: <deep@example.org>\r\n" + deep
    nested = intake(mail_env, raw)
    assert nested.mail.state == MailState.QUARANTINED and "trop de pièces" in nested.mail.quarantine_reason


def test_a_message_too_slow_to_parse_is_quarantined_in_bounded_time(mail_env, monkeypatch):
    monkeypatch.setattr(parsing, "PARSE_SECONDS", 0.5)
    params = b"; ".join(b"p%d=v" % i for i in range(500))
    part = b"--B\r\nContent-Type: application/pdf; " + params + b"\r\n\r\nx\r\n"
    raw = (
        b"From: ines.leroy@example.org\r\nSubject: lent\r\nMessage-ID: <slow@example.org>\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n" + part * 2000 + b"--B--\r\n"
    )
    started = time.monotonic()
    outcome = intake(mail_env, raw)
    assert time.monotonic() - started < 10
    assert outcome.mail.state == MailState.QUARANTINED and "illisible" in outcome.mail.quarantine_reason
    assert outcome.replies == []  # unread, its only sender is the envelope's, known to nobody: no answer


def test_store_accepts_wire_text_no_database_can_hold(any_db):
    """NUL and 8-bit bytes in the Message-ID and the SMTP envelope (SQLite refuses lone surrogates,
    PostgreSQL refuses NUL): the message is stored, never answered 451 forever."""
    raw = fixture("message_id_8bit_nul")
    result = mail_ledger.store_raw(
        raw,
        source="smtp",
        envelope_from="\udcffbad\x00@example.org",
        envelope_to=["recus+\udce9@imagin.test"],
        peer="\x00",
    )
    with any_db() as session:
        mail = session.get(InboundMail, result.mail_id)
        assert "\x00" not in mail.message_id + mail.envelope_from + mail.envelope_to
        assert mail.envelope_from == "�bad @example.org"
    assert mail_ledger.store_raw(raw, source="imap").duplicate


# ------------------------------------------------------------------------------ over a real SMTP conversation

OVER_SMTP = {
    # fixture: (what the reply must say, names of the files accepted as receipts)
    "rfc2231_latin1_name": ("hôtel.pdf", {"hôtel.pdf"}),
    "path_traversal_names": ("pièce jointe n° 3 (sans nom)", {"passwd", "reçu.pdf"}),
    "winmail_dat": ("format TNEF", set()),
    "forwarded_rfc822_base64": ("hotel.pdf", {"hotel.pdf"}),
    "subject_invalid_encoded_words": ("ne contenait aucun justificatif", set()),
    "eightbit_headers": ("« reçu taxi mission DEMO-301 »", {"hôtel réservé.pdf"}),
    "lf_only": ("lf.pdf", {"lf.pdf"}),  # bare LF on the wire: the whole message is one SMTP "line"
    "header_line_100k": ("ne contenait aucun justificatif", set()),  # a 100k-character line
}


def smtp_deliver(port: int, raw: bytes, sender: str = INES) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        client.mail(sender)
        client.rcpt(INTAKE)
        return client.data(raw)


def message_id(raw: bytes) -> str:
    found = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]*>)", raw)
    assert found is not None
    return found.group(1).decode()


def test_nasty_messages_over_smtp(service, mail_env, reply_sink):
    from core.filestore import receipt_store
    from core.models import Receipt
    from tests.mail.test_smtp_intake import settled

    for name in OVER_SMTP:
        code, answer = smtp_deliver(service.port, fixture(name))
        assert code == 250 and b"accepted" in answer, (name, code, answer)
    stored: set[int] = set()
    for name, (said, names) in OVER_SMTP.items():
        mid = message_id(fixture(name))
        mail = wait_for(lambda mid=mid: settled(mail_env, mid), what=f"processing of {name}")
        assert mail.state == MailState.PROCESSED and mail.last_error is None, (name, mail.quarantine_reason)
        reply = wait_for(
            lambda mid=mid: [m for m in reply_sink.messages if m["In-Reply-To"] == mid], what=f"reply to {name}"
        )[0]
        assert str(reply["To"]) == INES and "\n" not in str(reply["Subject"])
        text = reply.get_content()
        assert text.startswith("Bonjour") and said in text, (name, text)
        accepted = {a.filename: a.receipt_id for a in mail.attachments if a.state == ACCEPTED}
        assert names <= set(accepted) and all(accepted.values()), (name, accepted)
        stored |= set(accepted.values())
    with mail_env() as session:  # each accepted file is a receipt whose bytes are in the store
        receipts = session.scalars(select(Receipt).where(Receipt.id.in_(stored))).all()
        assert len(receipts) == len(stored) and all(receipt_store().exists(r.storage_key) for r in receipts)


def test_8bit_envelope_sender_is_stored_not_refused(service, mail_env, reply_sink):
    """MAIL FROM with bytes that are not UTF-8 (SMTPUTF8 is offered): stored and answered 250, not 451."""
    raw = factory.wire(
        factory.message(subject="Mission DEMO-301", attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")])
    )
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
        conversation = sock.makefile("rwb")

        def command(line: bytes) -> bytes:
            conversation.write(line + b"\r\n")
            conversation.flush()
            reply = conversation.readline()
            while reply[3:4] == b"-":
                reply = conversation.readline()
            return reply

        assert conversation.readline().startswith(b"220")
        assert command(b"EHLO client.example.org").startswith(b"250")
        assert command(b"MAIL FROM:<in\xe8s\xff@example.org> SMTPUTF8").startswith(b"250")
        assert command(b"RCPT TO:<" + INTAKE.encode() + b">").startswith(b"250")
        assert command(b"DATA").startswith(b"354")
        assert command(raw.replace(b"\r\n.", b"\r\n..") + b"\r\n.").startswith(b"250")
        command(b"QUIT")
    mid = message_id(raw)
    from tests.mail.test_smtp_intake import settled

    mail = wait_for(lambda: settled(mail_env, mid), what="processing")
    assert mail.state == MailState.PROCESSED and [a.state for a in mail.attachments] == [ACCEPTED]


# ------------------------------------------------------------------------------ through the IMAP door


def test_nasty_messages_through_imap(imap_env, dovecot):  # noqa: F811 - the imported fixture
    from mail_ingest.imap_poller import ImapPoller

    names = ["path_traversal_names", "forwarded_rfc822_base64", "eightbit_headers", "from_quote_bomb"]
    with dovecot.mailbox() as box:
        for name in names:
            box.append(fixture(name), "INBOX")
    poller = ImapPoller(get_settings())
    try:
        assert poller.poll_once() == len(names)
    finally:
        poller.close()
    assert worker.process_due() == len(names)
    with imap_env() as session:
        states = {m.message_id: m.state for m in session.scalars(select(InboundMail))}
    assert states == {
        message_id(fixture("path_traversal_names")): MailState.PROCESSED,
        message_id(fixture("forwarded_rfc822_base64")): MailState.PROCESSED,
        message_id(fixture("eightbit_headers")): MailState.PROCESSED,
        message_id(fixture("from_quote_bomb")): MailState.QUARANTINED,
    }
