"""Step « Trajets »: the list of trips, and one trip as a sub-dialog (started, answered field by field, done).

Each field is checked by core as it is typed (the departure alone, then the first leg); the trip is saved
when its last field is answered. Each question offers to keep its current answer (saved, or typed before going
back).
"""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Group, Row
from aiogram_dialog.widgets.text import Const

from bot.dialogs.common import choices, error, message_input, say, text_of
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
    on_back,
    window,
)
from bot.states import Declare, TripEdit
from bot.views import Draft
from core import declarations
from core.errors import DomainError, InvalidInput
from core.french import format_moment
from core.models import EtatDeFrais
from core.parsing import DISTANCE_EXAMPLE, moment_example, parse_distance, parse_moment

# ---- the list ---------------------------------------------------------------------------------------


async def trips_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    lines = [f"{i}. {trip['text']}" for i, trip in enumerate(d.trips, 1)] or ["Aucun trajet pour l'instant."]
    return {
        "text": f"{header(d, 'trips')}\n\nVos trajets (un par déplacement : aller, retour, trajets répétés) :\n"
        + "\n".join(lines)
        + "\n\nAjoutez, modifiez ou supprimez un trajet, puis « Continuer ».",
        "trips": [{"id": trip["id"], "n": i} for i, trip in enumerate(d.trips, 1)],
    }


