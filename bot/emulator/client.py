"""A small async client of the emulator's user JSON API (used by tests, the benchmark and scripts)."""

from __future__ import annotations

from typing import Any

import aiohttp


class EmulatorError(AssertionError):
    """The emulator refused a user action (bad button, unknown message...)."""


class ChatClient:
    """Acts as Telegram users on an emulator at `base_url`; every action waits for the bot's answer."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        self.base = base_url.rstrip("/")
        self.http = http

    async def _post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        async with self.http.post(f"{self.base}/emulator/api/{path}", **kwargs) as resp:
            if resp.status != 200:
                raise EmulatorError(f"{path}: {resp.status} {await resp.text()}")
            return await resp.json()

    async def send(self, user_id: int, text: str) -> dict[str, Any]:
        """A text message; returns once the bot has handled it."""
        return await self._post("send", json={"user_id": user_id, "text": text, "wait": True})

    async def sticker(self, user_id: int, emoji: str = "👍") -> dict[str, Any]:
        """A sticker; returns once the bot has handled it."""
        return await self._post("send", json={"user_id": user_id, "sticker": emoji, "wait": True})

    async def voice(self, user_id: int, seconds: int = 3) -> dict[str, Any]:
        """A voice note; returns once the bot has handled it."""
        return await self._post("send", json={"user_id": user_id, "voice": seconds, "wait": True})

    async def location(self, user_id: int, latitude: float = 49.18, longitude: float = -0.37) -> dict[str, Any]:
        """A shared location; returns once the bot has handled it."""
        place = {"latitude": latitude, "longitude": longitude}
        return await self._post("send", json={"user_id": user_id, "location": place, "wait": True})

    async def contact(self, user_id: int, phone: str = "+33600000000", name: str = "Claire") -> dict[str, Any]:
        """A shared contact; returns once the bot has handled it."""
        card = {"phone_number": phone, "first_name": name}
        return await self._post("send", json={"user_id": user_id, "contact": card, "wait": True})

    async def upload(
        self,
        user_id: int,
        data: bytes,
        filename: str,
        *,
        as_photo: bool = False,
        content_type: str = "application/octet-stream",
    ) -> dict[str, Any]:
        """A document (or a photo) sent by the user; returns once the bot has handled it."""
        form = aiohttp.FormData()
        form.add_field("user_id", str(user_id))
        form.add_field("wait", "true")
        if as_photo:
            form.add_field("as_photo", "true")
        form.add_field("file", data, filename=filename, content_type=content_type)
        return await self._post("upload", data=form)

    async def press_data(self, user_id: int, message_id: int, data: str, *, forged: bool = False) -> dict[str, Any]:
        """Press the button carrying `data`; `forged`: send `data` though no button of the message has it."""
        return await self._post(
            "press",
            json={"user_id": user_id, "message_id": message_id, "data": data, "wait": True, "forged": forged},
        )

    async def press(self, user_id: int, label: str) -> dict[str, Any]:
        """Press the button whose text contains `label` on the latest bot message that has one."""
        for message in reversed(await self.messages(user_id)):
            for row in message["buttons"]:
                for button in row:
                    if label in button["text"] and button["data"] is not None:
                        return await self.press_data(user_id, message["id"], button["data"])
        raise EmulatorError(f"no button {label!r} in the chat of {user_id}")

    async def messages(self, user_id: int) -> list[dict[str, Any]]:
        """The chat as the user sees it, in order."""
        async with self.http.get(f"{self.base}/emulator/api/chat", params={"user_id": str(user_id)}) as resp:
            return (await resp.json())["messages"]

    async def last_bot_text(self, user_id: int) -> str:
        bot_messages = [m for m in await self.messages(user_id) if m["from"] == "bot" and m["text"]]
        return bot_messages[-1]["text"] if bot_messages else ""

    async def buttons(self, user_id: int) -> list[str]:
        """Labels of the buttons of the latest bot message that has any."""
        for message in reversed(await self.messages(user_id)):
            if message["buttons"]:
                return [b["text"] for row in message["buttons"] for b in row]
        return []

    async def flood(self, count: int, retry_after: int, methods: list[str] | None = None) -> None:
        """Make the bot's next `count` calls answer 429 Too Many Requests."""
        await self._post("flood", json={"count": count, "retry_after": retry_after, "methods": methods})

    async def calls(self) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.base}/emulator/api/calls") as resp:
            return (await resp.json())["calls"]
