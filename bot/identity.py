"""Who is chatting: the person linked to the Telegram account, for every update.

A linked person is kept for a few seconds per Telegram account (`IDENTITY_TTL`): a conversation sends
an update every few seconds, and looking the link up for each of them was one database round trip per
update. Linking and unlinking through this bot forget the kept identities at once; a change made
elsewhere (another bot process, the console) is seen within `IDENTITY_TTL`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.orm import Session

from bot.services import run_db
from core import accounts
from core.models import Intervenant, StaffRole

IDENTITY_TTL = 10.0  # seconds a linked identity is reused without asking the database again


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
    """Outer middleware: puts `identity` (Identity | None) in the handler data, and itself as `identities`."""

    def __init__(self, ttl: float = IDENTITY_TTL) -> None:
        self.ttl = ttl
        self._kept: dict[int, tuple[float, Identity]] = {}  # Telegram user id -> (expiry, identity)

    async def lookup(self, telegram_user_id: int) -> Identity | None:
        """The linked person, from the database unless looked up less than `ttl` seconds ago."""
        now = time.monotonic()
        kept = self._kept.get(telegram_user_id)
        if kept is not None and kept[0] > now:
            return kept[1]
        identity = await run_db(load_identity, telegram_user_id)
        if identity is None:  # unlinked accounts are not kept: linking must show at once everywhere
            self._kept.pop(telegram_user_id, None)
        else:
            if len(self._kept) > 10_000:
                self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
            self._kept[telegram_user_id] = (now + self.ttl, identity)
        return identity

    def forget(self) -> None:
        """Drop every kept identity (after a link or an unlink: it may move an account to another person)."""
        self._kept.clear()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        data["identities"] = self
        data["identity"] = await self.lookup(user.id) if user else None
        return await handler(event, data)


def forget_identities(data: dict[str, Any]) -> None:
    """After linking or unlinking: forget the identities kept by the middleware of this update."""
    identities: IdentityMiddleware | None = data.get("identities")
    if identities is not None:
        identities.forget()
