"""Bot API side of the emulator: `/bot<token>/<method>` and file downloads, in Telegram's wire format."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from bot.emulator.keys import STATE, TOKEN
from bot.emulator.state import BOT_USER, EmulatorState, plain_text
from bot.emulator.wire import json_response, loads

log = logging.getLogger(__name__)

Params = dict[str, Any]
Handler = Callable[[EmulatorState, Params, dict[str, bytes]], Awaitable[Any]]


class ApiError(Exception):
    """A Bot API error answer (`ok: false`)."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def _json_field(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        return loads(value)
    return value


async def _read_params(request: web.Request) -> tuple[Params, dict[str, bytes]]:
    """Parameters from query, JSON or form bodies; files of multipart bodies by field name."""
    params: Params = dict(request.query)
    files: dict[str, bytes] = {}
    filenames: dict[str, str] = {}
    if request.content_type == "application/json" and request.can_read_body:
        params.update(await request.json(loads=loads))
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
                filenames[key] = value.filename or key
            else:
                params[key] = value
    params = {k: _json_field(v) for k, v in params.items()}
    params["__filenames__"] = filenames
    return params, files


def _chat_for(state: EmulatorState, params: Params):
    try:
        chat_id = int(params["chat_id"])
    except (KeyError, ValueError) as exc:
        raise ApiError(400, "Bad Request: chat_id is empty") from exc
    log_ = state.chats.get(chat_id)
    if log_ is None:
        raise ApiError(400, "Bad Request: chat not found")
    return log_


def _message_for(state: EmulatorState, params: Params, verb: str):
    chat = _chat_for(state, params)
    try:
        message = chat.messages[int(params["message_id"])]
    except (KeyError, ValueError) as exc:
        raise ApiError(400, f"Bad Request: message to {verb} not found") from exc
    return chat, message


def _markup(params: Params) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if not markup:
        return None
    if "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None  # reply keyboards are not shown inline in this emulator


