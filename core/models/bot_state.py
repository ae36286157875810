"""The bot's conversation state (aiogram FSM and dialog stacks), kept so a restart resumes chats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, utcnow


class BotState(Base):
    """One FSM storage key: its state name and its data (JSON)."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
