"""The Bot API emulator speaks Telegram's wire format to aiogram's real client (polling and webhook)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError, TelegramRetryAfter
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.ack import AckMiddleware
from bot.emulator import DEFAULT_TOKEN, start_emulator
from bot.emulator.client import ChatClient, EmulatorError
from bot.runner import make_bot

KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Oui", callback_data="yes")]])


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()
    dp.update.outer_middleware(AckMiddleware())

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"écho : {message.text}", reply_markup=KEYBOARD)

    @dp.message(F.document)
    async def size(message: Message, bot: Bot) -> None:
        data = await bot.download(message.document.file_id)  # type: ignore[union-attr]
        await message.answer_document(
            BufferedInputFile(data.read()[::-1], "reversed.bin"), caption=f"{message.document.file_size} octets"
        )  # type: ignore[union-attr]

    @dp.callback_query()
    async def pressed(callback: CallbackQuery) -> None:
        await callback.message.edit_text(f"choix : {callback.data}")  # type: ignore[union-attr]
        await callback.answer()

    return dp


async def test_polling_messages_buttons_edits_and_files() -> None:
    emulator = await start_emulator()
    bot = make_bot(DEFAULT_TOKEN, emulator.url)
    dp = echo_dispatcher()
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        async with aiohttp.ClientSession() as http:
            chat = ChatClient(emulator.url, http)
            sent = await chat.send(42, "bonjour")
            assert sent["acked"] is True
            assert await chat.last_bot_text(42) == "écho : bonjour"
            assert await chat.buttons(42) == ["Oui"]
            await chat.press(42, "Oui")
            messages = await chat.messages(42)
            assert messages[-1]["text"] == "choix : yes" and messages[-1]["buttons"] == []
            with pytest.raises(EmulatorError):
                await chat.press_data(42, messages[-1]["id"], "forged")
            await chat.upload(42, b"abcdef", "notes.txt")
            last = (await chat.messages(42))[-1]
            assert last["document"] == {"name": "reversed.bin", "size": 6} and last["text"] == "6 octets"
            async with http.get(
                f"{emulator.url}/emulator/api/file", params={"user_id": "42", "message_id": str(last["id"])}
            ) as resp:
                assert await resp.read() == b"fedcba"
            with pytest.raises(TelegramBadRequest, match="message is not modified"):
                await bot.edit_message_text("choix : yes", chat_id=42, message_id=messages[-1]["id"])
            await bot.delete_message(42, messages[-1]["id"])
            assert messages[-1]["id"] not in [m["id"] for m in await chat.messages(42)]
            await chat.flood(1, retry_after=3)
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(42, "trop vite")
            assert info.value.retry_after == 3
    finally:
        await dp.stop_polling()
        await task
        await bot.session.close()
        await emulator.stop()


async def test_webhook_delivery_and_conflict_with_polling() -> None:
    emulator = await start_emulator()
    bot = make_bot(DEFAULT_TOKEN, emulator.url)
    dp = echo_dispatcher()
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token="s3cret").register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        async with aiohttp.ClientSession() as http:
            chat = ChatClient(emulator.url, http)
            assert (await chat.send(7, "par webhook"))["acked"] is True
            assert await chat.last_bot_text(7) == "écho : par webhook"
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == []
    finally:
        await runner.cleanup()
        await bot.session.close()
        await emulator.stop()
