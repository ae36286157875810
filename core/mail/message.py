"""Plain data describing one inbound e-mail once parsed (filled by mail_ingest, used by core.mail.intake)."""

from __future__ import annotations

from dataclasses import dataclass, field

TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
TNEF_MAGIC = b"\x78\x9f\x3e\x22"


@dataclass(frozen=True)
class IncomingFile:
    """One leaf MIME part that may be a receipt (labels are as sent: never trusted for the type)."""

    position: int
    filename: str | None
    declared_type: str
    disposition: str | None  # "attachment", "inline" or None
    content_id: str | None
    forwarded: bool  # found inside a forwarded message/rfc822 part
    data: bytes

    @property
    def is_tnef(self) -> bool:
        """Outlook's winmail.dat (TNEF): the real attachments are packed inside."""
        return self.declared_type in TNEF_TYPES or self.data.startswith(TNEF_MAGIC)


@dataclass(frozen=True)
class IncomingMail:
    """The parts of an inbound message the intake pipeline needs."""

    message_id: str
    from_address: str | None
    from_name: str | None
    recipients: tuple[str, ...]  # header recipients (To, Cc, Delivered-To, X-Original-To)
    subject: str
    body_text: str
    auth_failures: tuple[str, ...]  # e.g. ("dmarc=fail",) from the relay's Authentication-Results
    automatic: bool  # bounce, auto-reply, bulk or list mail: never answered
    files: tuple[IncomingFile, ...]
    defects: tuple[str, ...] = field(default=())
    structure_broken: bool = False  # the MIME structure could not be followed
    incomplete: bool = False  # too many parts or nesting levels: some parts were not read
    auth_passes: tuple[str, ...] = ()  # e.g. ("spf=pass", "dkim=pass") from the trusted relay only
    references: tuple[str, ...] = ()  # the thread's message ids (References, else In-Reply-To)
