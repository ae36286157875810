"""Centres, exams (with their session and pay group), missions and convocations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Created
from core.models.people import Intervenant


class MissionType(StrEnum):
    CORRECTION = "correction"  # copies corrected
    ORAL = "oral"  # candidates examined
    PRATIQUE = "pratique"  # hours of practical exam
    JURY = "jury"  # deliberation jury: no quantity

    @property
    def label(self) -> str:
        return {
            "correction": "Correction de copies",
            "oral": "Interrogation orale",
            "pratique": "Épreuve pratique",
            "jury": "Jury de délibération",
        }[self.value]

    @property
    def quantity_field(self) -> str | None:
        """The declaration field this mission type asks for, if any."""
        return {"correction": "copies", "oral": "candidates", "pratique": "practical_minutes"}.get(self.value)


class Centre(Base):
    __tablename__ = "centres"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # e.g. 06112932
    name: Mapped[str] = mapped_column(String(200))
    commune: Mapped[str] = mapped_column(String(120), default="")
    lodging_zone: Mapped[str] = mapped_column(String(20), default="standard")  # standard|grande_ville|paris

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


class Exam(Base):
    """An exam in a session; its pay group is académie data (None: no pay, 'NR' or ECA)."""

    __tablename__ = "exams"
    __table_args__ = (UniqueConstraint("code", "session"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    session: Mapped[str] = mapped_column(String(80))  # e.g. "Session juin 2026"
    rate_group: Mapped[str | None] = mapped_column(String(4))  # per copy: T1..T5, None = no pay
    hourly_rate_group: Mapped[str | None] = mapped_column(String(4))  # orals/practicals (default: rate_group)
    oral_minutes_per_candidate: Mapped[int | None] = mapped_column(Integer)


class Mission(Base):
    __tablename__ = "missions"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey("exams.id"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    mission_type: Mapped[MissionType] = mapped_column(String(16))
    speciality: Mapped[str] = mapped_column(String(200), default="")
    epreuve: Mapped[str] = mapped_column(String(200), default="")  # épreuve / option
    start_at: Mapped[datetime] = mapped_column(DateTime)
    duration_days: Mapped[int] = mapped_column(Integer, default=1)
    has_pay_part: Mapped[bool] = mapped_column(Boolean, default=True)
    has_travel_part: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Created]

    exam: Mapped[Exam] = relationship()
    centre: Mapped[Centre] = relationship()


class Convocation(Base):
    """An intervenant convoked to a mission; its état de frais is created with it."""

    __tablename__ = "convocations"
    __table_args__ = (UniqueConstraint("intervenant_id", "mission_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    intervenant_id: Mapped[int] = mapped_column(ForeignKey("intervenants.id"), index=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id"), index=True)
    expected_quantity: Mapped[int | None] = mapped_column(Integer)  # copies/candidates/hours convoked
    created_at: Mapped[Created]

    intervenant: Mapped[Intervenant] = relationship()
    mission: Mapped[Mission] = relationship()
