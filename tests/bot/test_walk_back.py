"""Going back and forth as a user on a phone would: no answer is lost, « Retour » works from every step."""

from __future__ import annotations

from typing import Any

from bot.emulator.client import ChatClient
from tests.bot.helpers import link, mission_start, person, receipt_pdf

U = 3011


async def test_a_departure_typed_then_left_with_retour_is_kept(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    day = mission_start("DEMO-101")
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, "120")
    await chat.send(U, f"{day:%d/%m/%Y}, 7h")  # a comma between the date and the time, as phones type it
    assert "Date et heure de retour" in await chat.last_bot_text(U)
    await chat.press(U, "Retour")  # the departure typed is shown and can be kept
    text = await chat.last_bot_text(U)
    assert "Date et heure de départ" in text and f"Valeur actuelle : {day:%d/%m/%Y} 07:00" in text
    await chat.press(U, f"Garder : {day:%d/%m/%Y} 07:00")
    assert f"Départ : {day:%d/%m/%Y} 07:00" in await chat.last_bot_text(U)
    await chat.send(U, "19h")
    assert "Étape 4/8" in await chat.last_bot_text(U)


async def test_each_field_of_a_new_trip_is_kept_going_back(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    day = mission_start("DEMO-103")
    d0 = f"{day:%d/%m/%Y}"
    await chat.press(U, "DEMO-103")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, "19:00")
    await chat.press(U, "Ajouter un trajet")
    await chat.send(U, f"{d0} 7h10")
    await chat.send(U, "Saint-Lô")
    await chat.send(U, "8h20")
    await chat.send(U, "Caen")
    assert "Moyen de transport" in await chat.last_bot_text(U)
    for _ in range(4):  # back to the trip's first question, each answer offered to keep
        await chat.press(U, "Retour")
    assert f"Garder : {d0} 07:10" in " ".join(await chat.buttons(U))
    await chat.press(U, "Garder")
    await chat.press(U, "Garder : SAINT-LÔ")
    await chat.press(U, f"Garder : {d0} 08:20")
    await chat.press(U, "Garder : CAEN")
    await chat.press(U, "Train")
    text = await chat.last_bot_text(U)
    assert f"1. {d0} 07:10 SAINT-LÔ → {d0} 08:20 CAEN" in text


async def test_retour_after_a_resume_goes_to_the_previous_step(running: Any, demo: dict[str, Any]) -> None:
    chat: ChatClient = running.chat
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    d0 = f"{mission_start('DEMO-101'):%d/%m/%Y}"
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, "120")
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, "19:00")
    assert "Étape 4/8" in await chat.last_bot_text(U)
    await running.restart()
    await chat.send(U, "/start")  # the declaration left, then resumed at its trips
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")
    assert "Étape 4/8" in await chat.last_bot_text(U)
    await chat.press(U, "Retour")  # not out of the declaration: the times, as saved
    text = await chat.last_bot_text(U)
    assert "Étape 3/8" in text and f"Valeur actuelle : {d0} 07:00" in text
    await chat.press(U, "Retour")
    assert "Étape 2/8" in await chat.last_bot_text(U)
    await chat.press(U, "Garder : 120")
    await chat.press(U, "Garder les horaires actuels")
    assert "Étape 4/8" in await chat.last_bot_text(U)


async def test_what_a_screen_cannot_take_is_answered_for_that_screen(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")

    async def answer_to_last() -> str:
        return [m["text"] for m in await chat.messages(U) if m["from"] == "bot"][-2]

    await chat.sticker(U)  # a screen of buttons
    assert await answer_to_last() == "Répondez avec les boutons ci-dessous, s'il vous plaît (ou /aide)."
    await chat.press(U, "Oui, effectuée")
    await chat.sticker(U)  # a typed answer is expected, not a button
    assert (await answer_to_last()).startswith("Envoyez votre réponse par écrit, comme dans l'exemple ci-dessous")
    assert "Nombre de copies corrigées" in await chat.last_bot_text(U)
    await chat.upload(U, receipt_pdf(), "billet.pdf")  # in the declaration already: kept, no « ouvrez la mission »
    said = [m["text"] for m in await chat.messages(U) if m["from"] == "bot"][-3:-1]
    assert "« billet.pdf » reçu" in said[0] and "vous le retrouverez à l'étape « Justificatifs »" in said[1]
    assert "Nombre de copies corrigées" in await chat.last_bot_text(U)
    await chat.send(U, "120")
    assert "Étape 3/8" in await chat.last_bot_text(U)


async def test_a_command_is_never_taken_as_an_answer(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    d0 = f"{mission_start('DEMO-103'):%d/%m/%Y}"
    await chat.press(U, "DEMO-103")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, "19:00")
    await chat.press(U, "Ajouter un trajet")
    await chat.send(U, f"{d0} 7h10")
    await chat.send(U, "/annulr")  # a mistyped command on the city question: not a city
    said = [m["text"] for m in await chat.messages(U) if m["from"] == "bot"]
    assert said[-2] == "Commande inconnue : « /annulr ». Les commandes : /start, /missions, /annuler, /aide."
    assert "Ville de départ ?" in said[-1] and "/ANNULR" not in said[-1]
    await chat.send(U, "/annuler")
    said = [m["text"] for m in await chat.messages(U) if m["from"] == "bot"]
    assert said[-2].startswith("Saisie interrompue. Vos réponses sont enregistrées")
    assert "Vos missions" in said[-1]
    await chat.press(U, "DEMO-103")
    await chat.press(U, "Déclarer")  # resumed at the trips, the times kept, no trip made of the half answer
    text = await chat.last_bot_text(U)
    assert "Étape 3/7" in text and "Aucun trajet pour l'instant." in text
    await chat.press(U, "Retour")
    assert f"Valeur actuelle : {d0} 07:00" in await chat.last_bot_text(U)
