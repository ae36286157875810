"""User side of the emulator: a documented JSON API (see README.md) used by the web page, tests and scripts."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from aiohttp import web

from bot.emulator.keys import STATE
from bot.emulator.state import BOT_USER, ChatLog, EmulatorState, FloodRule
from bot.emulator.wire import json_response, loads

ACK_TIMEOUT = 15.0
TAIL = 3  # messages of the chat returned with an answered action ("last")


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message)


def _user_id(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _bad("user_id must be an integer") from exc


def render_chat(log: ChatLog, last: int | None = None) -> dict[str, Any]:
    """The chat as the user sees it: `{"version", "messages": [...]}` in order (`last`: only the last ones)."""
    messages = log.messages.values()
    shown = list(messages) if last is None else list(itertools.islice(reversed(messages), last))[::-1]
    return {"version": log.version, "messages": [_rendered(message) for message in shown]}


def _rendered(message: dict[str, Any]) -> dict[str, Any]:
    buttons = [
        [{"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")} for b in row]
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
    ]
    document = message.get("document")
    photo = message.get("photo")
    attached = None
    if document:
        attached = {"name": document.get("file_name"), "size": document.get("file_size")}
    elif photo:
        attached = {"name": message.get("_photo_name", "photo.jpg"), "size": photo[-1].get("file_size")}
    return {
        "id": message["message_id"],
        "from": "bot" if message["from"] is BOT_USER else "user",
        "text": message.get("text") or message.get("caption") or (message.get("sticker") or {}).get("emoji", ""),
        "buttons": buttons,
        "document": attached,
    }


async def _wait_ack(state: EmulatorState, update_id: int, future: asyncio.Future[bool] | None) -> bool:
    if future is None:
        return False
    try:
        return await asyncio.wait_for(future, ACK_TIMEOUT)
    except TimeoutError:
        state.acks.pop(update_id, None)
        return False


async def _finish(
    state: EmulatorState, log: ChatLog, kind: str, payload: dict[str, Any], wait: bool, extra: dict[str, Any]
) -> web.Response:
    update_id = next(state.update_ids)
    future = state.expect_ack(update_id) if wait else None
    state.pending.append({"update_id": update_id, kind: payload})
    async with state.changed:
        state.changed.notify_all()
    acked = await _wait_ack(state, update_id, future)
    answer = {"update_id": update_id, "acked": acked, "version": log.version, **extra}
    if wait:
        answer["last"] = render_chat(log, TAIL)["messages"]
    return json_response(answer)


async def send(request: web.Request) -> web.Response:
    """A user's text message, a sticker, or something else a phone sends. Body: {"user_id", "text" | "sticker" (its
    emoji) | "voice" (seconds) | "location" ({"latitude", "longitude"}) | "contact" ({"phone_number",
    "first_name"}), "first_name"?, "wait"?}."""
    state: EmulatorState = request.app[STATE]
    body = await request.json(loads=loads)
    log = state.chat(_user_id(body.get("user_id")), body.get("first_name"))
    content = _other_content(body)
    if sticker := str(body.get("sticker") or ""):
        content = {"sticker": _sticker(sticker)}
    if content:
        message = state.new_message(log, log.user, **content)
        await state.touch(log)
        return await _finish(
            state, log, "message", message, bool(body.get("wait")), {"message_id": message["message_id"]}
        )
    text = str(body.get("text") or "")
    if not text:
        raise _bad("text is empty")
    entities = None
    if text.startswith("/"):
        command = text.split()[0]
        entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    message = state.new_message(log, log.user, text=text, entities=entities)
    await state.touch(log)
    return await _finish(state, log, "message", message, bool(body.get("wait")), {"message_id": message["message_id"]})


def _other_content(body: dict[str, Any]) -> dict[str, Any]:
    """A voice note, a location or a contact (wire format), as the body asks; none for a text."""
    if "voice" in body:
        seconds = int(body["voice"])
        return {"voice": {"file_id": f"voice-{seconds}", "file_unique_id": f"v{seconds}", "duration": seconds}}
    if isinstance(location := body.get("location"), dict):
        return {"location": {"latitude": float(location["latitude"]), "longitude": float(location["longitude"])}}
    if isinstance(contact := body.get("contact"), dict):
        return {"contact": {"phone_number": str(contact["phone_number"]), "first_name": str(contact["first_name"])}}
    return {}


def _sticker(emoji: str) -> dict[str, Any]:
    """A static sticker of that emoji (wire format); no file behind it."""
    return {
        "file_id": "sticker-" + emoji.encode().hex(),
        "file_unique_id": emoji.encode().hex(),
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
    }


async def upload(request: web.Request) -> web.Response:
    """A user's document or photo. Multipart: user_id, file, as_photo?, caption?, wait?."""
    state: EmulatorState = request.app[STATE]
    form = await request.post()
    log = state.chat(_user_id(form.get("user_id")))
    field = form.get("file")
    if not isinstance(field, web.FileField):
        raise _bad("file is missing")
    data = field.file.read()
    stored = state.store_file(field.filename or "fichier", data, field.content_type)
    as_photo = str(form.get("as_photo", "")).lower() in ("1", "true", "yes", "on")
    caption = form.get("caption") or None
    if as_photo:
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
            "width": 0,
            "height": 0,
        }
        message = state.new_message(log, log.user, photo=[size], caption=caption)
        message["_photo_name"] = stored.name
    else:
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": field.filename or stored.name,
            "file_size": len(data),
        }
        if field.content_type:
            document["mime_type"] = field.content_type
        message = state.new_message(log, log.user, document=document, caption=caption)
    await state.touch(log)
    wire = {k: v for k, v in message.items() if not k.startswith("_")}
    return await _finish(
        state,
        log,
        "message",
        wire,
        str(form.get("wait", "")).lower() in ("1", "true"),
        {"message_id": message["message_id"]},
    )


