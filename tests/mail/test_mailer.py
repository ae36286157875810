"""The mailer delivers e-mail outbox rows through the relay once, and retries when the relay is down."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email import policy
from email.parser import BytesParser

from sqlalchemy import update

from core import outbox
from core.models import OutboxMessage, utcnow
from core.settings import get_settings, reset_settings
from mail_ingest.mailer import deliver_due
from tests.mail.conftest import free_port


def test_relay_down_then_up_delivers_exactly_once(mail_env, reply_sink, monkeypatch):
    with mail_env() as session:
        row = outbox.enqueue(
            session,
            channel="email",
            recipient="ines.leroy@example.org",
            kind="mail_reply",
            subject="Re: Justificatifs",
            text="Bonjour,\nvos pièces sont reçues.",
            payload={"in_reply_to": "<orig@example.org>"},
            dedupe_key="test:1",
        )
        session.flush()
        row_id = row.id
    monkeypatch.setenv("IMAGIN_RELAY_PORT", str(free_port()))  # nobody listens there
    reset_settings()
    assert asyncio.run(deliver_due(get_settings())) == 1
    with mail_env() as session:
        failed = session.get(OutboxMessage, row_id)
        assert failed.status == "pending" and failed.attempts == 1 and "Error" in (failed.last_error or "")
        assert failed.next_attempt_at > utcnow()  # backoff: not retried at once
    assert asyncio.run(deliver_due(get_settings())) == 0

    monkeypatch.setenv("IMAGIN_RELAY_PORT", str(reply_sink.port))
    reset_settings()
    with mail_env() as session:  # the backoff has elapsed
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert asyncio.run(deliver_due(get_settings())) == 1
    assert asyncio.run(deliver_due(get_settings())) == 0
    assert len(reply_sink.messages) == 1
    sent = reply_sink.messages[0]
    assert sent["To"] == "ines.leroy@example.org" and sent["In-Reply-To"] == "<orig@example.org>"
    assert "vos pièces sont reçues" in sent.get_content()
    with mail_env() as session:
        assert session.get(OutboxMessage, row_id).status == "sent"


def test_without_a_relay_replies_are_written_as_files(mail_env, monkeypatch, tmp_path):
    with mail_env() as session:
        row = outbox.enqueue(
            session,
            channel="email",
            recipient="ines.leroy@example.org",
            kind="mail_reply",
            subject="Re: Justificatifs",
            text="Bonjour,\nvos pièces sont reçues.",
            payload={"in_reply_to": "<orig@example.org>"},
            dedupe_key="test:file",
        )
        session.flush()
        row_id = row.id
    monkeypatch.delenv("IMAGIN_RELAY_HOST")  # the embedded default: no relay
    reset_settings()
    assert get_settings().relay_host is None
    assert asyncio.run(deliver_due(get_settings())) == 1
    files = list((get_settings().data_dir / "mail-out").iterdir())
    assert [f.name for f in files] == [f"{row_id:06d}.eml"]
    written = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert written["To"] == "ines.leroy@example.org" and written["In-Reply-To"] == "<orig@example.org>"
    assert "vos pièces sont reçues" in written.get_content()
    with mail_env() as session:
        assert session.get(OutboxMessage, row_id).status == "sent"
    assert asyncio.run(deliver_due(get_settings())) == 0
