"""Step « Hébergement et repas » (nights, lodging amount, meals, half-price meals) and the personal car's
questions asked after the trips (fiscal horsepower, distance driven this year). Limits are core's."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Group
from aiogram_dialog.widgets.text import Const

from bot.dialogs.common import choices, error, message_input, text_of
from bot.dialogs.declare.navigation import apply, current_draft, goto, header, ids, keep, next_step, window
from bot.states import Declare
from core import declarations
from core.errors import DomainError
from core.parsing import parse_amount, parse_count, parse_distance

NIGHT_SHORTCUTS = 7  # buttons 0..6; any count core accepts can be typed
MEAL_SHORTCUTS = 9


def _choices(widget_id: str, items: str, handler: Any, width: int = 4) -> Group:
    return choices(widget_id, items, handler, key="n", width=width)


def _numbers(count: int) -> list[dict[str, Any]]:
    return [{"n": n, "label": str(n)} for n in range(count)]


# ---- personal car (after the trips) ------------------------------------------------------------------


async def car_hp_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    return {
        "text": f"{header(d, 'trips')}\n\nVéhicule personnel : puissance fiscale (CV, sur la carte grise) ?\n"
        f"Choisissez ou envoyez un nombre de {declarations.MIN_FISCAL_HP} à {declarations.MAX_FISCAL_HP}.",
        "hp_choices": [{"n": n, "label": f"{n} CV"} for n in declarations.FISCAL_HP_CHOICES],
        "current": f"{d.car_fiscal_hp} CV" if d.car_fiscal_hp else "",
    }


async def _car_hp(manager: DialogManager, hp: int) -> None:
    _, _, actor = ids(manager)
    draft = await current_draft(manager)
    if await apply(manager, lambda s, e: declarations.set_car(s, e, hp, draft.car_yearly_km, actor)):
        await goto(manager, Declare.car_km)


async def on_car_hp(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _car_hp(manager, int(item_id))


async def on_car_hp_text(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        await _car_hp(
            manager, parse_count(text_of(message), units=declarations.HP_UNITS, example=declarations.HP_EXAMPLE)
        )
    except DomainError as exc:
        await error(manager, exc)


async def on_keep_car_hp(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto(manager, Declare.car_km)


async def car_km_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    return {
        "text": f"{header(d, 'trips')}\n\nKilomètres déjà parcourus cette année avec ce véhicule pour vos missions "
        f"(le barème en dépend) ?\nExemple : {declarations.YEARLY_KM_EXAMPLE}",
        "current": f"{d.car_yearly_km} km" if d.car_yearly_km is not None else "",
    }


async def _car_km(manager: DialogManager, km: int | None) -> None:
    _, _, actor = ids(manager)
    draft = await current_draft(manager)
    updated = await apply(manager, lambda s, e: declarations.set_car(s, e, draft.car_fiscal_hp, km, actor))
    if updated:
        await next_step(manager, updated)


async def on_car_km(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        km = parse_distance(text_of(message), example=declarations.YEARLY_KM_EXAMPLE)
    except DomainError as exc:
        await error(manager, exc)
        return
    await _car_km(manager, km)


async def on_car_km_unknown(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _car_km(manager, None)


async def on_keep_car_km(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await next_step(manager, await current_draft(manager))


# ---- nights and lodging ------------------------------------------------------------------------------


async def nights_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    answered = d.meals is not None  # the step was answered once: its nights are an answer to keep
    return {
        "text": f"{header(d, 'stay')}\n\nNuits d'hôtel payées par vous pour cette mission ? "
        f"(de 0 à {declarations.MAX_NIGHTS}, actuellement : {d.nights})",
        "night_choices": _numbers(NIGHT_SHORTCUTS),
        "current": f"{d.nights} nuit(s)" if answered else "",
    }


async def _nights(manager: DialogManager, nights: int) -> None:
    _, _, actor = ids(manager)
    try:
        declarations.check_nights(nights)
    except DomainError as exc:
        await error(manager, exc)
        return
    if nights == 0:
        if await apply(manager, lambda s, e: declarations.set_lodging(s, e, 0, None, actor)):
            manager.dialog_data["nights"] = 0
            await goto(manager, Declare.meals)
        return
    manager.dialog_data["nights"] = nights
    await goto(manager, Declare.lodging_amount)


async def on_nights(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _nights(manager, int(item_id))


async def on_nights_text(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        await _nights(
            manager, parse_count(text_of(message), units=declarations.NIGHT_UNITS, example=declarations.NIGHT_EXAMPLE)
        )
    except DomainError as exc:
        await error(manager, exc)


async def on_keep_nights(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _nights(manager, (await current_draft(manager)).nights)


async def lodging_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    nights = dialog_manager.dialog_data.get("nights")
    return {
        "text": f"{header(d, 'stay')}\n\n{nights} nuit(s) : montant total de l'hébergement (sur facture) ?\n"
        f"Exemple : 89,00\nValeur actuelle : {d.lodging_amount or '—'}",
        "current": d.lodging_amount if d.lodging_amount and d.nights == nights else "",
    }


async def on_lodging_amount(message: Message, widget: Any, manager: DialogManager) -> None:
    _, _, actor = ids(manager)
    try:
        amount = parse_amount(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    nights = manager.dialog_data.get("nights") or 0
    if await apply(manager, lambda s, e: declarations.set_lodging(s, e, nights, amount, actor)):
        await goto(manager, Declare.meals)


async def on_keep_lodging(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto(manager, Declare.meals)


# ---- meals ---------------------------------------------------------------------------------------------


async def meals_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    current = "—" if d.meals is None else d.meals
    return {
        "text": f"{header(d, 'stay')}\n\nRepas pris à vos frais pendant la mission ? "
        f"(de 0 à {declarations.MAX_MEALS}, actuellement : {current})",
        "meal_choices": _numbers(MEAL_SHORTCUTS),
        "current": f"{d.meals} repas" if d.meals is not None else "",
    }


async def _meals(manager: DialogManager, meals: int) -> None:
    _, _, actor = ids(manager)
    try:
        declarations.check_meals(meals)
    except DomainError as exc:
        await error(manager, exc)
        return
    if meals == 0:
        draft = await apply(manager, lambda s, e: declarations.set_meals(s, e, 0, 0, actor))
        if draft:
            await next_step(manager, draft)
        return
    manager.dialog_data["meals"] = meals
    await goto(manager, Declare.admin_meals)


async def on_meals(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _meals(manager, int(item_id))


async def on_meals_text(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        await _meals(
            manager, parse_count(text_of(message), units=declarations.MEAL_UNITS, example=declarations.MEAL_EXAMPLE)
        )
    except DomainError as exc:
        await error(manager, exc)


async def on_keep_meals(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _meals(manager, (await current_draft(manager)).meals or 0)


def admin_choices(meals: int) -> list[dict[str, Any]]:
    """Answers to « how many at the administrative restaurant » in words: Oui / Non for one meal."""
    if meals == 1:
        return [{"n": 1, "label": "Oui, au restaurant administratif"}, {"n": 0, "label": "Non"}]
    shown = min(meals, MEAL_SHORTCUTS - 1)
    labels = {0: "Aucun", meals: f"Tous les {meals}"}
    return [{"n": n, "label": labels.get(n, f"{n} sur {meals}")} for n in [*range(shown), meals]]


async def admin_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    meals = dialog_manager.dialog_data.get("meals") or 0
    which = (
        "Ce repas a-t-il été pris"
        if meals == 1
        else f"Sur ces {meals} repas, combien ont été pris (envoyez un nombre ou choisissez)"
    )
    return {
        "text": f"{header(d, 'stay')}\n\n{which} au restaurant administratif (demi-tarif) ?",
        "admin_choices": admin_choices(meals),
        "current": f"{d.admin_meals} sur {meals}" if d.meals == meals and meals > 1 else "",
    }


async def _admin_meals(manager: DialogManager, admin: int) -> None:
    _, _, actor = ids(manager)
    meals = manager.dialog_data.get("meals") or 0
    draft = await apply(manager, lambda s, e: declarations.set_meals(s, e, meals, admin, actor))
    if draft:
        await next_step(manager, draft)


async def on_admin_meals(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _admin_meals(manager, int(item_id))


async def on_admin_text(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        await _admin_meals(
            manager,
            parse_count(text_of(message), units=declarations.MEAL_UNITS, example=declarations.ADMIN_MEAL_EXAMPLE),
        )
    except DomainError as exc:
        await error(manager, exc)


async def on_keep_admin(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _admin_meals(manager, (await current_draft(manager)).admin_meals)


def _text(handler: Any) -> MessageInput:
    return message_input(handler, ContentType.TEXT)


def windows() -> list[Window]:
    return [
        window(
            Declare.car_hp,
            car_hp_getter,
            _text(on_car_hp_text),
            _choices("hp", "hp_choices", on_car_hp, width=5),
            keep("current", "keep_hp", on_keep_car_hp),
        ),
        window(
            Declare.car_km,
            car_km_getter,
            _text(on_car_km),
            Button(Const("Je ne sais pas"), id="car_km_unknown", on_click=on_car_km_unknown),
            keep("current", "keep_km", on_keep_car_km),
        ),
        window(
            Declare.nights,
            nights_getter,
            _text(on_nights_text),
            _choices("nights", "night_choices", on_nights),
            keep("current", "keep_n", on_keep_nights),
        ),
        window(
            Declare.lodging_amount, lodging_getter, _text(on_lodging_amount), keep("current", "keep_l", on_keep_lodging)
        ),
        window(
            Declare.meals,
            meals_getter,
            _text(on_meals_text),
            _choices("meals", "meal_choices", on_meals, width=5),
            keep("current", "keep_m", on_keep_meals),
        ),
        window(
            Declare.admin_meals,
            admin_getter,
            _text(on_admin_text),
            _choices("admin", "admin_choices", on_admin_meals, width=3),
            keep("current", "keep_a", on_keep_admin),
        ),
    ]
