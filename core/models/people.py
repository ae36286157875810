"""People: intervenants (with their e-mail addresses) and staff (DEC, chefs de centre)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Created


class Intervenant(Base):
    """An exam intervenant, as known from the convocation export."""

    __tablename__ = "intervenants"
    id: Mapped[int] = mapped_column(primary_key=True)
    numero: Mapped[str] = mapped_column(String(32), unique=True)  # Numéro Intervenant
    imagin_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # identifiant Imag'in
    civility: Mapped[str] = mapped_column(String(8), default="")
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120), default="")
    residence_commune: Mapped[str] = mapped_column(String(120), default="")
    rqth: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    intake_token: Mapped[str] = mapped_column(String(32), unique=True)  # personal plus-address token
    created_at: Mapped[Created]

    emails: Mapped[list[IntervenantEmail]] = relationship(
        back_populates="intervenant", cascade="all, delete-orphan", order_by="IntervenantEmail.id"
    )

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.civility, self.first_name, self.last_name) if p)


class IntervenantEmail(Base):
    __tablename__ = "intervenant_emails"
    id: Mapped[int] = mapped_column(primary_key=True)
    intervenant_id: Mapped[int] = mapped_column(ForeignKey("intervenants.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    intervenant: Mapped[Intervenant] = relationship(back_populates="emails")


class StaffRole(StrEnum):
    GESTIONNAIRE = "gestionnaire"  # DEC
    CHEF_CENTRE = "chef_centre"


class StaffUser(Base):
    """A DEC gestionnaire or a chef de centre (limited to their centre)."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[StaffRole] = mapped_column(String(20))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Created]


class LoginAttempt(Base):
    """A failed login, kept for throttling (per chat/IP and per identifier)."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)  # e.g. "chat:123", "id:N12345"
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
