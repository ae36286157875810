"""Local Telegram Bot API emulator (aiohttp) with a JSON user API and a web chat page."""

from bot.emulator.app import DEFAULT_TOKEN, RunningEmulator, create_app, start_emulator

__all__ = ["DEFAULT_TOKEN", "RunningEmulator", "create_app", "start_emulator"]
