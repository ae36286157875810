"""Step « Horaires »: departure from and return to the residence, each checked by core as it is typed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Const

from bot.dialogs.common import error, message_input, text_of, when
from bot.dialogs.declare.navigation import (
    apply,
    check,
    current_draft,
    goto,
    header,
    ids,
    keep,
    moment_of,
    next_step,
    window,
)
from bot.states import Declare
from core import declarations
from core.errors import DomainError
from core.french import format_moment
from core.models import EtatDeFrais
from core.parsing import moment_example, parse_moment


async def departure_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    departure = _departure_answer(dialog_manager) or d.departure_at
    return {
        "text": f"{header(d, 'times')}\n\nDate et heure de départ de votre résidence pour cette mission ?\n"
        f"Exemple : {moment_example(d.mission_start)}\nValeur actuelle : {format_moment(departure)}",
        "current": format_moment(departure) if departure else "",
        "both": d.departure_at is not None and d.return_at is not None and departure == d.departure_at,
    }


def _departure_answer(manager: DialogManager) -> datetime | None:
    """The departure answered on this screen and not saved yet (it is saved with the return)."""
    return moment_of(manager.dialog_data.get("departure"))


async def _departure(manager: DialogManager, text: str | None) -> None:
    """The departure typed (or the current one kept), checked alone; the return is asked next."""
    pending = _departure_answer(manager)

    def parse_and_check(efm: EtatDeFrais) -> str:
        moment = parse_moment(text, reference=efm.convocation.mission.start_at) if text else pending or efm.departure_at
        assert moment is not None
        declarations.check_departure(efm, moment)
        return moment.isoformat()

    accepted, moment = await check(manager, parse_and_check)
    if accepted:
        manager.dialog_data["departure"] = moment
        await goto(manager, Declare.return_at)


async def on_departure(message: Message, widget: Any, manager: DialogManager) -> None:
    await _departure(manager, text_of(message))


async def on_keep_departure(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _departure(manager, None)


async def on_keep_both(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await next_step(manager, await current_draft(manager))


async def return_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    departure = _departure_answer(dialog_manager)
    keepable = d.return_at is not None and departure is not None and d.return_at > departure
    return {
        "text": f"{header(d, 'times')}\n\nDépart : {format_moment(departure)}\n"
        "Date et heure de retour à votre résidence ?\n"
        f"Exemple : {moment_example(d.mission_start)} (ou seulement 19:00 si c'est le jour du départ)\n"
        f"Valeur actuelle : {format_moment(d.return_at)}",
        "current": format_moment(d.return_at) if keepable and d.return_at else "",
    }


async def _set_times(manager: DialogManager, text: str | None) -> None:
    _, _, actor = ids(manager)
    departure = _departure_answer(manager)
    if departure is None:
        await manager.switch_to(Declare.departure)
        return
    if text is None:
        moment = (await current_draft(manager)).return_at
    else:
        try:
            moment = parse_moment(text, reference=departure, day=departure)
        except DomainError as exc:
            await error(manager, exc)
            return
    assert moment is not None
    draft = await apply(manager, lambda s, e: declarations.set_times(s, e, departure, moment, actor))
    if draft:
        await next_step(manager, draft)


async def on_return(message: Message, widget: Any, manager: DialogManager) -> None:
    await _set_times(manager, text_of(message))


async def on_keep_return(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _set_times(manager, None)


def windows() -> list[Window]:
    return [
        window(
            Declare.departure,
            departure_getter,
            message_input(on_departure, ContentType.TEXT),
            Button(Const("➡️ Garder les horaires actuels"), id="keep_t", on_click=on_keep_both, when=when("both")),
            keep("current", "keep_dep", on_keep_departure),
        ),
        window(
            Declare.return_at,
            return_getter,
            message_input(on_return, ContentType.TEXT),
            keep("current", "keep_ret", on_keep_return),
        ),
    ]
