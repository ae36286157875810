"""Linking a Telegram account through the emulator."""

from __future__ import annotations

from typing import Any

from bot.emulator.client import ChatClient


def intervenant(demo: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return demo["intervenants"][index]


async def test_first_link_asks_new_code_and_deletes_secrets(chat: ChatClient, demo: dict[str, Any]) -> None:
    person = intervenant(demo)
    await chat.send(1001, "/start")
    assert "identifiant figurant sur votre convocation" in await chat.last_bot_text(1001)
    await chat.send(1001, person["numero"])
    assert "imprimé sur votre convocation" in await chat.last_bot_text(1001)
    await chat.send(1001, person["mot_de_passe"])
    assert "choisissez votre code personnel" in await chat.last_bot_text(1001)
    await chat.send(1001, "Jury2026bac")
    texts = [m["text"] for m in await chat.messages(1001)]
    assert any("compte Telegram est maintenant relié" in t for t in texts)
    assert person["mot_de_passe"] not in texts and "Jury2026bac" not in texts
    assert "DEMO-101" in " ".join(await chat.buttons(1001))


async def test_password_prompt_names_the_chefs_password_and_is_the_same_for_everyone(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    """A chef de centre's password is the console's, not a convocation's; the prompt does not tell who is staff."""
    chef = demo["chefs_de_centre"][0]
    prompts = []
    for user, identifier in ((1101, chef["login"]), (1102, intervenant(demo)["numero"])):
        await chat.send(user, "/start")
        await chat.send(user, identifier)
        prompts.append((await chat.last_bot_text(user)).replace(identifier, "<id>"))
    assert "console DEC" in prompts[0] and "convocation" in prompts[0]
    assert prompts[0] == prompts[1]
