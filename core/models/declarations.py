"""The état de frais de mission (EFM): declaration, trips, service fait, flags and DEC decisions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Created, utcnow
from core.models.missions import Convocation
from core.statuses import PartStatus


class EtatDeFrais(Base):
    """One per convocation: the intervenant's declaration and the two part statuses."""

    __tablename__ = "etats_de_frais"
    id: Mapped[int] = mapped_column(primary_key=True)
    convocation_id: Mapped[int] = mapped_column(ForeignKey("convocations.id"), unique=True)
    pay_status: Mapped[PartStatus] = mapped_column(String(24), index=True)
    travel_status: Mapped[PartStatus] = mapped_column(String(24), index=True)
    pay_status_before_cancel: Mapped[PartStatus | None] = mapped_column(String(24))
    travel_status_before_cancel: Mapped[PartStatus | None] = mapped_column(String(24))
    # Declaration (entered by the intervenant)
    service_done: Mapped[bool | None] = mapped_column(Boolean)
    copies: Mapped[int | None] = mapped_column(Integer)
    candidates: Mapped[int | None] = mapped_column(Integer)
    practical_minutes: Mapped[int | None] = mapped_column(Integer)
    departure_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_at: Mapped[datetime | None] = mapped_column(DateTime)
    nights: Mapped[int] = mapped_column(Integer, default=0)
    lodging_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    meals: Mapped[int | None] = mapped_column(Integer)  # meals claimed (None: not answered)
    admin_meals: Mapped[int] = mapped_column(Integer, default=0)  # of which at an administrative restaurant
    car_fiscal_hp: Mapped[int | None] = mapped_column(Integer)
    car_yearly_km: Mapped[int | None] = mapped_column(Integer)
    receipts_total: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # declared total of receipts
    receipts_by_email: Mapped[bool] = mapped_column(Boolean, default=False)
    # Lifecycle
    dossier_number: Mapped[str | None] = mapped_column(String(24), unique=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    created_at: Mapped[Created]
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    convocation: Mapped[Convocation] = relationship()
    trips: Mapped[list[Trip]] = relationship(
        back_populates="efm", cascade="all, delete-orphan", order_by="(Trip.depart_at, Trip.id)"
    )
    flags: Mapped[list[Flag]] = relationship(back_populates="efm", cascade="all, delete-orphan")
    service_fait: Mapped[ServiceFait | None] = relationship(back_populates="efm", uselist=False)


class Trip(Base):
    """One trip line: departure date/time and city, arrival date/time and city."""

    __tablename__ = "trips"
    id: Mapped[int] = mapped_column(primary_key=True)
    efm_id: Mapped[int] = mapped_column(ForeignKey("etats_de_frais.id", ondelete="CASCADE"), index=True)
    depart_at: Mapped[datetime] = mapped_column(DateTime)
    depart_city: Mapped[str] = mapped_column(String(120))
    arrive_at: Mapped[datetime] = mapped_column(DateTime)
    arrive_city: Mapped[str] = mapped_column(String(120))
    mode: Mapped[str] = mapped_column(String(20), default="transport_public")  # or voiture, taxi, autre
    distance_km: Mapped[int] = mapped_column(Integer, default=0)  # for a personal car
    efm: Mapped[EtatDeFrais] = relationship(back_populates="trips")


class ServiceFait(Base):
    """The chef de centre's attestation that the mission was (or was not) done."""

    __tablename__ = "service_fait"
    id: Mapped[int] = mapped_column(primary_key=True)
    efm_id: Mapped[int] = mapped_column(ForeignKey("etats_de_frais.id", ondelete="CASCADE"), unique=True)
    done: Mapped[bool] = mapped_column(Boolean)
    attested_by: Mapped[str] = mapped_column(String(120))  # actor, e.g. "staff:3"
    source: Mapped[str] = mapped_column(String(20))  # bot, console, csv
    attested_at: Mapped[Created]
    efm: Mapped[EtatDeFrais] = relationship(back_populates="service_fait")


class Flag(Base):
    """A pre-check finding shown to the DEC (derived; recomputed on every change)."""

    __tablename__ = "flags"
    id: Mapped[int] = mapped_column(primary_key=True)
    efm_id: Mapped[int] = mapped_column(ForeignKey("etats_de_frais.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10), default="warning")  # info | warning | blocking
    message: Mapped[str] = mapped_column(Text)  # French, plain
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[Created]
    efm: Mapped[EtatDeFrais] = relationship(back_populates="flags")


class Decision(Base):
    """A DEC decision on one part of a dossier."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    efm_id: Mapped[int] = mapped_column(ForeignKey("etats_de_frais.id", ondelete="CASCADE"), index=True)
    part: Mapped[str] = mapped_column(String(10))  # pay | travel
    action: Mapped[str] = mapped_column(String(20))  # validate | reject | request_info | ...
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[Created]