async def press(request: web.Request) -> web.Response:
    """A press on an inline button. Body: {"user_id", "message_id", "data", "wait"?, "forged"?}.

    ``forged``: send ``data`` even though no button of the message carries it, as a modified client can."""
    state: EmulatorState = request.app[STATE]
    body = await request.json(loads=loads)
    log = state.chat(_user_id(body.get("user_id")))
    message = log.messages.get(int(body.get("message_id") or 0))
    data = body.get("data")
    if message is None:
        raise web.HTTPNotFound(text="no such message")
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    on_a_button = any(button.get("callback_data") == data for row in keyboard for button in row)
    if not on_a_button and not body.get("forged"):
        raise _bad("this message has no button with that data")
    callback = {
        "id": str(next(state.callback_ids)),
        "from": log.user,
        "message": message,
        "chat_instance": str(log.user["id"]),
        "data": data,
    }
    return await _finish(state, log, "callback_query", callback, bool(body.get("wait")), {})


async def chat(request: web.Request) -> web.Response:
    """The chat of `user_id`; with `since=<version>&timeout=<s>`, waits for a newer version."""
    state: EmulatorState = request.app[STATE]
    log = state.chat(_user_id(request.query.get("user_id")))
    since = request.query.get("since")
    if since is not None:
        deadline = time.monotonic() + min(float(request.query.get("timeout", 25)), 60)
        async with state.changed:
            while log.version <= int(since) and not state.closing and (remaining := deadline - time.monotonic()) > 0:
                try:
                    await asyncio.wait_for(state.changed.wait(), remaining)
                except TimeoutError:
                    break
    return json_response(render_chat(log))


async def flood(request: web.Request) -> web.Response:
    """Make the next `count` bot calls (optionally of `methods`) answer 429 with `retry_after` seconds."""
    state: EmulatorState = request.app[STATE]
    body = await request.json(loads=loads)
    methods = body.get("methods")
    state.flood.append(
        FloodRule(
            count=int(body.get("count", 1)),
            retry_after=int(body.get("retry_after", 1)),
            methods=frozenset(methods) if methods else None,
        )
    )
    return json_response({"ok": True})


async def calls(request: web.Request) -> web.Response:
    """The bot's API calls so far: [{"method", "at", "status"}]."""
    return json_response({"calls": request.app[STATE].calls})


async def file(request: web.Request) -> web.Response:
    """Download a document of the chat (sent by the bot or the user) by message id."""
    state: EmulatorState = request.app[STATE]
    log = state.chat(_user_id(request.query.get("user_id")))
    message = log.messages.get(int(request.query.get("message_id") or 0))
    attached = message and (message.get("document") or (message.get("photo") or [None])[-1])
    if not attached:
        raise web.HTTPNotFound(text="no document in that message")
    stored = state.files[attached["file_id"]]
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type or "application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{stored.name}"'},
    )
