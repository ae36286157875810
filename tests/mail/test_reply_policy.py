"""Replies only where they are wanted, over real SMTP (service and relay sink on sockets): known or vouched-for
senders only, never to automatic, list or own mail nor the null sender (RFC 3834), rate-limited per address,
threaded and marked ``Auto-Submitted: auto-replied``."""

from __future__ import annotations

import smtplib
import time

import pytest
from sqlalchemy import func, select

from core.models import InboundMail, MailState, OutboxMessage
from tests.mail import factory
from tests.mail.conftest import INTAKE, wait_for

INES = "ines.leroy@example.org"  # an intervenant's address on record


def send(port: int, msg, sender: str | None = None) -> None:  # type: ignore[no-untyped-def]
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.send_message(msg, from_addr=str(msg["From"]) if sender is None else sender, to_addrs=[INTAKE])


def settled(db, message_id: str) -> InboundMail | None:  # type: ignore[no-untyped-def]
    with db() as session:
        mail = session.scalar(select(InboundMail).where(InboundMail.message_id == message_id))
        if mail is None or mail.state in (MailState.RECEIVED, MailState.PROCESSING):
            return None
        mail.attachments  # noqa: B018 - load before the session closes
        return mail


def all_settled(db, count: int) -> bool:  # type: ignore[no-untyped-def]
    with db() as session:
        states = list(session.scalars(select(InboundMail.state)))
    return len(states) >= count and all(s in (MailState.PROCESSED, MailState.QUARANTINED) for s in states)


def replies_queued(db, address: str) -> int:  # type: ignore[no-untyped-def]
    with db() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.recipient == address))


def receipt() -> list[tuple[bytes, str, str]]:
    return [(factory.pdf_bytes(f"Total {time.monotonic_ns() % 1000},00 EUR"), "a.pdf", "application/pdf")]


@pytest.fixture
def trusted_service(mail_env, start_service, monkeypatch):  # type: ignore[no-untyped-def]
    """The service behind a relay ``mx.academie.test`` whose Authentication-Results are believed."""
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_MAIL_TRUSTED_AUTHSERV_IDS", "mx.academie.test")
    reset_settings()
    return start_service()


def test_unknown_senders_are_answered_only_when_the_relay_vouches_for_them(trusted_service, mail_env, reply_sink):
    cases = {
        "jean.inconnu@example.net": None,  # nobody knows it, nothing vouches: kept for the DEC, no answer
        "faux@example.net": "evil.example; spf=pass; dkim=pass",  # written by someone else than our relay
        "vrai@example.net": "mx.academie.test; spf=pass smtp.mailfrom=example.net",
        "signe@example.net": "mx.academie.test; spf=none; dkim=pass header.d=example.net",
    }
    for sender, results in cases.items():
        msg = factory.message(
            sender=f"Jean Inconnu <{sender}>",
            headers={"Authentication-Results": results} if results else None,
            attachments=receipt(),
        )
        send(trusted_service.port, msg)
        mail = wait_for(lambda m=msg: settled(mail_env, m["Message-ID"]), what="processing")
        assert mail.state == MailState.QUARANTINED and [a.state for a in mail.attachments] == ["held"]
    wait_for(lambda: reply_sink.replies_to("signe@example.net"), what="reply to a DKIM-signed sender")
    assert reply_sink.replies_to("vrai@example.net")
    assert replies_queued(mail_env, "jean.inconnu@example.net") == 0
    assert replies_queued(mail_env, "faux@example.net") == 0
    text = reply_sink.replies_to("vrai@example.net")[0].get_content()
    assert text.startswith("Bonjour,") and "Jean Inconnu" not in text  # no name the sender wrote for itself


@pytest.mark.parametrize(
    ("headers", "envelope"),
    [
        ({"Auto-Submitted": "auto-replied"}, None),
        ({"Precedence": "bulk"}, None),
        ({"List-Id": "<parents.lycee.example.org>"}, None),
        ({"List-Unsubscribe": "<mailto:leave@example.org>"}, None),
        ({"Return-Path": "<>"}, None),
        ({}, ""),  # the null sender MAIL FROM:<>
    ],
)
def test_automatic_list_and_bounce_mail_is_never_answered(service, mail_env, reply_sink, headers, envelope):
    msg = factory.message(sender=INES, headers=headers, attachments=receipt())
    send(service.port, msg, sender=envelope)
    mail = wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing")
    assert mail.state == MailState.PROCESSED  # the receipt is taken all the same
    assert replies_queued(mail_env, INES) == 0


def test_mail_from_the_service_itself_is_never_answered(service, mail_env, reply_sink):
    msg = factory.message(sender=INTAKE, attachments=receipt())
    send(service.port, msg)
    wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing")
    with mail_env() as session:
        assert (
            session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "mail_reply"))
            == 0
        )


def test_replies_are_threaded_marked_and_rate_limited(service, mail_env, reply_sink):
    from core.settings import get_settings

    first = factory.message(
        sender=INES,
        attachments=receipt(),
        headers={"References": "<a@example.org> <b@example.org>", "In-Reply-To": "<b@example.org>"},
    )
    send(service.port, first)
    reply = wait_for(lambda: reply_sink.replies_to(INES), what="the reply")[0]
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == first["Message-ID"]
    assert reply["References"].split() == ["<a@example.org>", "<b@example.org>", first["Message-ID"]]
    limit = get_settings().mail_replies_per_hour
    for _ in range(limit + 2):
        send(service.port, factory.message(sender=INES, attachments=receipt()))
    wait_for(lambda: all_settled(mail_env, limit + 3), what="every message processed")
    assert replies_queued(mail_env, INES) == limit  # the others are processed, and not answered
