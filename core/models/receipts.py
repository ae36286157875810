"""Receipts (justificatifs): file metadata, where they came from, and their OCR reading."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Created
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
