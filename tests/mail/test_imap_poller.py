"""The IMAP door against a real Dovecot server: UID-based, stored before moved, duplicates once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import InboundMail, MailState
from core.settings import get_settings, reset_settings
from mail_ingest import worker
from mail_ingest.imap_poller import STORED_KEYWORD, ImapPoller
from tests.mail import factory
from tests.mail.conftest import wait_for


@pytest.fixture
def imap_env(mail_env, dovecot, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IMAGIN_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("IMAGIN_IMAP_PORT", str(dovecot.port))
    monkeypatch.setenv("IMAGIN_IMAP_SECURITY", "none")
    monkeypatch.setenv("IMAGIN_IMAP_USER", dovecot.user)
    monkeypatch.setenv("IMAGIN_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("IMAGIN_IMAP_POLL_SECONDS", "0.5")
    reset_settings()
    return mail_env


def folder_counts(dovecot) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with dovecot.mailbox() as box:
        return {f.name: box.folder.status(f.name)["MESSAGES"] for f in box.folder.list()}


def rows(db) -> list[InboundMail]:  # type: ignore[no-untyped-def]
    with db() as session:
        return list(session.scalars(select(InboundMail).order_by(InboundMail.id)))


def test_messages_are_stored_then_moved_and_duplicates_kept_once(imap_env, dovecot):
    receipt = factory.message(
        subject="Mission DEMO-301", attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")]
    )
    other = factory.message(
        sender="stranger@example.net", attachments=[(factory.pdf_bytes(), "b.pdf", "application/pdf")]
    )
    with dovecot.mailbox() as box:
        box.append(factory.wire(receipt), "INBOX")
        box.append(factory.wire(receipt), "INBOX")  # delivered twice to the mailbox
        box.append(factory.wire(other), "INBOX")
        uidvalidity = int(box.folder.status("INBOX")["UIDVALIDITY"])
    poller = ImapPoller(get_settings())
    assert poller.poll_once() == 3
    poller.close()
    stored = rows(imap_env)
    assert len(stored) == 2  # the second copy is the same message
    assert [r.imap_uid for r in stored] == [1, 3]
    assert {r.imap_uidvalidity for r in stored} == {uidvalidity} and stored[0].source == "imap"
    assert folder_counts(dovecot) == {"INBOX": 0, "Imagin-traites": 3, "Imagin-rejetes": 0}
    assert worker.process_due() == 2
    states = {r.message_id: r.state for r in rows(imap_env)}
    assert states == {receipt["Message-ID"]: MailState.PROCESSED, other["Message-ID"]: MailState.QUARANTINED}


def test_nothing_is_moved_when_storing_fails(imap_env, dovecot, imagin_env):
    with dovecot.mailbox() as box:
        box.append(factory.wire(factory.message()), "INBOX")
    (imagin_env / "mail").write_bytes(b"blocks the raw mail store")
    poller = ImapPoller(get_settings())
    with pytest.raises(OSError):
        poller.poll_once()
    assert folder_counts(dovecot)["INBOX"] == 1 and rows(imap_env) == []
    (imagin_env / "mail").unlink()
    assert poller.poll_once() == 1  # reconnects and takes it
    poller.close()
    assert folder_counts(dovecot)["INBOX"] == 0 and len(rows(imap_env)) == 1


def test_too_large_goes_to_rejected_and_flag_mode(imap_env, dovecot, monkeypatch):
    monkeypatch.setenv("IMAGIN_SMTP_MAX_MESSAGE_BYTES", "20000")
    monkeypatch.setenv("IMAGIN_IMAP_PROCESSED_FOLDER", "")
    reset_settings()
    big = factory.message(attachments=[(factory.photo_bytes(), "photo.jpg", "image/jpeg")])
    small = factory.message(subject="petit")
    with dovecot.mailbox() as box:
        box.append(factory.wire(big), "INBOX")
        box.append(factory.wire(small), "INBOX")
    poller = ImapPoller(get_settings())
    assert poller.poll_once() == 1
    assert poller.poll_once() == 0  # the flagged message is not taken again
    poller.close()
    assert [r.message_id for r in rows(imap_env)] == [small["Message-ID"]]
    assert folder_counts(dovecot) == {"INBOX": 1, "Imagin-rejetes": 1}
    with dovecot.mailbox() as box:
        flags = [m.flags for m in box.fetch(mark_seen=False)]
    assert flags == [(STORED_KEYWORD,)]


def test_service_poller_reconnects_after_a_server_restart(imap_env, dovecot, start_service):
    start_service()
    first = factory.message(subject="Mission DEMO-301", attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")])
    with dovecot.mailbox() as box:
        box.append(factory.wire(first), "INBOX")
    wait_for(lambda: any(r.state == MailState.PROCESSED for r in rows(imap_env)), what="first message processed")
    dovecot.stop()
    dovecot.start()
    second = factory.message(
        subject="Mission DEMO-301",
        body="encore",
        attachments=[(factory.pdf_bytes("2"), "b.pdf", "application/pdf")],
    )
    with dovecot.mailbox() as box:
        box.append(factory.wire(second), "INBOX")
    wait_for(lambda: sum(r.state == MailState.PROCESSED for r in rows(imap_env)) == 2, what="second message")
    assert folder_counts(dovecot)["INBOX"] == 0


def test_one_run_at_a_time(imap_env, dovecot):
    import fcntl

    with dovecot.mailbox() as box:
        box.append(factory.wire(factory.message()), "INBOX")
    poller = ImapPoller(get_settings())
    poller.lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(poller.lock_path, "a") as other_run:
        fcntl.flock(other_run, fcntl.LOCK_EX)  # another process is polling this mailbox
        assert poller.poll_once() == 0
        assert folder_counts(dovecot).get("INBOX") == 1 and rows(imap_env) == []
    assert poller.poll_once() == 1
    poller.close()
