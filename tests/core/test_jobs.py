"""OCR jobs through a real huey consumer (worker processes): SQLite queue by default, Redis at scale."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core import jobs
from core.filestore import receipt_store
from core.models import EtatDeFrais, OutboxMessage, Receipt
from core.models.base import utcnow
from core.receipts import add_receipt, record_reading
from core.settings import get_settings

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "receipts_fr"
LABELS = {item["file"]: item for item in map(json.loads, (CORPUS / "labels.jsonl").read_text().splitlines())}
TEXT_PDF = next(n for n, item in LABELS.items() if item["degradation"].startswith("text pdf"))  # read in a blink
PHOTO = next(n for n, item in LABELS.items() if item["degradation"] == "none")


def add(db: Callable, name: str) -> int:
    """Store a corpus receipt on the first demo dossier; the commit queues its OCR."""
    with db() as session:
        efm = session.scalars(select(EtatDeFrais).order_by(EtatDeFrais.id)).first()
        receipt, created = add_receipt(session, efm, (CORPUS / name).read_bytes(), name, source="chat", actor="test")
        assert created
        return receipt.id


def queued_reads() -> int:
    """OCR tasks waiting in the queue (a running consumer also queues its minutely sweep)."""
    return sum(t.name == "read_receipt" for t in jobs.huey.pending())


def wait_for_reading(db: Callable, receipt_id: int, seconds: float = 90) -> Receipt:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with db() as session:
            receipt = session.get(Receipt, receipt_id)
            if receipt.ocr_status != "pending":
                return receipt
        time.sleep(0.1)
    raise AssertionError(f"receipt {receipt_id} still pending after {seconds} s")


@pytest.fixture
def worker(demo) -> Iterator[Callable[[], None]]:  # type: ignore[no-untyped-def]
    """Start a real consumer (one worker process) on demand; stopped after the test."""
    started = []

    def start() -> None:
        started.append(jobs.run_worker(1, block=False))

    yield start
    for consumer in started:
        consumer.stop(graceful=True)


def test_job_is_executed_by_a_consumer_and_the_reading_lands_in_the_database(db, worker) -> None:
    receipt_id = add(db, TEXT_PDF)
    assert queued_reads() == 1  # queued by the commit, nothing ran yet
    with db() as session:
        assert session.get(Receipt, receipt_id).ocr_status == "pending"
    worker()
    receipt = wait_for_reading(db, receipt_id)
    assert receipt.ocr_status == "done"
    assert receipt.ocr_total == Decimal(LABELS[TEXT_PDF]["total"])
    assert receipt.ocr_currency == "EUR"
    assert receipt.ocr_engine == "text"
    assert receipt.phash and len(receipt.phash) == 16
    assert queued_reads() == 0


def test_photo_is_read_by_tesseract_in_a_worker_process(db, worker) -> None:
    receipt_id = add(db, PHOTO)
    worker()
    receipt = wait_for_reading(db, receipt_id)
    assert receipt.ocr_engine == "ocr"
    assert receipt.ocr_total == Decimal(LABELS[PHOTO]["total"])


def test_failure_is_retried_then_succeeds(db, worker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "RETRY_DELAY", 2)
    monkeypatch.setattr(jobs, "_instance", None)  # rebuild the queue with the short delay
    receipt_id = add(db, TEXT_PDF)
    with db() as session:
        key = session.get(Receipt, receipt_id).storage_key
    stored = receipt_store().path(key)
    hidden = stored.with_name(stored.name + ".away")
    stored.rename(hidden)  # the first attempt fails: the file is missing
    worker()
    deadline = time.monotonic() + 60
    while jobs.huey.scheduled_count() == 0:  # the failed task waits for its retry
        assert time.monotonic() < deadline, "the failed task was not scheduled for a retry"
        time.sleep(0.05)
    with db() as session:
        assert session.get(Receipt, receipt_id).ocr_status == "pending"
    hidden.rename(stored)
    receipt = wait_for_reading(db, receipt_id)
    assert receipt.ocr_status == "done"
    assert receipt.ocr_total == Decimal(LABELS[TEXT_PDF]["total"])


def test_exhausted_retries_mark_the_receipt_failed(db, worker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "RETRY_DELAY", 0)
    monkeypatch.setattr(jobs, "RETRIES", 1)
    monkeypatch.setattr(jobs, "_instance", None)
    receipt_id = add(db, TEXT_PDF)
    with db() as session:
        receipt_store().delete(session.get(Receipt, receipt_id).storage_key)
    worker()
    receipt = wait_for_reading(db, receipt_id)
    assert receipt.ocr_status == "failed"
    assert receipt.ocr_total is None
    assert receipt.ocr_error == jobs.GIVE_UP


def test_a_receipt_that_kills_its_worker_each_time_is_given_up(db, demo) -> None:
    receipt_id = add(db, TEXT_PDF)
    assert jobs.read_receipt(receipt_id) is not None
    with db() as session:
        receipt = session.get(Receipt, receipt_id)
        assert receipt.ocr_attempts == 1 and receipt.ocr_status == "done"
        receipt.ocr_status = "pending"  # as if each reading had crashed the worker before recording
        receipt.ocr_attempts = jobs.MAX_ATTEMPTS
        receipt_store().delete(receipt.storage_key)  # a reading would now fail: it must not be started
    assert jobs.read_receipt(receipt_id) is None
    with db() as session:
        receipt = session.get(Receipt, receipt_id)
        assert receipt.ocr_status == "failed" and receipt.ocr_error == jobs.GIVE_UP
        assert receipt.ocr_attempts == jobs.MAX_ATTEMPTS + 1


def test_sweep_requeues_receipts_left_pending(db, demo) -> None:
    old = add(db, TEXT_PDF)
    recent = add(db, PHOTO)
    jobs.huey.flush()  # the enqueues were lost
    with db() as session:
        session.get(Receipt, old).created_at = utcnow() - timedelta(seconds=get_settings().ocr_sweep_after_seconds + 60)
    assert jobs.sweep_pending_ocr() == 1
    assert [t.args for t in jobs.huey.pending()] == [(old,)]
    assert jobs.sweep_pending_ocr() == 0  # already queued: not twice
    assert recent not in {t.args[0] for t in jobs.huey.pending()}


def test_ocr_is_queued_at_the_commit_not_when_a_savepoint_is_released(db, demo) -> None:
    jobs.huey.flush()
    with db() as session:
        efm = session.scalars(select(EtatDeFrais).order_by(EtatDeFrais.id)).first()
        with session.begin_nested():
            receipt, _ = add_receipt(
                session, efm, (CORPUS / TEXT_PDF).read_bytes(), TEXT_PDF, source="chat", actor="test"
            )
        assert jobs.huey.pending() == []  # not committed yet: a worker would not find the row
        receipt_id = receipt.id
    assert [t.args for t in jobs.huey.pending()] == [(receipt_id,)]


def test_the_intervenant_is_told_of_each_reading_and_by_mail_for_mailed_receipts(db, demo) -> None:
    with db() as session:
        efm = session.scalars(select(EtatDeFrais).order_by(EtatDeFrais.id)).first()
        person = efm.convocation.intervenant
        person.telegram_user_id = person.telegram_user_id or 4242
        assert person.emails
        ids = {
            source: add_receipt(
                session, efm, (CORPUS / name).read_bytes(), f"{source}.pdf", source=source, actor="test"
            )[0].id
            for source, name in (("chat", TEXT_PDF), ("email", PHOTO))
        }
    with db() as session:
        record_reading(session, ids["chat"], {"total": "12.50", "currency": "EUR", "confidence": 0.9})
        record_reading(session, ids["email"], {"total": None, "confidence": 0.1, "error": "image trop floue"})
    with db() as session:
        told = sorted(
            (m.channel, m.text)
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt_read"))
        )
    assert [channel for channel, _ in told] == ["email", "telegram", "telegram"]
    assert "« email.pdf » n'a pas pu être lu automatiquement (image trop floue)" in told[0][1]
    assert any("« chat.pdf » a été lu : total 12,50 €" in text for _, text in told[1:])


@pytest.mark.redis
def test_redis_queue(db, worker, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_REDIS_URL", redis_url)
    reset_settings()
    assert type(jobs.huey).__name__ == "RedisHuey"
    receipt_id = add(db, TEXT_PDF)
    assert queued_reads() == 1
    worker()
    receipt = wait_for_reading(db, receipt_id)
    assert receipt.ocr_total == Decimal(LABELS[TEXT_PDF]["total"])
    assert queued_reads() == 0
