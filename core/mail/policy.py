"""Who the intake answers, and how often: replies only where they are wanted (never backscatter, never a loop).

An answer goes to an address the académie knows (an intervenant's or a staff member's), or to a sender whose
address the relay in front vouched for (SPF or DKIM pass in its Authentication-Results); never to automatic,
bulk or list mail, the null sender or the service's own addresses (RFC 3834); at most
``mail_replies_per_hour`` per address. Other mail is kept for the DEC without an answer.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.mail.message import IncomingMail
from core.models import IntervenantEmail, OutboxMessage, StaffUser, utcnow
from core.settings import get_settings

log = logging.getLogger(__name__)

REPLY_KIND = "mail_reply"


def is_service_address(address: str) -> bool:
    """One of the intake's own addresses (or a personal plus-address on its domain): mail from it is ours."""
    settings = get_settings()
    domain = address.rpartition("@")[2]
    intake_domains = {a.rpartition("@")[2] for a in settings.intake_address_list} | {settings.intake_domain.lower()}
    return address in settings.intake_address_list or domain in intake_domains


def is_known_address(session: Session, address: str) -> bool:
    """An address the académie has on record (an intervenant's, a staff member's)."""
    if session.scalar(select(IntervenantEmail.id).where(IntervenantEmail.address == address).limit(1)) is not None:
        return True
    return session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == address).limit(1)) is not None


def null_sender(envelope_from: str, source: str) -> bool:
    """The SMTP null sender ``<>`` (bounces, reports): never answered."""
    return source == "smtp" and envelope_from.strip() in ("", "<>")


def within_rate(session: Session, address: str) -> bool:
    """Fewer than ``mail_replies_per_hour`` answers went to this address in the last hour."""
    since = utcnow() - timedelta(hours=1)
    sent = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == REPLY_KIND, OutboxMessage.recipient == address, OutboxMessage.created_at >= since)
    )
    return (sent or 0) < get_settings().mail_replies_per_hour


def reply_address(
    session: Session,
    *,
    sender: str | None,
    parsed: IncomingMail | None,
    envelope_from: str,
    source: str,
    fallback: str | None = None,
) -> str | None:
    """Where the answer to a message may go, or None (kept for the DEC without an answer).

    ``sender``: the message's sender address; ``fallback``: the matched person's address on record, used
    when the sender is neither known nor vouched for."""
    if parsed is not None and parsed.automatic:
        return None
    if null_sender(envelope_from, source):
        return None
    target = None
    if sender and not is_service_address(sender):
        vouched = parsed is not None and bool(parsed.auth_passes) and not parsed.auth_failures
        if is_known_address(session, sender) or vouched:
            target = sender
    if target is None and fallback and not is_service_address(fallback):
        target = fallback
    if target is None:
        return None
    if not within_rate(session, target):
        log.warning(
            "no reply to %s: more than %s answers within the hour", target, get_settings().mail_replies_per_hour
        )
        return None
    return target
