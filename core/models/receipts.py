"""Receipts (justificatifs): file metadata, where they came from, their OCR reading, and their line."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, Numeric, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Created, utcnow
from core.models.declarations import EtatDeFrais


class Receipt(Base):
    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("efm_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    efm_id: Mapped[int] = mapped_column(ForeignKey("etats_de_frais.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    detected_type: Mapped[str] = mapped_column(String(40))  # MIME type sniffed from the bytes
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10))  # chat | email | console
    source_ref: Mapped[str] = mapped_column(String(255), default="")  # chat message id, mail ledger id
    storage_key: Mapped[str] = mapped_column(String(80))
    # The file as sent, when what is stored was made from it (HEIC converted, large photo made smaller)
    original_key: Mapped[str | None] = mapped_column(String(80))
    original_type: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[Created]
    # OCR reading (never overwrites the declaration)
    ocr_status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | done | failed
    ocr_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    ocr_currency: Mapped[str | None] = mapped_column(String(8))
    ocr_date: Mapped[date | None] = mapped_column(Date)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    ocr_engine: Mapped[str | None] = mapped_column(String(8))
    ocr_pages: Mapped[int | None] = mapped_column(Integer)
    ocr_seconds: Mapped[float | None] = mapped_column(Float)
    ocr_error: Mapped[str | None] = mapped_column(Text)
    ocr_at: Mapped[datetime | None] = mapped_column(DateTime)
    ocr_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # readings started
    phash: Mapped[str | None] = mapped_column(String(64), index=True)

    efm: Mapped[EtatDeFrais] = relationship()
    line: Mapped[ReceiptLine | None] = relationship(
        back_populates="receipt", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )


class LineKind(StrEnum):
    """What a receipt is (what it pays is data: ``receipt_kinds`` in config/rules.toml)."""

    TRAIN = "train"
    COACH = "coach"
    BUS = "bus"
    TAXI = "taxi"
    FUEL = "fuel"
    TOLL = "toll"
    PARKING = "parking"
    CAR_HIRE = "car_hire"
    PLANE = "plane"
    LODGING = "lodging"
    MEAL = "meal"
    OTHER = "other"


class LineState(StrEnum):
    PENDING = "pending"  # the reading has not arrived
    PROPOSED = "proposed"  # filled by the reading, not confirmed yet
    CONFIRMED = "confirmed"  # the intervenant accepted what was read
    CORRECTED = "corrected"  # the intervenant changed the kind or the amount


class ReceiptLine(Base):
    """One receipt as an expense line: what it is, its amount (read and confirmed), date, merchant, trip."""

    __tablename__ = "receipt_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"), unique=True)
    state: Mapped[LineState] = mapped_column(String(10), default=LineState.PENDING)
    kind: Mapped[LineKind | None] = mapped_column(String(12))  # None: not known yet
    kind_read: Mapped[LineKind | None] = mapped_column(String(12))  # as the reading proposed it
    kind_confidence: Mapped[float | None] = mapped_column(Float)
    amount_read: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    amount_confirmed: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    spent_on: Mapped[date | None] = mapped_column(Date)  # the receipt's date
    spent_at: Mapped[time | None] = mapped_column(Time)  # its time, when printed (meals)
    merchant: Mapped[str | None] = mapped_column(String(200))
    from_city: Mapped[str | None] = mapped_column(String(120))  # a ticket's cities and travel date
    to_city: Mapped[str | None] = mapped_column(String(120))
    travel_date: Mapped[date | None] = mapped_column(Date)
    nights: Mapped[int | None] = mapped_column(Integer)  # a hotel invoice's nights, when known
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    receipt: Mapped[Receipt] = relationship(back_populates="line")

    @property
    def settled(self) -> bool:
        """Confirmed or corrected by the intervenant."""
        return self.state in (LineState.CONFIRMED, LineState.CORRECTED)

    @property
    def amount(self) -> Decimal | None:
        """The confirmed amount, else the one read."""
        return self.amount_confirmed if self.amount_confirmed is not None else self.amount_read
