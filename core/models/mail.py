"""Inbound mail ledger: one row per distinct message received, one row per candidate attachment."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Created


class MailState(StrEnum):
    RECEIVED = "received"  # stored durably, not processed yet (or to be retried)
    PROCESSING = "processing"  # claimed by a worker (lease in locked_until)
    PROCESSED = "processed"  # matched; attachments accepted or rejected
    QUARANTINED = "quarantined"  # kept for the DEC: unknown sender, ambiguous mission, unreadable...
    FAILED = "failed"  # processing kept failing: kept for the DEC


class AttachmentState(StrEnum):
    PENDING = "pending"  # not decided yet (or a failed step to retry)
    ACCEPTED = "accepted"  # stored as a receipt of the matched mission
    REJECTED = "rejected"  # not a receipt (type, size): reason says why
    IGNORED = "ignored"  # decoration (signature logo, tiny inline image)
    HELD = "held"  # message quarantined: waits for the DEC to assign a mission


class InboundMail(Base):
    """A received message: keyed on Message-ID plus content hash, raw bytes in the mail file store."""

    __tablename__ = "inbound_mail"
    __table_args__ = (
        UniqueConstraint("message_id", "content_sha256"),
        Index("ix_inbound_mail_state_due", "state", "next_attempt_at"),
        Index("ix_inbound_mail_imap", "imap_account", "imap_folder", "imap_uidvalidity", "imap_uid"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255))  # as sent, '' when missing
    content_sha256: Mapped[str] = mapped_column(String(64))  # of the message minus transport headers
    raw_key: Mapped[str] = mapped_column(String(64))  # mail file store key (SHA-256 of the raw bytes)
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(8))  # smtp | imap
    envelope_from: Mapped[str] = mapped_column(String(320), default="")
    envelope_to: Mapped[str] = mapped_column(Text, default="")  # comma-separated RCPT TO addresses
    peer: Mapped[str] = mapped_column(String(100), default="")  # SMTP client address
    imap_account: Mapped[str | None] = mapped_column(String(320))
    imap_folder: Mapped[str | None] = mapped_column(String(255))
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    imap_uid: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[Created]
    state: Mapped[MailState] = mapped_column(String(12), default=MailState.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    locked_by: Mapped[str | None] = mapped_column(String(120))  # "host:pid" of the worker holding the lease
    last_error: Mapped[str | None] = mapped_column(Text)
    # Filled by processing
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500), default="")
    intervenant_id: Mapped[int | None] = mapped_column(ForeignKey("intervenants.id"), index=True)
    efm_id: Mapped[int | None] = mapped_column(ForeignKey("etats_de_frais.id"), index=True)
    match_evidence: Mapped[str] = mapped_column(String(40), default="")  # personal_address | sender | dec
    quarantine_reason: Mapped[str | None] = mapped_column(Text)  # French, shown to the DEC
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)

    attachments: Mapped[list[MailAttachment]] = relationship(
        back_populates="mail", cascade="all, delete-orphan", order_by="MailAttachment.position"
    )


class MailAttachment(Base):
    """One candidate file of a message, with its own state so a failed step can be retried."""

    __tablename__ = "mail_attachments"
    __table_args__ = (UniqueConstraint("mail_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("inbound_mail.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order in the message, from 1
    filename: Mapped[str] = mapped_column(String(255), default="")
    declared_type: Mapped[str] = mapped_column(String(100), default="")
    detected_type: Mapped[str | None] = mapped_column(String(40))  # sniffed from the bytes
    forwarded: Mapped[bool] = mapped_column(default=False)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[AttachmentState] = mapped_column(String(10), default=AttachmentState.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)  # French: why rejected / ignored
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id", ondelete="SET NULL"))
    created_at: Mapped[Created]

    mail: Mapped[InboundMail] = relationship(back_populates="attachments")
