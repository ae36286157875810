"""aiohttp application keys of the emulator."""

import asyncio

from aiohttp import web

from bot.emulator.state import EmulatorState

STATE = web.AppKey("state", EmulatorState)
TOKEN = web.AppKey("token", str)
WEBHOOK_TASK = web.AppKey("webhook_task", asyncio.Task)
