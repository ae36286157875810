"""Who is chatting: the person linked to the Telegram account, loaded for every update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.orm import Session

from bot.services import run_db
from core import accounts
from core.models import Intervenant, StaffRole


@dataclass(frozen=True)
class Identity:
    """The linked person: an intervenant, or a staff user (chef de centre, gestionnaire)."""

    kind: str  # "intervenant" | "staff"
    person_id: int
    name: str
    role: str | None = None  # staff role
    centre_id: int | None = None

    @property
    def actor(self) -> str:
        """The audit actor string, as core expects it."""
        return f"{self.kind}:{self.person_id}"

    @property
    def is_chef(self) -> bool:
        return self.kind == "staff" and self.role in (StaffRole.CHEF_CENTRE, StaffRole.GESTIONNAIRE)


def load_identity(session: Session, telegram_user_id: int) -> Identity | None:
    person = accounts.person_for_telegram(session, telegram_user_id)
    if person is None:
        return None
    if isinstance(person, Intervenant):
        return Identity("intervenant", person.id, person.display_name)
    return Identity("staff", person.id, person.full_name, str(person.role), person.centre_id)


class IdentityMiddleware(BaseMiddleware):
    """Outer middleware: puts `identity` (Identity | None) in the handler data."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        data["identity"] = await run_db(load_identity, user.id) if user else None
        return await handler(event, data)
