"""In-memory world of the Bot API emulator: chats, messages, files, pending updates.

Everything is kept in Telegram's wire format (plain dicts) so the HTTP layer only
serialises. One `EmulatorState` serves one bot.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

BOT_USER: dict[str, Any] = {
    "id": 700000001,
    "is_bot": True,
    "first_name": "Imag'in",
    "username": "imagin_emulated_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

_TAG = re.compile(r"<[^>]+>")


def plain_text(text: str, parse_mode: str | None) -> str:
    """Text as a Telegram client shows it (markup removed)."""
    if parse_mode and parse_mode.upper() == "HTML":
        return html.unescape(_TAG.sub("", text))
    return text


@dataclass
class StoredFile:
    """A file known to the emulator (uploaded by a user or sent by the bot)."""

    file_id: str
    file_unique_id: str
    name: str
    data: bytes
    mime_type: str | None

    @property
    def path(self) -> str:
        return f"documents/{self.file_unique_id}/{self.name}"


@dataclass
class ChatLog:
    """One private chat: its messages in order and a version bumped on every change."""

    user: dict[str, Any]
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    version: int = 0


@dataclass
class FloodRule:
    """Next `count` Bot API calls (of `methods`, or any) answer 429 with `retry_after`."""

    count: int
    retry_after: int
    methods: frozenset[str] | None


class EmulatorState:
    """All mutable emulator data plus the condition variables that wake long pollers."""

    def __init__(self) -> None:
        self.chats: dict[int, ChatLog] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.pending: list[dict[str, Any]] = []
        # like Telegram's, update ids keep growing across restarts (the bot drops ids it has seen)
        self.update_ids = itertools.count(time.time_ns() // 1000)
        self.callback_ids = itertools.count(1)
        self.webhook: dict[str, Any] | None = None
        self.flood: list[FloodRule] = []
        self.calls: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.changed = asyncio.Condition()
        self.acks: dict[int, asyncio.Future[bool]] = {}
        self.closing = False

    async def close(self) -> None:
        """Release every long poll at once (server shutdown)."""
        self.closing = True
        async with self.changed:
            self.changed.notify_all()

    # ---- chats -------------------------------------------------------------
    def chat(self, user_id: int, first_name: str | None = None) -> ChatLog:
        """The chat of `user_id`, created on first use."""
        log = self.chats.get(user_id)
        if log is None:
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"Utilisateur {user_id}",
                "language_code": "fr",
            }
            log = self.chats[user_id] = ChatLog(user=user)
        return log

    @staticmethod
    def chat_ref(log: ChatLog) -> dict[str, Any]:
        return {"id": log.user["id"], "type": "private", "first_name": log.user["first_name"]}

    def new_message(self, log: ChatLog, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        """Append a message (wire format) to the chat and return it."""
        message = {
            "message_id": next(log.ids),
            "date": int(time.time()),
            "chat": self.chat_ref(log),
            "from": sender,
            **{k: v for k, v in content.items() if v is not None},
        }
        log.messages[message["message_id"]] = message
        return message

    async def touch(self, log: ChatLog) -> None:
        """Bump the chat version and wake whoever waits on changes."""
        log.version += 1
        async with self.changed:
            self.changed.notify_all()

    # ---- files -------------------------------------------------------------
    def store_file(self, name: str, data: bytes, mime_type: str | None) -> StoredFile:
        unique = secrets.token_hex(8)
        stored = StoredFile(
            file_id=f"EMU-{unique}-{secrets.token_hex(8)}",
            file_unique_id=unique,
            name=re.sub(r"[^\w.\-]", "_", name) or "file",
            data=data,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.path] = stored
        return stored

    # ---- updates -----------------------------------------------------------
    def confirm(self, offset: int) -> None:
        """Forget updates below `offset` (Telegram's getUpdates confirmation)."""
        if offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    def expect_ack(self, update_id: int) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.acks[update_id] = future
        return future

    def ack(self, update_id: int) -> None:
        future = self.acks.pop(update_id, None)
        if future is not None and not future.done():
            future.set_result(True)

    # ---- flood control -----------------------------------------------------
    def take_flood(self, method: str) -> int | None:
        """retry_after to answer if this call must be refused with 429."""
        for rule in self.flood:
            if rule.methods is None or method in rule.methods:
                rule.count -= 1
                if rule.count <= 0:
                    self.flood.remove(rule)
                return rule.retry_after
        return None
