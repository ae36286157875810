"""Run the e-mail intake: SMTP server, IMAP poller (if configured), pipeline worker and mailer."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.settings import get_settings
from mail_ingest.imap_poller import ImapPoller
from mail_ingest.mailer import run_mailer
from mail_ingest.smtp_server import IntakeHandler, start_smtp_server
from mail_ingest.worker import PipelineWorker

log = logging.getLogger(__name__)


async def run_mail(stop_event: asyncio.Event, *, smtp: bool = True) -> None:
    """Serve until ``stop_event`` is set (``imagin run`` and ``python -m mail_ingest`` call this)."""
    settings = get_settings()
    smtp = smtp and settings.smtp_port > 0  # IMAGIN_SMTP_PORT=0: IMAP intake only
    mailer_wake = asyncio.Event()
    handler = IntakeHandler(settings.intake_address_list)
    worker = PipelineWorker(on_processed=mailer_wake.set, busy=handler.busy if smtp else lambda: False)
    handler.on_stored = worker.notify
    tasks = [
        asyncio.create_task(worker.run(stop_event), name="mail-pipeline"),
        asyncio.create_task(run_mailer(stop_event, mailer_wake), name="mail-mailer"),
    ]
    server = None
    try:
        if smtp:
            server = await start_smtp_server(handler, settings, settings.smtp_host, settings.smtp_port)
        if settings.imap_host:
            loop = asyncio.get_running_loop()
            poller = ImapPoller(settings, on_stored=lambda _r: loop.call_soon_threadsafe(worker.notify))
            tasks.append(asyncio.create_task(poller.run(stop_event), name="mail-imap"))
        await stop_event.wait()
    finally:
        stop_event.set()  # also when starting failed (port in use...): the other tasks end too
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=5)
        await asyncio.to_thread(handler.close)
        for task in tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        log.info("mail intake stopped")
