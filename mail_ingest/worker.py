"""The pipeline worker: processes ledger rows in state "received" (new, to retry, or left by a crash)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from core.mail import intake as mail_intake
from core.mail import ledger as mail_ledger
from core.settings import get_settings
from mail_ingest.parsing import parse_message

log = logging.getLogger(__name__)

BATCH = 10


def trusted_authserv_ids() -> frozenset[str]:
    raw = get_settings().mail_trusted_authserv_ids
    return frozenset(a.strip().lower() for a in raw.split(",") if a.strip())


def process_one(mail_id: int) -> None:
    """Parse and process one claimed message; a failure is recorded for a later retry, never raised."""
    try:
        raw = mail_ledger.load_raw(mail_id)
        try:
            parsed = parse_message(raw, trusted_authserv_ids=trusted_authserv_ids())
            error = None
            if parsed.defects:
                log.info("mail %s has MIME defects: %s", mail_id, ", ".join(parsed.defects))
        except Exception as exc:  # noqa: BLE001 - unparseable input is quarantined, not retried
            log.warning("mail %s could not be parsed: %s", mail_id, exc)
            parsed, error = None, f"{type(exc).__name__}: {exc}"
        state = mail_intake.process(mail_id, parsed, error)
        log.info("mail %s -> %s", mail_id, state)
    except Exception as exc:  # noqa: BLE001 - the worker never dies on one message
        log.exception("mail %s processing failed", mail_id)
        try:
            mail_ledger.record_failure(mail_id, f"{type(exc).__name__}: {exc}")
        except Exception:  # noqa: BLE001 - the lease expires and the message is retried
            log.exception("could not record the failure of mail %s", mail_id)


def process_due(limit: int = BATCH) -> int:
    """Claim and process up to ``limit`` due messages; returns how many were handled."""
    ids = mail_ledger.claim_due(limit)
    for mail_id in ids:
        process_one(mail_id)
    return len(ids)


class PipelineWorker:
    """Runs ``process_due`` in a thread whenever woken (a message was stored) or every ``poll_seconds``.

    While deliveries are coming in (``busy()``), processing yields to them: taking messages in is what
    must stay fast; they are safely stored and processed right after, or at least one every
    ``MAX_DEFER`` seconds during a long burst.
    """

    BUSY_PAUSE = 0.1
    MAX_DEFER = 2.0

    def __init__(
        self,
        poll_seconds: float = 5.0,
        on_processed: Callable[[], None] = lambda: None,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.poll_seconds = poll_seconds
        self.on_processed = on_processed  # e.g. wake the mailer: answers are waiting in the outbox
        self.busy = busy
        self.wake = asyncio.Event()

    def notify(self, *_args: object) -> None:
        """Wake the worker (safe from the event loop's thread)."""
        self.wake.set()

    async def _yield_to_deliveries(self, stop: asyncio.Event) -> int:
        """Wait while deliveries are busy (bounded); returns how many messages to take next."""
        waited = 0.0
        while self.busy() and waited < self.MAX_DEFER and not stop.is_set():
            await asyncio.sleep(self.BUSY_PAUSE)
            waited += self.BUSY_PAUSE
        return 1 if self.busy() else BATCH

    async def run(self, stop: asyncio.Event) -> None:
        released = await asyncio.to_thread(mail_ledger.release_stale)
        if released:
            log.info("picked up %s message(s) left in processing by a previous run", released)
        while not stop.is_set():
            self.wake.clear()
            limit = await self._yield_to_deliveries(stop)
            try:
                handled = await asyncio.to_thread(process_due, limit)
            except Exception:  # noqa: BLE001 - database down: wait and retry
                log.exception("pipeline worker: claiming failed")
                handled = 0
            if handled:
                self.on_processed()
                continue
            waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
            _, pending = await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for w in pending:
                w.cancel()