async def get_me(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    return BOT_USER


async def get_updates(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    if state.webhook:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = int(params.get("offset") or 0)
    limit = min(int(params.get("limit") or 100), 100)
    timeout = min(float(params.get("timeout") or 0), 50.0)
    state.confirm(offset)
    deadline = time.monotonic() + timeout
    async with state.changed:
        while not state.pending and not state.webhook and not state.closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(state.changed.wait(), remaining)
            except TimeoutError:
                break
    return state.pending[:limit]


async def set_webhook(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    url = params.get("url") or ""
    if not url:
        state.webhook = None
        return True
    state.webhook = {
        "url": url,
        "secret_token": params.get("secret_token"),
        "max_connections": int(params.get("max_connections") or 40),
    }
    if params.get("drop_pending_updates") in (True, "true", "True"):
        state.pending.clear()
    async with state.changed:
        state.changed.notify_all()
    return True


async def delete_webhook(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    state.webhook = None
    if params.get("drop_pending_updates") in (True, "true", "True"):
        state.pending.clear()
    return True


async def get_webhook_info(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    hook = state.webhook or {}
    return {
        "url": hook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(state.pending),
        "max_connections": hook.get("max_connections", 40),
    }


async def send_message(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    chat = _chat_for(state, params)
    text = str(params.get("text") or "")
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    message = state.new_message(
        chat, BOT_USER, text=plain_text(text, params.get("parse_mode")), reply_markup=_markup(params)
    )
    await state.touch(chat)
    return message


async def edit_message_text(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    chat, message = _message_for(state, params, "edit")
    if message["from"] is not BOT_USER or "text" not in message:
        raise ApiError(400, "Bad Request: message can't be edited")
    text = plain_text(str(params.get("text") or ""), params.get("parse_mode"))
    markup = _markup(params)
    if text == message.get("text") and markup == message.get("reply_markup"):
        raise ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and "
            "reply markup are exactly the same as a current content and reply markup "
            "of the message",
        )
    message["text"] = text
    message["edit_date"] = int(time.time())
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup
    await state.touch(chat)
    return message


async def edit_message_reply_markup(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    chat, message = _message_for(state, params, "edit")
    if message["from"] is not BOT_USER:
        raise ApiError(400, "Bad Request: message can't be edited")
    markup = _markup(params)
    if markup == message.get("reply_markup"):
        raise ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and "
            "reply markup are exactly the same as a current content and reply markup "
            "of the message",
        )
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup
    message["edit_date"] = int(time.time())
    await state.touch(chat)
    return message


async def delete_message(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    chat, message = _message_for(state, params, "delete")
    del chat.messages[message["message_id"]]
    await state.touch(chat)
    return True


async def send_document(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    chat = _chat_for(state, params)
    ref = params.get("document")
    if isinstance(ref, str) and ref.startswith("attach://"):
        key = ref.removeprefix("attach://")
        if key not in files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        stored = state.store_file(params["__filenames__"].get(key, "document"), files[key], None)
    elif "document" in files:
        stored = state.store_file(params["__filenames__"].get("document", "document"), files["document"], None)
    elif isinstance(ref, str) and ref in state.files:
        stored = state.files[ref]
    else:
        raise ApiError(400, "Bad Request: there is no document in the request")
    document = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": stored.name,
        "file_size": len(stored.data),
    }
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    caption = params.get("caption")
    message = state.new_message(
        chat,
        BOT_USER,
        document=document,
        caption=plain_text(caption, params.get("parse_mode")) if caption else None,
        reply_markup=_markup(params),
    )
    await state.touch(chat)
    return message


async def get_file(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    stored = state.files.get(str(params.get("file_id")))
    if stored is None:
        raise ApiError(400, "Bad Request: invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.path,
    }


async def answer_callback_query(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    state.callback_answers.append(
        {
            "callback_query_id": params.get("callback_query_id"),
            "text": params.get("text"),
            "show_alert": params.get("show_alert"),
        }
    )
    return True


async def set_my_commands(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    state.commands = list(params.get("commands") or [])
    return True


async def get_my_commands(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    return state.commands


async def accept(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    return True


async def emulator_ack(state: EmulatorState, params: Params, files: dict[str, bytes]) -> Any:
    """Emulator-only method: the bot says it finished handling an update (see bot/emulator/README.md)."""
    state.ack(int(params.get("update_id") or 0))
    return True


METHODS: dict[str, Handler] = {
    "getme": get_me,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "senddocument": send_document,
    "getfile": get_file,
    "answercallbackquery": answer_callback_query,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": accept,
    "sendchataction": accept,
    "close": accept,
    "logout": accept,
    "emulatorack": emulator_ack,
}


def _answer(result: Any = None, error: ApiError | None = None) -> web.Response:
    if error is None:
        return json_response({"ok": True, "result": result})
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return json_response(body, status=error.code)


async def handle_method(request: web.Request) -> web.Response:
    """Dispatch one Bot API call."""
    state: EmulatorState = request.app[STATE]
    token, method = request.match_info["token"], request.match_info["method"]
    expected = request.app[TOKEN]
    if expected and token != expected:
        return _answer(error=ApiError(401, "Unauthorized"))
    handler = METHODS.get(method.lower())
    if handler is None:
        return _answer(error=ApiError(404, "Not Found: method not found"))
    retry_after = None if method.lower() in ("getupdates", "emulatorack") else state.take_flood(method)
    state.calls.append({"method": method, "at": time.time(), "status": 429 if retry_after else 200})
    if retry_after is not None:
        return _answer(
            error=ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        )
    try:
        params, files = await _read_params(request)
        return _answer(await handler(state, params, files))
    except ApiError as err:
        return _answer(error=err)


async def handle_file(request: web.Request) -> web.StreamResponse:
    """Download a file by its `file_path`, as Telegram's /file/bot<token>/<path>."""
    state: EmulatorState = request.app[STATE]
    stored = state.files_by_path.get(request.match_info["path"])
    if stored is None:
        raise web.HTTPNotFound()
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")


async def deliver_webhooks(app: web.Application) -> None:
    """Background task: POST pending updates to the webhook, in order, when one is set."""
    state: EmulatorState = app[STATE]
    timeout = ClientTimeout(total=60)
    async with ClientSession(timeout=timeout) as http:
        in_flight: set[int] = set()
        while True:
            async with state.changed:
                await state.changed.wait_for(
                    lambda: state.webhook is not None and any(u["update_id"] not in in_flight for u in state.pending)
                )
            hook = state.webhook
            assert hook is not None
            for update in [u for u in state.pending if u["update_id"] not in in_flight]:
                in_flight.add(update["update_id"])
                asyncio.create_task(_post_update(state, http, hook, update, in_flight))


async def _post_update(
    state: EmulatorState, http: ClientSession, hook: dict[str, Any], update: dict[str, Any], in_flight: set[int]
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook.get("secret_token") else {}
    for attempt in range(5):
        try:
            async with http.post(hook["url"], json=update, headers=headers) as resp:
                if resp.status < 300:
                    state.pending = [u for u in state.pending if u["update_id"] != update["update_id"]]
                    break
        except Exception as exc:  # noqa: BLE001 - any delivery failure is retried like Telegram does
            log.warning("webhook delivery failed (%s), retrying", exc)
        await asyncio.sleep(0.2 * (attempt + 1))
    in_flight.discard(update["update_id"])
