"""Build and run the bot: Telegram (polling or webhook) or the local emulator, plus the notifier."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import orjson
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    DeleteWebhook,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    GetUpdates,
    Response,
    SendChatAction,
    SendDocument,
    SendMessage,
    SetMyCommands,
    SetWebhook,
)
from aiogram.types import BotCommand
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiogram_dialog import setup_dialogs
from aiogram_dialog.api.entities import stack as dialog_stack
from aiohttp import web

from bot import handlers
from bot.ack import AckMiddleware, EmulatorAck
from bot.dedup import DedupMiddleware
from bot.dialogs import chef, declare, link, missions
from bot.emulator import DEFAULT_TOKEN, RunningEmulator, start_emulator
from bot.emulator.state import EmulatorState
from bot.identity import IdentityMiddleware
from bot.notifier import Notifier
from bot.storage import SqlStorage, StorageFlushMiddleware, make_storage
from core.settings import get_settings

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand(command="start", description="Relier mon compte / accueil"),
    BotCommand(command="missions", description="Mes missions"),
    BotCommand(command="annuler", description="Interrompre la saisie en cours"),
    BotCommand(command="aide", description="Aide"),
    BotCommand(command="deconnexion", description="Délier ce compte Telegram"),
]


def _random_intent_id() -> int:
    """aiogram-dialog numbers each opened dialog `int(time()) % 10**8 + randint(0, 99) * 10**8`: two dialogs
    opened within the same second get the same id once in a hundred times (/start then « Déclarer » in a
    quick chat), and closing the second then loses the first ("Stack is broken ... resetting": the chat is
    sent back home). Same range (ids as short in callback data), drawn at random."""
    return secrets.randbelow(10**10)


dialog_stack.new_int_id = _random_intent_id


def build_dispatcher(
    storage: BaseStorage | None = None, *, emulator_ack: bool = False, emulator: EmulatorState | None = None
) -> Dispatcher:
    """The dispatcher with every router and dialog; `emulator_ack` reports handled updates to the emulator,
    `emulator` to the one running in this process (in place, not through the Bot API)."""
    storage = storage or make_storage()
    isolation = storage.create_isolation() if hasattr(storage, "create_isolation") else SimpleEventIsolation()
    dp = Dispatcher(storage=storage, events_isolation=isolation)
    if emulator_ack or emulator is not None:
        ack = AckMiddleware(emulator, after_errors=True)
        dp.update.outer_middleware(ack)
        dp.errors.outer_middleware(ack)
    dp.update.outer_middleware(DedupMiddleware())
    if isinstance(storage, SqlStorage):
        dp.update.outer_middleware(StorageFlushMiddleware(storage))
    identity = IdentityMiddleware()
    dp.message.outer_middleware(identity)
    dp.callback_query.outer_middleware(identity)
    first, last = handlers.make_routers()
    dp.include_routers(
        first, link.make_dialog(), missions.make_dialog(), *declare.make_dialogs(), chef.make_dialog(), last
    )
    setup_dialogs(dp)
    dp.startup.register(_freeze_startup_heap)
    dp.shutdown.register(_thaw_heap)
    return dp


GC_THRESHOLDS = (50_000, 20, 100)  # young objects before a collection (Python's default: 700, 10, 10)
_default_thresholds = gc.get_threshold()


async def _freeze_startup_heap() -> None:
    """Keep what starting made (modules, pydantic and SQLAlchemy classes, dialogs: hundreds of thousands of
    objects living as long as the process) out of the garbage collector's full passes, which otherwise walk
    it all and stall every conversation (about 250 ms each, a few times a minute under load). Then collect
    less often: an update makes thousands of short-lived objects (ORM rows, pydantic models) that reference
    counting frees anyway; at Python's default thresholds the collector ran every few updates, and a
    full pass (60 to 120 ms, every few hundred updates) still walked the caches built since startup."""
    global _default_thresholds
    gc.collect()
    gc.freeze()
    _default_thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)


async def _thaw_heap() -> None:
    """On stop: the collector as it was (a process that goes on, such as the tests, gets its defaults back)."""
    gc.unfreeze()
    gc.set_threshold(*_default_thresholds)


# aiogram parses every answer with the pydantic model Response[<method's result type>]. pydantic keeps
# such parametrized models only weakly, so under load they are rebuilt (about 10 ms each) again and
# again; holding them here keeps them built once per process.
_RESPONSE_MODELS = [
    Response[method.__returning__]
    for method in (  # type: ignore[name-defined]
        AnswerCallbackQuery,
        DeleteMessage,
        DeleteWebhook,
        EditMessageReplyMarkup,
        EditMessageText,
        EmulatorAck,
        GetFile,
        GetMe,
        GetUpdates,
        SendChatAction,
        SendDocument,
        SendMessage,
        SetMyCommands,
        SetWebhook,
    )
]


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_bot(token: str, api_base: str | None = None) -> Bot:
    """A bot on Telegram, or on the Bot API server at `api_base` (the emulator); its requests and answers
    encoded and decoded with orjson."""
    api = TelegramAPIServer.from_base(api_base) if api_base else PRODUCTION
    return Bot(token, session=AiohttpSession(api=api, json_loads=orjson.loads, json_dumps=_json_dumps))


@dataclass
class BotApp:
    """A running bot: its Bot, Dispatcher and, without a token, the emulator it talks to."""

    bot: Bot
    dp: Dispatcher
    emulator: RunningEmulator | None


async def _serve_webhook(app: BotApp, url: str, port: int, secret: str | None, stop: asyncio.Event) -> None:
    web_app = web.Application()
    path = urlparse(url).path or "/telegram/webhook"
    SimpleRequestHandler(dispatcher=app.dp, bot=app.bot, secret_token=secret).register(web_app, path=path)
    setup_application(web_app, app.dp, bot=app.bot)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1" if app.emulator else "0.0.0.0", port).start()
    await app.bot.set_webhook(url, secret_token=secret, drop_pending_updates=False)
    try:  # the webhook stays set on stop: other bot processes behind the same URL go on serving it
        await stop.wait()
    finally:
        await runner.cleanup()


async def _poll(app: BotApp, stop: asyncio.Event) -> None:
    await app.bot.delete_webhook()
    polling = asyncio.create_task(
        app.dp.start_polling(app.bot, handle_signals=False, close_bot_session=False, polling_timeout=25)
    )
    await stop.wait()
    with contextlib.suppress(RuntimeError):
        await app.dp.stop_polling()
    try:  # a long poll in flight would hold the stop for up to its timeout: cut it short
        await asyncio.wait_for(asyncio.shield(polling), 2)
    except TimeoutError:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling


async def run_bot(stop_event: asyncio.Event | None = None) -> None:
    """Run the bot until `stop_event` is set: Telegram when `IMAGIN_BOT_TOKEN` is set, else the local
    emulator on `IMAGIN_EMULATOR_PORT`; long polling unless `IMAGIN_BOT_WEBHOOK_URL` is set; plus the
    outbox notifier."""
    settings = get_settings()
    stop = stop_event or asyncio.Event()
    emulator = None
    if settings.bot_token is not None:
        bot = make_bot(settings.bot_token.get_secret_value())
    else:
        emulator = await start_emulator(port=settings.emulator_port)
        log.info("No IMAGIN_BOT_TOKEN: local Telegram emulator with its web chat at %s/", emulator.url)
        bot = make_bot(DEFAULT_TOKEN, emulator.url)
    app = BotApp(bot, build_dispatcher(emulator=emulator.state if emulator else None), emulator)
    try:
        await bot.set_my_commands(COMMANDS)
        notifier = asyncio.create_task(Notifier(bot).run(stop))
        if settings.bot_webhook_url:
            secret = settings.bot_webhook_secret.get_secret_value() if settings.bot_webhook_secret else None
            await _serve_webhook(app, settings.bot_webhook_url, settings.bot_webhook_port, secret, stop)
        else:
            await _poll(app, stop)
        await notifier
    finally:
        await app.dp.storage.close()
        await bot.session.close()
        if emulator is not None:
            await emulator.stop()
