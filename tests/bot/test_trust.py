"""Trust in the chat, through the emulator: a throttle that spares the owner, failed attempts and relinks told,
plain answers to greetings, photos, short codes and forged or stale buttons (no traceback)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.emulator.client import ChatClient
from bot.notifier import Notifier
from core.db import session_scope
from core.models import Convocation, EtatDeFrais, Intervenant
from tests.bot.conftest import RunningBot
from tests.bot.helpers import link, person, png_bytes


async def _texts(chat: ChatClient, user_id: int) -> list[str]:
    return [m["text"] for m in await chat.messages(user_id)]


async def _answer(running: RunningBot, count: int) -> str | None:
    """The text of the `count`-th answer to a button press (it may reach the emulator just after the press)."""
    answers = running.emulator.state.callback_answers
    for _ in range(100):
        if len(answers) >= count:
            return answers[count - 1]["text"]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer to press {count}: {answers}")


async def test_a_hammered_identifier_still_links_from_its_owner(running: RunningBot, demo: dict[str, Any]) -> None:
    chat, p = running.chat, person(demo, 0)
    await link(chat, 6000, p["numero"], p["mot_de_passe"])  # the owner is linked here (first code chosen)
    await chat.send(6001, "/start")
    for attempt in range(4):
        await chat.send(6001, p["numero"])
        await chat.send(6001, f"mauvais{attempt}")
    texts = await _texts(chat, 6001)
    assert sum("incorrect" in t for t in texts) == 3  # three free failures, then a growing delay
    assert "Réessayez dans 2 secondes" in texts[-2] and "mauvais3" not in texts
    for chat_id in range(6002, 6012):  # many other chats fail once each
        await chat.send(chat_id, "/start")
        await chat.send(chat_id, p["numero"])
        await chat.send(chat_id, "mauvais")
    await chat.send(6099, "/start")  # the owner, from a new phone, with the right code
    await chat.send(6099, p["numero"])
    await chat.send(6099, "Jury2026bac")
    assert any("maintenant relié" in t for t in await _texts(chat, 6099))
    assert await Notifier(running.bot).deliver_once() >= 2
    old_chat = await _texts(chat, 6000)
    assert any("Une connexion à votre compte Imag'in a échoué" in t for t in old_chat)  # told once, not 14 times
    assert sum("a échoué" in t for t in old_chat) == 1
    assert any("relié à un autre compte Telegram" in t for t in old_chat)  # and told of the relink


async def test_greetings_photos_and_short_codes_get_plain_answers(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 1)
    await chat.send(6101, "bonjour")
    assert "reliez votre compte" in " ".join(await _texts(chat, 6101))
    await chat.send(6101, "bonjour")  # now on the identifier step: a greeting is not an identifier
    assert "« bonjour » n'est pas un identifiant" in (await _texts(chat, 6101))[-2]
    await chat.upload(6101, png_bytes(), "ticket.png", content_type="image/png", as_photo=True)
    texts = await _texts(chat, 6101)
    assert "reliez d'abord votre compte" in texts[-2] and "ouvrez la mission" not in " ".join(texts)
    await chat.upload(6102, png_bytes(), "ticket.png", content_type="image/png", as_photo=True)  # a fresh chat
    texts = await _texts(chat, 6102)
    assert "reliez d'abord votre compte" in " ".join(texts) and "identifiant figurant" in texts[-1]
    await chat.send(6101, p["numero"])
    await chat.send(6101, p["mot_de_passe"])
    await chat.send(6101, "abc")
    assert "Code trop court" in (await _texts(chat, 6101))[-2]
    await chat.send(6101, "Jury2026bac")
    assert any("maintenant relié" in t for t in await _texts(chat, 6101))


async def test_forged_and_stale_buttons_get_a_short_answer_and_no_traceback(
    running: RunningBot, demo: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    chat, p = running.chat, person(demo, 0)
    await link(chat, 6201, p["numero"], p["mot_de_passe"])
    listing = next(m for m in reversed(await chat.messages(6201)) if m["buttons"])
    own = listing["buttons"][0][0]["data"]
    with session_scope() as session:
        foreign = session.scalar(
            select(EtatDeFrais.id).join(Convocation).join(Intervenant).where(Intervenant.numero != p["numero"])
        )
    caplog.set_level(logging.INFO)
    await chat.press_data(6201, listing["id"], own.rsplit(":", 1)[0] + f":{foreign}", forged=True)
    assert await _answer(running, 1) == "Ce bouton n'est plus valable."
    await chat.press_data(6201, listing["id"], own.rsplit(":", 1)[0] + ":pas-un-nombre", forged=True)
    assert await _answer(running, 2) == "Ce bouton n'est plus valable."
    await chat.press_data(6201, listing["id"], "n'importe quoi", forged=True)
    assert await _answer(running, 3) == "Ce bouton n'est plus valable."
    texts = " ".join(await _texts(chat, 6201))
    assert "Claire" in texts and "MARTIN" not in texts.replace("Claire MARTIN", "")  # nobody else's name shown
    await chat.send(6201, "/start")  # a new screen: the listing's buttons are now stale
    await chat.press_data(6201, listing["id"], own, forged=True)  # its keyboard was removed: an old client
    assert await _answer(running, 4) == "Ce bouton n'est plus valable."
    assert "identifiant figurant" not in await chat.last_bot_text(6201)  # a linked user is not sent to linking
    assert "Vos missions" in await chat.last_bot_text(6201)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not any("Traceback" in r.getMessage() for r in caplog.records)
