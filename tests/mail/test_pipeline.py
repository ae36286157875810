"""The pipeline's state machine: per-attachment retries, crash recovery, giving up loudly."""

from __future__ import annotations

import os
import socket

from sqlalchemy import select, update

from core.mail import intake as mail_intake
from core.mail import ledger as mail_ledger
from core.models import InboundMail, MailState, OutboxMessage
from mail_ingest import worker
from tests.mail import factory


def stored(msg) -> int:  # type: ignore[no-untyped-def]
    return mail_ledger.store_raw(
        factory.wire(msg), source="smtp", envelope_from=str(msg["From"]), envelope_to=["recus@imagin.test"]
    ).mail_id


def test_a_failed_attachment_step_is_retried_and_accepted_files_stay(mail_env, imagin_env):
    msg = factory.message(
        attachments=[
            (factory.pdf_bytes("a"), "a.pdf", "application/pdf"),
            (factory.pdf_bytes("b"), "b.pdf", "application/pdf"),
        ]
    )
    mail_id = stored(msg)
    receipts_dir = imagin_env / "receipts"
    receipts_dir.parent.mkdir(parents=True, exist_ok=True)
    receipts_dir.write_bytes(b"the receipt store is broken")
    assert worker.process_due() == 1
    with mail_env() as session:
        mail = session.get(InboundMail, mail_id)
        assert mail.state == MailState.RECEIVED and mail.attempts == 1 and "could not be stored" in mail.last_error
        assert [a.state for a in mail.attachments] == ["pending", "pending"]
        assert mail.next_attempt_at is not None
        session.execute(update(InboundMail).values(next_attempt_at=None))  # skip the backoff
        assert session.scalars(select(OutboxMessage)).all() == []  # no answer yet
    receipts_dir.unlink()
    assert worker.process_due() == 1
    with mail_env() as session:
        mail = session.get(InboundMail, mail_id)
        assert mail.state == MailState.PROCESSED and mail.attempts == 2
        assert [a.state for a in mail.attachments] == ["accepted", "accepted"]
        assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "mail_reply")).all()) == 1


def test_claims_of_a_dead_process_are_released_at_start_up(mail_env):
    dead_id, alive_id = stored(factory.message()), stored(factory.message(subject="autre"))
    host = socket.gethostname()
    with mail_env() as session:
        for mail_id, holder in ((dead_id, f"{host}:{2**22 + 12345}"), (alive_id, f"{host}:{os.getppid()}")):
            session.execute(
                update(InboundMail)
                .where(InboundMail.id == mail_id)
                .values(
                    state=MailState.PROCESSING,
                    locked_by=holder,
                    locked_until=mail_ledger.utcnow() + mail_ledger.LEASE,
                )
            )
    assert mail_ledger.release_stale() == 1
    assert mail_ledger.claim_due() == [dead_id]  # the live process's claim is left alone until its lease ends


def test_giving_up_keeps_the_message_and_tells_the_sender(mail_env):
    mail_id = stored(factory.message(subject="Mission DEMO-301"))
    with mail_env() as session:
        session.execute(update(InboundMail).values(attempts=mail_ledger.MAX_ATTEMPTS, state=MailState.PROCESSING))
    mail_ledger.record_failure(mail_id, "RuntimeError: boom")
    with mail_env() as session:
        mail = session.get(InboundMail, mail_id)
        assert mail.state == MailState.FAILED and mail in mail_intake.quarantined(session)
        reply = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "mail_reply"))
        assert reply.recipient == "ines.leroy@example.org" and "inutile de le renvoyer" in reply.text


def test_ledger_key_and_claims_on_sqlite_and_postgresql(any_db):
    import threading

    raw = factory.wire(factory.message())
    first = mail_ledger.store_raw(raw, source="smtp")
    again = mail_ledger.store_raw(b"Received: from relay2.example.org\r\n" + raw, source="imap")
    other = mail_ledger.store_raw(raw.replace(b"Bonjour", b"Bonsoir"), source="smtp")
    assert not first.duplicate and again == mail_ledger.StoreResult(first.mail_id, True)
    assert not other.duplicate and other.mail_id != first.mail_id
    for i in range(8):
        mail_ledger.store_raw(factory.wire(factory.message(subject=f"lot {i}")), source="smtp")
    claims: list[list[int]] = []
    threads = [threading.Thread(target=lambda: claims.append(mail_ledger.claim_due(limit=4))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for c in claims for i in c]
    assert len(claimed) == len(set(claimed))  # never the same message to two workers
    claimed += mail_ledger.claim_due(limit=20)  # what the racing workers left is still there
    assert len(claimed) == len(set(claimed)) == 10


def test_group_commit_of_concurrent_deliveries(any_db):
    from concurrent.futures import ThreadPoolExecutor

    writer = mail_ledger.LedgerWriter()
    raws = [factory.wire(factory.message(subject=f"lot {i}")) for i in range(12)]
    raws.append(raws[0])  # one message delivered twice at the same time
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda raw: writer.store(raw, source="smtp"), raws))
    finally:
        writer.close()
    assert [r.duplicate for r in results].count(True) == 1
    assert results[0].mail_id == results[-1].mail_id
    assert len({r.mail_id for r in results}) == 12
    with any_db() as session:
        assert len(session.scalars(select(InboundMail)).all()) == 12


def test_dec_reassigns_a_failed_message_and_the_worker_reads_it_again(mail_env):
    from tests.core.helpers import efm_by_mission

    mail_id = stored(factory.message(subject="Reçus", attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")]))
    with mail_env() as session:
        session.execute(update(InboundMail).values(attempts=mail_ledger.MAX_ATTEMPTS, state=MailState.PROCESSING))
    mail_ledger.record_failure(mail_id, "RuntimeError: boom")
    with mail_env() as session:
        target = efm_by_mission(session, "DEMO-301")
        assert mail_intake.reassign(session, mail_id, target.id, actor="staff:1").state == MailState.RECEIVED
    assert worker.process_due() == 1
    with mail_env() as session:
        mail = session.get(InboundMail, mail_id)
        assert mail.state == MailState.PROCESSED and mail.efm_id == target.id and mail.match_evidence == "dec"
        assert [a.state for a in mail.attachments] == ["accepted"]