async def on_add_trip(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.start(TripEdit.depart_at, data={"efm_id": manager.start_data["efm_id"], "trip": {}})  # type: ignore[index]


async def on_edit_trip(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    draft = await current_draft(manager)
    trip = next((t for t in draft.trips if t["id"] == int(item_id)), None)
    if trip is None:
        await error(manager, InvalidInput("Ce trajet n'existe plus."))
        return
    current = {k: v for k, v in trip.items() if k != "text"}
    await manager.start(TripEdit.depart_at, data={"efm_id": manager.start_data["efm_id"], "trip": current})  # type: ignore[index]


async def on_remove_trip(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    _, _, actor = ids(manager)
    if await apply(manager, lambda s, e: declarations.remove_trip(s, e, int(item_id), actor)):
        await say(manager, "🗑 Trajet supprimé.")


async def on_trips_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft = await current_draft(manager)
    if draft.uses_car:
        await goto(manager, Declare.car_hp)
        return
    await next_step(manager, draft)


def list_window() -> Window:
    def trip_buttons(mark: str, widget_id: str, handler: Any) -> Group:
        return choices(widget_id, "trips", handler, label=mark + " {item[n]}", width=4)

    return window(
        Declare.trips,
        trips_getter,
        Button(Const("➕ Ajouter un trajet"), id="add_trip", on_click=on_add_trip),
        trip_buttons("✏️", "edit_trip", on_edit_trip),
        trip_buttons("🗑", "del_trip", on_remove_trip),
        Button(Const("➡️ Continuer"), id="trips_done", on_click=on_trips_done),
    )


# ---- one trip (sub-dialog) -------------------------------------------------------------------------


def _trip(manager: DialogManager) -> dict[str, Any]:
    """The trip being answered: its saved values when changed, what was typed so far."""
    if "trip" not in manager.dialog_data:
        manager.dialog_data["trip"] = dict(manager.start_data.get("trip") or {})  # type: ignore[union-attr]
        manager.dialog_data["saved"] = dict(manager.start_data.get("trip") or {})  # type: ignore[union-attr]
    return manager.dialog_data["trip"]


def _saved(manager: DialogManager) -> dict[str, Any]:
    _trip(manager)
    return manager.dialog_data["saved"]


def _what(manager: DialogManager) -> str:
    return "Modification du trajet" if _saved(manager).get("id") else "Nouveau trajet"


def _cities(draft: Draft, trip: dict[str, Any], departure: bool) -> list[str]:
    """City shortcuts: the trip's current city, the last arrival, the residence, the centre's commune."""
    if departure:
        known = [trip.get("depart_city"), draft.last_arrival_city, draft.residence, draft.centre_commune]
    else:
        known = [trip.get("arrive_city"), draft.centre_commune, draft.residence]
    return list(dict.fromkeys(c.upper() for c in known if c))


async def depart_at_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    trip = _trip(dialog_manager)
    return {
        "text": f"{header(d, 'trips')}\n\n{_what(dialog_manager)} – date et heure de départ ?\n"
        f"Exemple : {moment_example(d.mission_start)}",
        "current": format_moment(moment_of(trip.get("depart_at"))) if trip.get("depart_at") else "",
    }


async def _depart_at(manager: DialogManager, text: str | None) -> None:
    trip = _trip(manager)

    def parse_and_check(efm: EtatDeFrais) -> str:
        moment = (
            parse_moment(text, reference=efm.convocation.mission.start_at) if text else moment_of(trip["depart_at"])
        )
        assert moment is not None
        declarations.check_trip_departure(efm, moment)
        return moment.isoformat()

    accepted, moment = await check(manager, parse_and_check)
    if accepted:
        trip["depart_at"] = moment
        await goto(manager, TripEdit.depart_city)


async def on_depart_at(message: Message, widget: Any, manager: DialogManager) -> None:
    await _depart_at(manager, text_of(message))


async def on_keep_depart_at(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _depart_at(manager, None)


async def city_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    trip = _trip(dialog_manager)
    departure = dialog_manager.current_context().state == TripEdit.depart_city
    if departure:
        ask = f"départ le {format_moment(moment_of(trip.get('depart_at')))}.\nVille de départ ?"
        example, key = d.residence, "depart_city"
    else:
        ask = f"arrivée le {format_moment(moment_of(trip.get('arrive_at')))}.\nVille d'arrivée ?"
        example, key = d.centre_commune, "arrive_city"
    return {
        "text": f"{header(d, 'trips')}\n\n{_what(dialog_manager)} – {ask} Choisissez ou envoyez le nom.\n"
        f"Exemple : {example}",
        "cities": [{"id": i, "name": c} for i, c in enumerate(_cities(d, trip, departure))],
        "current": trip.get(key) or "",
    }


async def _set_city(manager: DialogManager, typed: str) -> None:
    departure = manager.current_context().state == TripEdit.depart_city
    try:
        city = declarations.check_city(typed)
    except DomainError as exc:
        await error(manager, exc)
        return
    _trip(manager)["depart_city" if departure else "arrive_city"] = city
    await goto(manager, TripEdit.arrive_at if departure else TripEdit.mode)


async def on_city_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await _set_city(manager, text_of(message))


async def on_city_pick(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    departure = manager.current_context().state == TripEdit.depart_city
    cities = _cities(await current_draft(manager), _trip(manager), departure)
    if int(item_id) < len(cities):
        await _set_city(manager, cities[int(item_id)])


async def on_keep_city(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    departure = manager.current_context().state == TripEdit.depart_city
    await _set_city(manager, _trip(manager)["depart_city" if departure else "arrive_city"])


async def arrive_at_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    trip = _trip(dialog_manager)
    departure = moment_of(trip.get("depart_at")) or d.mission_start
    arrival = moment_of(trip.get("arrive_at"))
    return {
        "text": f"{header(d, 'trips')}\n\n{_what(dialog_manager)} – départ de {trip.get('depart_city')} le "
        f"{format_moment(departure)}.\nDate et heure d'arrivée ?\nExemple : {moment_example(departure)} "
        "(ou seulement 10:15 si c'est le même jour)",
        "current": format_moment(arrival) if arrival and arrival > departure else "",
    }


async def _arrive_at(manager: DialogManager, text: str | None) -> None:
    trip = _trip(manager)
    departure = moment_of(trip.get("depart_at"))
    assert departure is not None
    try:
        moment = parse_moment(text, reference=departure, day=departure) if text else moment_of(trip["arrive_at"])
    except DomainError as exc:
        await error(manager, exc)
        return
    assert moment is not None
    accepted, _ = await check(manager, lambda efm: declarations.check_trip_arrival(efm, departure, moment))
    if accepted:
        trip["arrive_at"] = moment.isoformat()
        await goto(manager, TripEdit.arrive_city)


async def on_arrive_at(message: Message, widget: Any, manager: DialogManager) -> None:
    await _arrive_at(manager, text_of(message))


async def on_keep_arrive_at(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _arrive_at(manager, None)


async def mode_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    trip = _trip(dialog_manager)
    return {
        "text": f"{header(d, 'trips')}\n\n{_what(dialog_manager)} – {trip.get('depart_city')} → "
        f"{trip.get('arrive_city')}.\nMoyen de transport ? Touchez un bouton ou écrivez-le (train, voiture…).",
        "modes": [{"id": key, "label": label} for key, label in declarations.TRIP_MODES.items()],
        "current": declarations.TRIP_MODES.get(trip.get("mode") or "", ""),
    }


async def _mode(manager: DialogManager, mode: str) -> None:
    trip = _trip(manager)
    trip["mode"] = mode
    if mode == "voiture":
        await goto(manager, TripEdit.km)
        return
    trip["distance_km"] = 0
    await _save_trip(manager)


async def on_mode(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _mode(manager, item_id)


async def on_mode_text(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        mode = declarations.parse_trip_mode(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    await _mode(manager, mode)


async def on_keep_mode(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _mode(manager, _trip(manager)["mode"])


async def km_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    trip = _trip(dialog_manager)
    return {
        "text": f"{header(d, 'trips')}\n\n{_what(dialog_manager)} en véhicule personnel : distance parcourue "
        f"(en km) ?\nExemple : {DISTANCE_EXAMPLE}",
        "current": f"{trip['distance_km']} km" if trip.get("distance_km") else "",
    }


async def _km(manager: DialogManager, km: int) -> None:
    try:
        declarations.check_distance(km)
    except DomainError as exc:
        await error(manager, exc)
        return
    _trip(manager)["distance_km"] = km
    await _save_trip(manager)


async def on_km(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        km = parse_distance(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    await _km(manager, km)


async def on_keep_km(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _km(manager, _trip(manager)["distance_km"])


async def _save_trip(manager: DialogManager) -> None:
    _, _, actor = ids(manager)
    trip, trip_id = _trip(manager), _saved(manager).get("id")
    values = {
        "depart_at": moment_of(trip["depart_at"]),
        "depart_city": trip["depart_city"],
        "arrive_at": moment_of(trip["arrive_at"]),
        "arrive_city": trip["arrive_city"],
        "mode": trip.get("mode", "transport_public"),
        "distance_km": trip.get("distance_km", 0),
    }
    if trip_id:
        draft = await apply(manager, lambda s, e: declarations.update_trip(s, e, trip_id, actor, **values))
    else:
        draft = await apply(manager, lambda s, e: declarations.add_trip(s, e, actor=actor, **values))
    if draft:
        await say(manager, "✅ Trajet enregistré.")
        await manager.done({"saved": True})


async def on_leave_trip(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Back to the list, this trip left as it was."""
    await manager.done()


def _text(handler: Any) -> MessageInput:
    return message_input(handler, ContentType.TEXT)


TRIP_NAV = Row(
    Button(Const("⬅️ Retour"), id="back", on_click=on_back),
    Button(Const("✖️ Laisser ce trajet"), id="leave", on_click=on_leave_trip),
)


def _trip_window(state: Any, getter: Any, *widgets: Any) -> Window:
    return window(state, getter, *widgets, nav=TRIP_NAV)


def _city_select(widget_id: str) -> Group:
    return choices(widget_id, "cities", on_city_pick, label="📍 {item[name]}")


def trip_dialog() -> Dialog:
    """A fresh sub-dialog for one trip (a router can belong to one dispatcher only)."""
    return Dialog(
        _trip_window(
            TripEdit.depart_at, depart_at_getter, _text(on_depart_at), keep("current", "keep_td", on_keep_depart_at)
        ),
        _trip_window(
            TripEdit.depart_city,
            city_getter,
            _text(on_city_text),
            _city_select("from_city"),
            keep("current", "keep_tf", on_keep_city),
        ),
        _trip_window(
            TripEdit.arrive_at, arrive_at_getter, _text(on_arrive_at), keep("current", "keep_ta", on_keep_arrive_at)
        ),
        _trip_window(
            TripEdit.arrive_city,
            city_getter,
            _text(on_city_text),
            _city_select("to_city"),
            keep("current", "keep_tt", on_keep_city),
        ),
        _trip_window(
            TripEdit.mode,
            mode_getter,
            _text(on_mode_text),
            choices("mode", "modes", on_mode),
            keep("current", "keep_tm", on_keep_mode),
        ),
        _trip_window(TripEdit.km, km_getter, _text(on_km), keep("current", "keep_tk", on_keep_km)),
    )
