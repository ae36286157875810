"""Background jobs (huey): OCR of receipts in worker processes, with retries, time limits and a sweep.

The queue lives in ``<data_dir>/jobs.sqlite`` (SqliteHuey) by default and in Redis (RedisHuey) when
``IMAGIN_REDIS_URL`` is set. Task bodies are plain functions; ``get_huey()`` registers them on the
instance built from the current settings. ``jobs.huey`` is that instance. Readings are persisted in the
database by ``record_reading`` (huey keeps no result store, so nothing piles up in the queue).
"""

from __future__ import annotations

import logging
import weakref
from datetime import timedelta
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import Task, TaskWrapper
from huey.consumer import Consumer
from sqlalchemy import select

import ocr
from core.db import get_engine, session_scope
from core.filestore import receipt_store
from core.models import Receipt
from core.models.base import utcnow
from core.receipts import record_reading
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

QUEUE_NAME = "imagin"
OCR_TIME_LIMIT = 90.0  # seconds given to ocr.read() for one receipt
TASK_TIMEOUT = 150  # seconds before the worker interrupts a task (reading + hash + database)
RETRIES = 3  # attempts after the first failure (missing file, database busy...)
RETRY_DELAY = 30  # seconds between attempts
SWEEP_BATCH = 200  # receipts re-queued per sweep at most
MAX_ATTEMPTS = 6  # readings started for one receipt: past this, one that crashed its worker each time is given up
GIVE_UP = "La lecture automatique de ce justificatif a échoué après plusieurs essais : un gestionnaire le vérifiera."

_instance: Huey | None = None
_instance_key: str | None = None
_tasks: weakref.WeakKeyDictionary[Huey, dict[str, TaskWrapper]] = weakref.WeakKeyDictionary()


def _key(settings: Settings) -> str:
    return settings.redis_url or str((settings.data_dir / "jobs.sqlite").resolve())


def build_huey(settings: Settings) -> Huey:
    """A huey instance for these settings, with the OCR task and the sweep registered."""
    if settings.redis_url:
        instance: Huey = RedisHuey(QUEUE_NAME, url=settings.redis_url, results=False)
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        instance = SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "jobs.sqlite"), results=False)
    _tasks[instance] = {
        "read_receipt": instance.task(
            retries=RETRIES, retry_delay=RETRY_DELAY, timeout=TASK_TIMEOUT, context=True, name="read_receipt"
        )(_read_receipt_task),
        "sweep": instance.periodic_task(crontab(minute="*"), name="sweep_pending_ocr")(sweep_pending_ocr),
    }
    instance.on_startup(name="fresh_database_connections")(_fresh_connections)
    return instance


def get_huey() -> Huey:
    """The huey instance of the current settings (rebuilt when the data dir or Redis URL changes)."""
    global _instance, _instance_key
    key = _key(get_settings())
    if _instance is None or key != _instance_key:
        _instance, _instance_key = build_huey(get_settings()), key
    return _instance


def __getattr__(name: str) -> Any:
    if name == "huey":
        return get_huey()
    raise AttributeError(name)


def _fresh_connections() -> None:
    # A forked worker must not reuse the parent's pooled database connections.
    get_engine().dispose(close=False)


def _start_attempt(receipt_id: int) -> tuple[str, str] | None:
    """Count a reading started (committed before reading, so a worker killed by the file still counts it);
    the receipt's storage key and name, or None when it is gone or given up after MAX_ATTEMPTS."""
    with session_scope() as session:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            log.warning("OCR: receipt %s no longer exists", receipt_id)
            return None
        receipt.ocr_attempts += 1
        if receipt.ocr_attempts > MAX_ATTEMPTS and receipt.ocr_status == "pending":
            log.error("OCR: receipt %s given up after %d readings started", receipt_id, MAX_ATTEMPTS)
            record_reading(session, receipt_id, {"total": None, "error": GIVE_UP})
            return None
        return receipt.storage_key, receipt.original_name


def read_receipt(receipt_id: int) -> dict[str, Any] | None:
    """Read one receipt's total (OCR) and record it; None when the receipt no longer exists or is given up."""
    started = _start_attempt(receipt_id)
    if started is None:
        return None
    key, name = started
    data = receipt_store().get(key)
    reading = ocr.read(data, name, time_limit=OCR_TIME_LIMIT)
    result = reading.to_dict() | {"phash": ocr.perceptual_hash(data)}
    with session_scope() as session:
        record_reading(session, receipt_id, result)
    log.info(
        "OCR: receipt %s read: total %s, confidence %s, %.1f s",
        receipt_id,
        result["total"],
        result["confidence"],
        reading.seconds,
    )
    return {k: v for k, v in result.items() if k != "text"}


def _read_receipt_task(receipt_id: int, task: Task | None = None) -> dict[str, Any] | None:
    try:
        return read_receipt(receipt_id)
    except Exception:
        if task is not None and task.retries == 0:
            log.exception("OCR: receipt %s failed, no attempt left", receipt_id)
            _record_failure(receipt_id)
        raise


def _record_failure(receipt_id: int) -> None:
    try:
        with session_scope() as session:
            if session.get(Receipt, receipt_id) is not None:
                record_reading(session, receipt_id, {"total": None, "error": GIVE_UP})
    except Exception:
        log.exception("OCR: could not record the failure of receipt %s", receipt_id)


def enqueue_ocr(receipt_id: int) -> None:
    """Queue the OCR of a receipt (called after the commit that stored it)."""
    _tasks[get_huey()]["read_receipt"](receipt_id)


def _queued_receipt_ids(instance: Huey) -> set[int]:
    ids: set[int] = set()
    for task in instance.pending() + instance.scheduled():
        if task.name == "read_receipt" and task.args:
            ids.add(int(task.args[0]))
    return ids


def sweep_pending_ocr() -> int:
    """Queue again the receipts still pending well after upload (a lost enqueue); returns how many."""
    instance = get_huey()
    cutoff = utcnow() - timedelta(seconds=get_settings().ocr_sweep_after_seconds)
    with session_scope() as session:
        ids = list(
            session.scalars(
                select(Receipt.id)
                .where(Receipt.ocr_status == "pending", Receipt.created_at < cutoff)
                .order_by(Receipt.id)
                .limit(SWEEP_BATCH)
            )
        )
    if not ids:
        return 0
    queued = _queued_receipt_ids(instance)
    missing = [i for i in ids if i not in queued]
    for receipt_id in missing:
        enqueue_ocr(receipt_id)
    if missing:
        log.info("OCR sweep: %d pending receipt(s) queued again", len(missing))
    return len(missing)


def run_worker(workers: int = 2, *, block: bool = True, consumer_class: type[Consumer] = Consumer) -> Consumer:
    """Start a huey consumer with `workers` worker processes and the periodic sweep.

    With ``block=True`` it runs until SIGINT/SIGTERM (call from the main thread); otherwise it returns
    the started consumer, to be stopped with ``consumer.stop(graceful=True)``. ``consumer_class``: a
    subclass of huey's consumer (``core.ops.worker`` gives one whose processes die with it).
    """
    consumer = consumer_class(
        get_huey(), workers=workers, worker_type="process", periodic=True, check_worker_health=True
    )
    if block:
        consumer.run()
    else:
        consumer.start()
    return consumer
