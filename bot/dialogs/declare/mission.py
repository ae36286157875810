"""Steps « Mission effectuée » and the mission's quantity (copies, candidates or practical hours)."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Const

from bot.dialogs.common import message_input, text_of
from bot.dialogs.declare.navigation import apply, current_draft, header, ids, keep, next_step, window
from bot.states import Declare
from core import declarations
from core.models import EtatDeFrais
from core.parsing import parse_count, parse_duration
from core.steps import QUANTITIES

_DONE = {True: "effectuée", False: "non effectuée", None: "pas encore indiquée"}


async def done_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    return {
        "text": f"{header(d, 'done')}\n\n{d.card}\n\nAvez-vous effectué cette mission ? "
        f"(réponse actuelle : {_DONE[d.service_done]})"
    }


async def on_done_choice(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    _, _, actor = ids(manager)
    done = button.widget_id == "done_yes"
    draft = await apply(manager, lambda s, e: declarations.set_service_done(s, e, done, actor))
    if draft:
        await next_step(manager, draft)


async def quantity_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    wording = QUANTITIES[d.quantity_field or "copies"]
    return {
        "text": f"{header(d, 'quantity')}\n\n{wording.label} ? Envoyez un nombre.\nExemple : {wording.example}"
        f"\nValeur actuelle : {d.quantity_text}",
        "current": d.quantity_text if d.quantity is not None else "",
    }


def _parse_quantity(efm: EtatDeFrais, text: str) -> int:
    """The quantity typed for this mission: a duration for practical exams, else a count."""
    field = declarations.quantity_field(efm) or "copies"
    return (
        parse_duration(text)
        if field == "practical_minutes"
        else parse_count(text, units=QUANTITIES[field].units, example=QUANTITIES[field].example)
    )


async def on_quantity(message: Message, widget: Any, manager: DialogManager) -> None:
    _, _, actor = ids(manager)
    text = text_of(message)
    draft = await apply(manager, lambda s, e: declarations.set_quantity(s, e, _parse_quantity(e, text), actor))
    if draft:
        await next_step(manager, draft)


async def on_keep(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Keep the saved answer of this step and go on."""
    await next_step(manager, await current_draft(manager))


def windows() -> list[Window]:
    return [
        window(
            Declare.done,
            done_getter,
            Row(
                Button(Const("✅ Oui, effectuée"), id="done_yes", on_click=on_done_choice),
                Button(Const("❌ Non effectuée"), id="done_no", on_click=on_done_choice),
            ),
        ),
        window(
            Declare.quantity,
            quantity_getter,
            message_input(on_quantity, ContentType.TEXT),
            keep("current", "keep_q", on_keep),
        ),
    ]
