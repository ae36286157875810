"""The mailer: delivers the outbox's "email" rows through the configured SMTP relay (aiosmtplib).

Each row is leased (core.outbox.claim), sent, then marked sent; a failure is retried with backoff.
Without a relay (``relay_host`` unset: the embedded default), each e-mail is written as an .eml file
in ``<data_dir>/mail-out/`` instead, so nothing is lost and the replies can be read.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import aiosmtplib

from core import outbox
from core.db import session_scope
from core.settings import Settings, get_settings
from mail_ingest.parsing import one_line  # header values without line breaks, which EmailMessage refuses

log = logging.getLogger(__name__)

CHANNEL = "email"
BATCH = 5  # x SEND_TIMEOUT stays within the outbox lease (2 min): no double sending
SEND_TIMEOUT = 20.0


@dataclass(frozen=True)
class OutgoingMail:
    id: int
    recipient: str
    subject: str
    text: str
    in_reply_to: str | None
    references: tuple[str, ...] = ()


def sender_address(settings: Settings) -> str:
    """Replies come from the (first) intake address, so an answer to them lands in the intake again."""
    addresses = settings.intake_address_list
    return addresses[0] if addresses else f"recus@{settings.intake_domain}"


def build_message(mail: OutgoingMail, settings: Settings) -> EmailMessage:
    sender = sender_address(settings)
    msg = EmailMessage()
    msg["From"] = f"Assistant Imag'in <{sender}>"
    msg["To"] = one_line(mail.recipient)
    msg["Subject"] = one_line(mail.subject) or "Imag'in"
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = f"<outbox-{mail.id}@{sender.split('@', 1)[-1]}>"  # stable: a resend is recognisable
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: no auto-answers to this
    if mail.in_reply_to:  # threaded under the message it answers (RFC 5322 section 3.6.4)
        msg["In-Reply-To"] = one_line(mail.in_reply_to)
        msg["References"] = one_line(" ".join(mail.references or (mail.in_reply_to,)))
    msg.set_content(mail.text)
    return msg


def _claim(limit: int) -> list[OutgoingMail]:
    with session_scope() as session:
        rows = outbox.claim(session, CHANNEL, limit)
        return [
            OutgoingMail(
                r.id,
                r.recipient,
                r.subject,
                r.text,
                (r.payload or {}).get("in_reply_to"),
                tuple((r.payload or {}).get("references") or ()),
            )
            for r in rows
        ]


def _mark_sent(message_id: int) -> None:
    with session_scope() as session:
        outbox.mark_sent(session, message_id)


def _mark_failed(message_id: int, error: str) -> None:
    with session_scope() as session:
        outbox.mark_failed(session, message_id, error)


def write_pickup(message: EmailMessage, mail_id: int, settings: Settings) -> Path:
    """Write an e-mail as ``<data_dir>/mail-out/<id>.eml`` (atomically: a reader never sees half a file)."""
    folder = settings.data_dir / "mail-out"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mail_id:06d}.eml"
    partial = path.with_suffix(".part")
    partial.write_bytes(message.as_bytes())
    os.replace(partial, path)
    return path


async def send_one(mail: OutgoingMail, settings: Settings) -> None:
    """Send one e-mail through the relay, or write it to the pickup folder when no relay is set."""
    message = build_message(mail, settings)
    if settings.relay_host is None:
        path = await asyncio.to_thread(write_pickup, message, mail.id, settings)
        log.info("no IMAGIN_RELAY_HOST: e-mail to %s written to %s", mail.recipient, path)
        return
    password = settings.relay_password.get_secret_value() if settings.relay_password else None
    await aiosmtplib.send(
        message,
        hostname=settings.relay_host,
        port=settings.relay_port,
        start_tls=settings.relay_starttls,
        username=settings.relay_user,
        password=password,
        timeout=SEND_TIMEOUT,
    )


async def deliver_due(settings: Settings | None = None) -> int:
    """Send every due e-mail of the outbox once; returns how many were attempted."""
    settings = settings or get_settings()
    batch = await asyncio.to_thread(_claim, BATCH)
    for mail in batch:
        try:
            await send_one(mail, settings)
        except Exception as exc:  # noqa: BLE001 - relay down, refused...: retried with backoff
            log.warning("outbox %s to %s not sent: %s", mail.id, mail.recipient, exc)
            await asyncio.to_thread(_mark_failed, mail.id, f"{type(exc).__name__}: {exc}")
            continue
        await asyncio.to_thread(_mark_sent, mail.id)
    return len(batch)


async def run_mailer(stop: asyncio.Event, wake: asyncio.Event | None = None, poll_seconds: float = 2.0) -> None:
    """Deliver e-mail outbox rows until ``stop`` is set (woken early by ``wake``)."""
    wake = wake or asyncio.Event()
    while not stop.is_set():
        wake.clear()
        try:
            sent = await deliver_due()
        except Exception:  # noqa: BLE001 - database unavailable: try again later
            log.exception("mailer: claiming failed")
            sent = 0
        if sent:
            continue
        waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
        _, pending = await asyncio.wait(waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        for w in pending:
            w.cancel()
