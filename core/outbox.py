"""The outbox: notifications written with the change that caused them, delivered once.

Deliverers (bot, mailer) ``claim`` due rows (a lease, so two processes never send the same row),
then ``mark_sent`` or ``mark_failed`` (retried later with backoff; after MAX_ATTEMPTS, failed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import leases
from core.models import Intervenant, OutboxMessage, utcnow

MAX_ATTEMPTS = 12
LEASE = timedelta(minutes=2)


def enqueue(
    session: Session,
    *,
    channel: str,
    recipient: str,
    kind: str,
    text: str,
    subject: str = "",
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Add a notification; a row with the same ``dedupe_key`` already there makes this a no-op."""
    if dedupe_key is not None:
        existing = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    msg = OutboxMessage(
        channel=channel,
        recipient=recipient,
        kind=kind,
        subject=subject,
        text=text,
        payload=payload,
        dedupe_key=dedupe_key,
    )
    try:
        with session.begin_nested():
            session.add(msg)
    except IntegrityError:
        return None
    return msg


def notify_intervenant(
    session: Session,
    person: Intervenant,
    *,
    kind: str,
    text: str,
    subject: str,
    dedupe_key: str | None = None,
    email: bool = True,
) -> int:
    """Tell an intervenant in the chat (if linked) and, if ``email``, at their first address.

    Returns how many messages were queued (0 when already queued under the same ``dedupe_key``).
    """
    queued = 0
    if person.telegram_user_id is not None:
        queued += (
            enqueue(
                session,
                channel="telegram",
                recipient=str(person.telegram_user_id),
                kind=kind,
                text=text,
                dedupe_key=f"{dedupe_key}:tg" if dedupe_key else None,
            )
            is not None
        )
    if email and person.emails:
        queued += (
            enqueue(
                session,
                channel="email",
                recipient=person.emails[0].address,
                kind=kind,
                text=text,
                subject=subject,
                dedupe_key=f"{dedupe_key}:mail" if dedupe_key else None,
            )
            is not None
        )
    return queued


def claim(session: Session, channel: str, limit: int = 50) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages of ``channel`` to the caller (commit to publish the lease)."""
    now = utcnow()
    due = and_(
        OutboxMessage.channel == channel,
        OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
    )
    ids = leases.claim(session, OutboxMessage.id, due, limit=limit, lease=LEASE, now=now)
    mine = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    return list(session.scalars(mine)) if ids else []


def mark_sent(session: Session, message_id: int) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="sent", sent_at=utcnow(), locked_until=None)
    )


def mark_failed(session: Session, message_id: int, error: str, retry_after: float | None = None) -> None:
    """Record a failed attempt; retry later (``retry_after`` seconds, else exponential backoff)."""
    msg = session.get(OutboxMessage, message_id)
    if msg is None:
        return
    msg.attempts += 1
    msg.last_error = error[:2000]
    msg.locked_until = None
    delay = retry_after if retry_after is not None else min(2**msg.attempts, 3600)
    msg.next_attempt_at = utcnow() + timedelta(seconds=delay)
    if msg.attempts >= MAX_ATTEMPTS and retry_after is None:
        msg.status = "failed"
