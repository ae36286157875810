"""The declaration, step by step: every answer goes through a core use case and is saved at once."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aiogram import Bot
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.state import State
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, ShowMode, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Group, Row, Select
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy.orm import Session

from bot.dialogs.common import catch_all, error, identity, say, text_of, when
from bot.resume import save_resume
from bot.services import run_db
from bot.states import Declare
from bot.views import QUANTITY_PROMPTS, Draft, draft_of, recap_text, receipt_names
from core import declarations, missions, receipts
from core.errors import DomainError, InvalidInput
from core.french import format_date, format_moment
from core.models import EtatDeFrais
from core.parsing import parse_amount, parse_count, parse_date, parse_duration, parse_time
from core.recap_pdf import render_recap_pdf

log = logging.getLogger(__name__)
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API cannot hand bigger files to bots
FILE_HINT = (
    "Envoyez une photo ou un fichier gif, jpeg, jpg, png ou pdf de 5 Mo au maximum "
    "(par exemple la photo du billet ou le PDF de la facture)."
)

GROUPS: list[tuple[str, list[State]]] = [
    ("done", [Declare.done]),
    ("quantity", [Declare.quantity]),
    ("times", [Declare.departure, Declare.return_at]),
    (
        "trips",
        [
            Declare.trips,
            Declare.trip_depart_at,
            Declare.trip_from,
            Declare.trip_arrive_at,
            Declare.trip_to,
            Declare.trip_mode,
            Declare.trip_km,
            Declare.car_hp,
            Declare.car_km,
        ],
    ),
    ("stay", [Declare.nights, Declare.lodging_amount, Declare.meals, Declare.admin_meals]),
    ("total", [Declare.receipts_total]),
    ("receipts", [Declare.receipts]),
    ("recap", [Declare.recap]),
]
GROUP_OF = {state.state: name for name, states in GROUPS for state in states}
FIRST_OF = {name: states[0] for name, states in GROUPS}
STATES = {state.state: state for state in Declare.__all_states__}


class _DryRun(Exception):
    """Raised after a use case accepted a value, to roll the check back (validation only)."""


# ---- core calls (run in a worker thread, one transaction each) ---------------------------------


def _efm(session: Session, person_id: int, efm_id: int) -> EtatDeFrais:
    return missions.efm_of_intervenant(session, person_id, efm_id)


def _load(session: Session, person_id: int, efm_id: int) -> Draft:
    return draft_of(session, _efm(session, person_id, efm_id))


def _apply(session: Session, person_id: int, efm_id: int, action: Callable[[Session, EtatDeFrais], Any]) -> Draft:
    efm = _efm(session, person_id, efm_id)
    action(session, efm)
    session.flush()
    return draft_of(session, efm)


def _check(session: Session, person_id: int, efm_id: int, action: Callable[[Session, EtatDeFrais], Any]) -> None:
    """Run a use case only to validate (everything is rolled back); `_DryRun` carries the draft as it was."""
    efm = _efm(session, person_id, efm_id)
    draft = draft_of(session, efm)
    action(session, efm)
    raise _DryRun(draft)


def _receipts(session: Session, person_id: int, efm_id: int) -> list[str]:
    return receipt_names(session, _efm(session, person_id, efm_id))


def _recap(session: Session, person_id: int, efm_id: int) -> dict[str, Any]:
    efm = _efm(session, person_id, efm_id)
    return {"text": recap_text(session, efm), "draft": draft_of(session, efm)}


def _submit(session: Session, person_id: int, efm_id: int, actor: str) -> str:
    return declarations.submit(session, _efm(session, person_id, efm_id), actor)


def _pdf(session: Session, person_id: int, efm_id: int) -> bytes:
    return render_recap_pdf(session, _efm(session, person_id, efm_id).id)


def _add_receipt(
    session: Session, person_id: int, efm_id: int, data: bytes, name: str, ref: str, actor: str
) -> tuple[str, bool]:
    efm = _efm(session, person_id, efm_id)
    receipt, created = receipts.add_receipt(session, efm, data, name, source="chat", source_ref=ref, actor=actor)
    return receipt.original_name, created


# ---- dialog plumbing ---------------------------------------------------------------------------


def _ids(manager: DialogManager) -> tuple[int, int, str]:
    ident = identity(manager)
    return ident.person_id, manager.start_data["efm_id"], ident.actor  # type: ignore[index]


_DRAFT_KEY = "bot_draft"  # the draft as of now, shared by the handler and the getter of one update


async def current_draft(manager: DialogManager) -> Draft:
    """This état de frais as saved, loaded at most once per update."""
    cached = manager.middleware_data.get(_DRAFT_KEY)
    if cached is None:
        person_id, efm_id, _ = _ids(manager)
        cached = manager.middleware_data[_DRAFT_KEY] = await run_db(_load, person_id, efm_id)
    return cached


async def apply(manager: DialogManager, action: Callable[[Session, EtatDeFrais], Any]) -> Draft | None:
    """Run a use case on this état de frais; on a refusal, tell why and return None."""
    person_id, efm_id, _ = _ids(manager)
    try:
        draft = await run_db(_apply, person_id, efm_id, action)
    except DomainError as exc:
        await error(manager, exc)
        return None
    manager.middleware_data[_DRAFT_KEY] = draft
    return draft


async def valid(manager: DialogManager, action: Callable[[Session, EtatDeFrais], Any]) -> bool:
    """Whether the use case would accept this (nothing saved); tells why not. The draft read on the
    way is kept for this update, so the next screen is shown without reading it again."""
    person_id, efm_id, _ = _ids(manager)
    try:
        await run_db(_check, person_id, efm_id, action)
    except _DryRun as dry_run:
        manager.middleware_data[_DRAFT_KEY] = dry_run.args[0]
        return True
    except DomainError as exc:
        await error(manager, exc)
    return False


def groups_for(draft: Draft) -> list[str]:
    """The steps this mission calls for, in order."""
    done = draft.service_done is not False
    names = ["done"]
    if done and draft.quantity_field and draft.has_pay:
        names.append("quantity")
    if done and draft.has_travel:
        names += ["times", "trips", "stay", "total", "receipts"]
    return [*names, "recap"]


async def goto(manager: DialogManager, state: State) -> None:
    """Move forward to `state`, remembering the way back and the resume point."""
    current = manager.current_context().state
    history = manager.dialog_data.setdefault("history", [])
    if current != state:
        history.append(current.state)
    await save_resume(manager, manager.start_data["efm_id"], FIRST_OF[GROUP_OF[state.state]])  # type: ignore[index]
    await manager.switch_to(state)


async def next_step(manager: DialogManager, draft: Draft) -> None:
    """Go to the first state of the step after the current one."""
    names = groups_for(draft)
    current = GROUP_OF[manager.current_context().state.state]
    later = names[names.index(current) + 1 :] if current in names else names[-1:]
    await goto(manager, FIRST_OF[later[0]])


async def on_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    history = manager.dialog_data.get("history") or []
    if not history:
        await manager.done()
        return
    await manager.switch_to(STATES[history.pop()])


async def on_cancel(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await say(
        manager,
        "Saisie interrompue. Vos réponses sont enregistrées : vous pourrez reprendre ici "
        "quand vous voudrez (/missions).",
    )
    await manager.done()


NAV = Row(
    Button(Const("⬅️ Retour"), id="back", on_click=on_back), Button(Const("✖️ Annuler"), id="cancel", on_click=on_cancel)
)


def moment_example(day: datetime) -> str:
    """An example of a date and time to type, on `day` (the mission's, so it reads as a likely answer)."""
    return f"{format_date(day)} 07:30"


def parse_moment(text: str, *, reference: datetime, day: datetime | None = None) -> datetime:
    """A date and time typed together ("02/12/2022 07:30", "2 décembre 7h30"), in the year of `reference`
    unless typed; a time alone takes the date of `day`."""
    year = reference.year
    words = text.replace(" à ", " ").split()
    if day is not None and words:
        try:
            return datetime.combine(day.date(), parse_time(" ".join(words)))
        except InvalidInput:
            pass
    for cut in range(len(words) - 1, 0, -1):
        try:
            return datetime.combine(
                parse_date(" ".join(words[:cut]), default_year=year), parse_time(" ".join(words[cut:]))
            )
        except InvalidInput:
            continue
    raise InvalidInput(
        f"Date et heure invalides : « {text[:40]} ». Indiquez la date puis l'heure. "
        f"Exemple attendu : {moment_example(day or reference)}"
    )


# ---- getter ------------------------------------------------------------------------------------


def _step_header(draft: Draft, state: State) -> str:
    names = groups_for(draft)
    group = GROUP_OF[state.state]
    index = names.index(group) + 1 if group in names else len(names)
    return f"Mission n° {draft.mission_number} – Étape {index}/{len(names)}"


def _prompt(state: State, d: Draft, data: dict[str, Any]) -> str:
    trip = data.get("trip") or {}
    if state == Declare.done:
        current = {True: "effectuée", False: "non effectuée", None: "pas encore indiquée"}[d.service_done]
        return f"{d.card}\n\nAvez-vous effectué cette mission ? (réponse actuelle : {current})"
    if state == Declare.quantity:
        label, example = QUANTITY_PROMPTS[d.quantity_field or "copies"]
        return f"{label} ? Envoyez un nombre.\nExemple : {example}\nValeur actuelle : {d.quantity_text}"
    if state == Declare.departure:
        return (
            "Date et heure de départ de votre résidence pour cette mission ?\n"
            f"Exemple : {moment_example(d.mission_start)}\nValeur actuelle : {format_moment(d.departure_at)}"
        )
    if state == Declare.return_at:
        return (
            f"Départ : {format_moment(_dt(data.get('departure')))}\nDate et heure de retour à votre résidence ?\n"
            f"Exemple : {moment_example(d.mission_start)} (ou seulement 19:00 si c'est le jour du départ)\n"
            f"Valeur actuelle : {format_moment(d.return_at)}"
        )
    if state == Declare.trips:
        lines = [f"{i}. {trip['text']}" for i, trip in enumerate(d.trips, 1)] or ["Aucun trajet pour l'instant."]
        return (
            "Vos trajets (un par déplacement : aller, retour, trajets répétés) :\n"
            + "\n".join(lines)
            + "\n\nAjoutez, modifiez ou supprimez un trajet, puis « Continuer »."
        )
    what = "Nouveau trajet" if not trip.get("id") else "Modification du trajet"
    if state == Declare.trip_depart_at:
        return f"{what} – date et heure de départ ?\nExemple : {moment_example(d.mission_start)}" + (
            f"\nValeur actuelle : {format_moment(_dt(trip.get('depart_at')))}" if trip.get("depart_at") else ""
        )
    if state == Declare.trip_from:
        return (
            f"{what} – départ le {format_moment(_dt(trip.get('depart_at')))}.\nVille de départ ? "
            f"Choisissez ou envoyez le nom.\nExemple : {d.residence}"
        )
    if state == Declare.trip_arrive_at:
        departure = _dt(trip.get("depart_at")) or d.mission_start
        return (
            f"{what} – départ de {trip.get('depart_city')} le {format_moment(departure)}.\n"
            f"Date et heure d'arrivée ?\nExemple : {moment_example(departure)} (ou seulement 10:15 si c'est le "
            "même jour)"
        )
    if state == Declare.trip_to:
        return (
            f"{what} – arrivée le {format_moment(_dt(trip.get('arrive_at')))}.\nVille d'arrivée ? "
            f"Choisissez ou envoyez le nom.\nExemple : {d.centre_commune}"
        )
    if state == Declare.trip_mode:
        return f"{what} – {trip.get('depart_city')} → {trip.get('arrive_city')}.\nMoyen de transport ?"
    if state == Declare.trip_km:
        current = f"\nValeur actuelle : {trip['distance_km']} km" if trip.get("distance_km") else ""
        return f"{what} en véhicule personnel : distance parcourue (en km) ?\nExemple : 62{current}"
    if state == Declare.car_hp:
        current = f" (actuellement : {d.car_fiscal_hp} CV)" if d.car_fiscal_hp else ""
        return f"Véhicule personnel : puissance fiscale (CV, sur la carte grise){current} ?"
    if state == Declare.car_km:
        current = f"\nValeur actuelle : {d.car_yearly_km} km" if d.car_yearly_km is not None else ""
        return (
            "Kilomètres déjà parcourus cette année avec ce véhicule pour vos missions (le barème en dépend) ?"
            f"\nExemple : 1500{current}"
        )
    if state == Declare.nights:
        return f"Nuits d'hôtel payées par vous pour cette mission ? (actuellement : {d.nights})"
    if state == Declare.lodging_amount:
        return (
            f"{data.get('nights')} nuit(s) : montant total de l'hébergement (sur facture) ?\n"
            f"Exemple : 89,00\nValeur actuelle : {d.lodging_amount or '—'}"
        )
    if state == Declare.meals:
        current = "—" if d.meals is None else d.meals
        return f"Repas pris à vos frais pendant la mission ? (actuellement : {current})"
    if state == Declare.admin_meals:
        meals = data.get("meals")
        which = "Ce repas a-t-il été pris" if meals == 1 else f"Sur ces {meals} repas, combien ont été pris"
        return f"{which} au restaurant administratif (demi-tarif) ?"
    if state == Declare.receipts_total:
        return (
            "Montant total de vos justificatifs (transport, hébergement…) ?\nExemple : 45,80\n"
            f"Valeur actuelle : {d.receipts_total or '—'}"
        )
    if state == Declare.receipts:
        files = "\n".join(f"  📎 {name}" for name in data.get("receipt_names", [])) or "  aucun pour l'instant"
        mail = (
            f"\n📧 Envoi par e-mail annoncé : à {d.mail_address}, objet « {d.mail_reference} »."
            if d.receipts_by_email
            else ""
        )
        return f"Justificatifs : {FILE_HINT}\nVous pouvez en envoyer plusieurs, ici même.\nReçus :\n{files}{mail}"
    return ""


def _cities(draft: Draft, trip: dict[str, Any], state: State) -> list[str]:
    """City shortcuts: the trip's current city, the last arrival, the residence, the centre's commune."""
    if state == Declare.trip_from:
        known = [trip.get("depart_city"), draft.last_arrival_city, draft.residence, draft.centre_commune]
    else:
        known = [trip.get("arrive_city"), draft.centre_commune, draft.residence]
    return [c for c in dict.fromkeys(c.upper() for c in known if c)]


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    person_id, efm_id, _ = _ids(dialog_manager)
    state = dialog_manager.current_context().state
    data = dialog_manager.dialog_data
    if state == Declare.recap:
        recap = await run_db(_recap, person_id, efm_id)
        draft: Draft = recap["draft"]
        body = recap["text"] + ("" if draft.editable else "\n\nCe dossier est validé : il ne peut plus être modifié.")
    else:
        draft = await current_draft(dialog_manager)
        if state == Declare.receipts:
            data = {**data, "receipt_names": await run_db(_receipts, person_id, efm_id)}
        body = _prompt(state, draft, data)
    trip = data.get("trip") or {}
    cities = _cities(draft, trip, state)
    meals = data.get("meals") or 0
    return {
        "text": f"{_step_header(draft, state)}\n\n{body}",
        "editable": draft.editable,
        "has_quantity": draft.quantity is not None,
        "has_times": draft.departure_at is not None,
        "trips": [{"id": trip["id"], "n": i} for i, trip in enumerate(draft.trips, 1)],
        "keep_trip_depart": bool(trip.get("depart_at")),
        "cities": [{"id": i, "name": c} for i, c in enumerate(cities)],
        "night_choices": [{"n": n} for n in range(0, 7)],
        "meal_choices": [{"n": n} for n in range(0, 9)],
        "admin_choices": [{"n": n} for n in range(0, min(meals, 8) + 1)],
        "has_total": draft.receipts_total is not None,
        "modes": [{"id": key, "label": label} for key, label in declarations.TRIP_MODES.items()],
        "hp_choices": [{"n": n} for n in range(3, 11)],
    }


# ---- handlers ----------------------------------------------------------------------------------


async def on_start(start_data: Any, manager: DialogManager) -> None:
    manager.dialog_data["history"] = []
    if isinstance(start_data, dict) and start_data.get("resumed"):
        await say(manager, "▶️ Reprise de votre saisie là où vous l'aviez laissée.")


async def on_done_choice(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    done = button.widget_id == "done_yes"
    draft = await apply(manager, lambda s, e: declarations.set_service_done(s, e, done, actor))
    if draft:
        await next_step(manager, draft)


def _parse_quantity(efm: EtatDeFrais, text: str) -> int:
    """The quantity typed for this mission: a duration for practical exams, else a count."""
    return parse_duration(text) if declarations.quantity_field(efm) == "practical_minutes" else parse_count(text)


async def on_quantity(message: Message, widget: Any, manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    text = text_of(message)
    draft = await apply(manager, lambda s, e: declarations.set_quantity(s, e, _parse_quantity(e, text), actor))
    if draft:
        await next_step(manager, draft)


async def on_keep(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Keep the saved answer of this step and go on."""
    draft = await current_draft(manager)
    state = manager.current_context().state
    if state == Declare.departure and draft.departure_at:
        manager.dialog_data["departure"] = draft.departure_at.isoformat()
        await goto(manager, Declare.return_at)
        return
    await next_step(manager, draft)


async def valid_moment(
    manager: DialogManager, text: str, check: Callable[[Session, EtatDeFrais, datetime], Any]
) -> datetime | None:
    """A date and time typed for this mission (the mission's year by default), parsed and checked with
    `check` in one database round trip; None when refused (the user is told why)."""
    typed: list[datetime] = []

    def action(session: Session, efm: EtatDeFrais) -> None:
        typed.append(parse_moment(text, reference=efm.convocation.mission.start_at))
        check(session, efm, typed[0])

    return typed[0] if await valid(manager, action) else None


async def on_departure(message: Message, widget: Any, manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    moment = await valid_moment(
        manager,
        text_of(message),
        lambda s, e, moment: declarations.set_times(s, e, moment, moment + timedelta(minutes=1), actor),
    )
    if moment:
        manager.dialog_data["departure"] = moment.isoformat()
        await goto(manager, Declare.return_at)


async def on_return(message: Message, widget: Any, manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    departure = _dt(manager.dialog_data.get("departure"))
    if departure is None:
        await manager.switch_to(Declare.departure)
        return
    try:
        moment = parse_moment(text_of(message), reference=departure, day=departure)
    except DomainError as exc:
        await error(manager, exc)
        return
    draft = await apply(manager, lambda s, e: declarations.set_times(s, e, departure, moment, actor))
    if draft:
        await next_step(manager, draft)


async def on_add_trip(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data["trip"] = {}
    await goto(manager, Declare.trip_depart_at)


async def on_edit_trip(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    draft = await current_draft(manager)
    trip = next((t for t in draft.trips if t["id"] == int(item_id)), None)
    if trip is None:
        await error(manager, InvalidInput("Ce trajet n'existe plus."))
        return
    manager.dialog_data["trip"] = {k: v for k, v in trip.items() if k != "text"}
    await goto(manager, Declare.trip_depart_at)


async def on_remove_trip(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    _, _, actor = _ids(manager)
    if await apply(manager, lambda s, e: declarations.remove_trip(s, e, int(item_id), actor)):
        await say(manager, "🗑 Trajet supprimé.")


async def on_trip_depart(message: Message, widget: Any, manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    moment = await valid_moment(
        manager,
        text_of(message),
        lambda s, e, moment: declarations.add_trip(s, e, moment, "X", moment + timedelta(minutes=1), "X", actor),
    )
    if moment:
        manager.dialog_data["trip"]["depart_at"] = moment.isoformat()
        await goto(manager, Declare.trip_from)


async def on_keep_trip_depart(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto(manager, Declare.trip_from)


async def _set_city(manager: DialogManager, key: str, city: str) -> None:
    trip = manager.dialog_data["trip"]
    city = " ".join(city.split())
    if not city or len(city) > 120 or not any(c.isalpha() for c in city):
        await error(manager, InvalidInput("Nom de ville invalide. Exemple attendu : ST LO"))
        return
    trip[key] = city
    await goto(manager, Declare.trip_arrive_at if key == "depart_city" else Declare.trip_mode)


async def on_trip_mode(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    trip = manager.dialog_data["trip"]
    trip["mode"] = item_id
    if item_id == "voiture":
        await goto(manager, Declare.trip_km)
        return
    trip["distance_km"] = 0
    await _save_trip(manager)


async def on_trip_km(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        manager.dialog_data["trip"]["distance_km"] = parse_count(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    await _save_trip(manager)


async def on_city_text(message: Message, widget: Any, manager: DialogManager) -> None:
    key = "depart_city" if manager.current_context().state == Declare.trip_from else "arrive_city"
    await _set_city(manager, key, text_of(message))


async def on_city_pick(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    key = "depart_city" if manager.current_context().state == Declare.trip_from else "arrive_city"
    draft = await current_draft(manager)
    cities = _cities(draft, manager.dialog_data.get("trip") or {}, manager.current_context().state)
    if int(item_id) >= len(cities):
        return
    await _set_city(manager, key, cities[int(item_id)])


async def on_trip_arrive(message: Message, widget: Any, manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    trip = manager.dialog_data["trip"]
    departure = _dt(trip.get("depart_at"))
    assert departure is not None
    try:
        moment = parse_moment(text_of(message), reference=departure, day=departure)
    except DomainError as exc:
        await error(manager, exc)
        return
    if await valid(manager, lambda s, e: declarations.add_trip(s, e, departure, "X", moment, "X", actor)):
        trip["arrive_at"] = moment.isoformat()
        await goto(manager, Declare.trip_to)


async def _save_trip(manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    trip = dict(manager.dialog_data["trip"])
    values = {
        "depart_at": _dt(trip["depart_at"]),
        "depart_city": trip["depart_city"],
        "arrive_at": _dt(trip["arrive_at"]),
        "arrive_city": trip["arrive_city"],
        "mode": trip.get("mode", "transport_public"),
        "distance_km": trip.get("distance_km", 0),
    }
    if trip.get("id"):
        draft = await apply(manager, lambda s, e: declarations.update_trip(s, e, trip["id"], actor, **values))
    else:
        draft = await apply(manager, lambda s, e: declarations.add_trip(s, e, actor=actor, **values))
    if draft:
        manager.dialog_data["trip"] = {}
        manager.dialog_data["history"] = [h for h in manager.dialog_data.get("history", []) if GROUP_OF[h] != "trips"]
        await say(manager, "✅ Trajet enregistré.")
        await manager.switch_to(Declare.trips)


async def on_trips_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    draft = await current_draft(manager)
    if draft.uses_car:
        await goto(manager, Declare.car_hp)
        return
    await next_step(manager, draft)


async def on_car_hp(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _car_hp(manager, int(item_id))


async def on_car_hp_text(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        await _car_hp(manager, parse_count(text_of(message)))
    except DomainError as exc:
        await error(manager, exc)


async def _car_hp(manager: DialogManager, hp: int) -> None:
    _, _, actor = _ids(manager)
    draft = await current_draft(manager)
    if await apply(manager, lambda s, e: declarations.set_car(s, e, hp, draft.car_yearly_km, actor)):
        await goto(manager, Declare.car_km)


async def on_car_km(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        km = parse_count(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    await _car_km(manager, km)


async def on_car_km_unknown(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _car_km(manager, None)


async def _car_km(manager: DialogManager, km: int | None) -> None:
    _, _, actor = _ids(manager)
    draft = await current_draft(manager)
    updated = await apply(manager, lambda s, e: declarations.set_car(s, e, draft.car_fiscal_hp, km, actor))
    if updated:
        await next_step(manager, updated)


async def on_nights(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _nights(manager, int(item_id))


async def on_nights_text(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        await _nights(manager, parse_count(text_of(message)))
    except DomainError as exc:
        await error(manager, exc)


async def _nights(manager: DialogManager, nights: int) -> None:
    _, _, actor = _ids(manager)
    if nights == 0:
        if await apply(manager, lambda s, e: declarations.set_lodging(s, e, 0, None, actor)):
            manager.dialog_data["nights"] = 0
            await goto(manager, Declare.meals)
        return
    if nights > declarations.MAX_NIGHTS:
        await error(
            manager, InvalidInput(f"Nombre de nuits invalide (0 à {declarations.MAX_NIGHTS}). Exemple attendu : 2")
        )
        return
    manager.dialog_data["nights"] = nights
    await goto(manager, Declare.lodging_amount)


async def on_lodging_amount(message: Message, widget: Any, manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    try:
        amount = parse_amount(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    nights = manager.dialog_data.get("nights") or 0
    if await apply(manager, lambda s, e: declarations.set_lodging(s, e, nights, amount, actor)):
        await goto(manager, Declare.meals)


async def on_meals(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _meals(manager, int(item_id))


async def on_meals_text(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        value = parse_count(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    if manager.current_context().state == Declare.meals:
        await _meals(manager, value)
    else:
        await _admin_meals(manager, value)


async def _meals(manager: DialogManager, meals: int) -> None:
    _, _, actor = _ids(manager)
    if meals == 0:
        draft = await apply(manager, lambda s, e: declarations.set_meals(s, e, 0, 0, actor))
        if draft:
            await next_step(manager, draft)
        return
    if await valid(manager, lambda s, e: declarations.set_meals(s, e, meals, 0, actor)):
        manager.dialog_data["meals"] = meals
        await goto(manager, Declare.admin_meals)


async def on_admin_meals(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _admin_meals(manager, int(item_id))


async def _admin_meals(manager: DialogManager, admin: int) -> None:
    _, _, actor = _ids(manager)
    meals = manager.dialog_data.get("meals") or 0
    draft = await apply(manager, lambda s, e: declarations.set_meals(s, e, meals, admin, actor))
    if draft:
        await next_step(manager, draft)


async def on_total(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        amount = parse_amount(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    await _total(manager, amount)


async def on_no_receipt(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _total(manager, Decimal("0.00"))


async def _total(manager: DialogManager, amount: Decimal) -> None:
    _, _, actor = _ids(manager)
    draft = await apply(manager, lambda s, e: declarations.set_receipts_total(s, e, amount, actor))
    if draft:
        await next_step(manager, draft)


async def on_file(message: Message, widget: Any, manager: DialogManager) -> None:
    person_id, efm_id, actor = _ids(manager)
    if message.photo:
        item, name = message.photo[-1], f"photo-{message.message_id}.jpg"
    elif message.document:
        item, name = message.document, message.document.file_name or f"document-{message.message_id}"
    else:
        await error(manager, InvalidInput(FILE_HINT))
        return
    if item.file_size and item.file_size > TELEGRAM_DOWNLOAD_LIMIT:
        await error(manager, InvalidInput(f"« {name} » est trop volumineux : 5 Mo au maximum. {FILE_HINT}"))
        return
    bot: Bot = manager.middleware_data["bot"]
    buffer = io.BytesIO()
    try:
        await bot.download(item.file_id, destination=buffer)
    except TelegramAPIError:  # Telegram could not hand the file over (network, file expired): nothing stored
        log.warning("download of %s failed", name, exc_info=True)
        await say(manager, f"❗ « {name} » n'a pas pu être récupéré auprès de Telegram : renvoyez-le. {FILE_HINT}")
        return
    try:
        stored, created = await run_db(
            _add_receipt,
            person_id,
            efm_id,
            buffer.getvalue(),
            name,
            f"telegram:{message.chat.id}:{message.message_id}",
            actor,
        )
    except DomainError as exc:
        await say(manager, f"❗ {exc.message}\n{FILE_HINT}")
        return
    manager.middleware_data.pop(_DRAFT_KEY, None)
    await say(
        manager,
        f"✅ Justificatif « {stored} » reçu." if created else f"Ce justificatif (« {stored} ») était déjà enregistré.",
    )


async def on_receipt_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await error(manager, InvalidInput(f"{FILE_HINT} Sinon, choisissez « par e-mail » ou « Continuer »."))


async def on_by_email(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    _, _, actor = _ids(manager)
    draft = await apply(manager, lambda s, e: declarations.set_receipts_by_email(s, e, True, actor))
    if draft:
        await say(
            manager,
            f"📧 Envoyez vos justificatifs à {draft.mail_address} en indiquant en objet : "
            f"« {draft.mail_reference} ». Formats : gif, jpeg, jpg, png ou pdf, 5 Mo au maximum "
            "par fichier.",
        )


async def on_submit(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    person_id, efm_id, actor = _ids(manager)
    try:
        number = await run_db(_submit, person_id, efm_id, actor)
    except DomainError as exc:
        await error(manager, exc)
        return
    pdf = await run_db(_pdf, person_id, efm_id)  # after the commit: no lock held while rendering
    await save_resume(manager, efm_id, None)
    await say(
        manager,
        f"✅ Votre état de frais est validé. Numéro de dossier : {number}.\n"
        "Il est transmis à la DEC pour vérification. Voici votre état récapitulatif.",
    )
    bot: Bot = manager.middleware_data["bot"]
    await bot.send_document(
        callback.message.chat.id,  # type: ignore[union-attr]
        BufferedInputFile(pdf, f"recapitulatif-{number}.pdf"),
    )
    manager.show_mode = ShowMode.SEND
    await manager.done()


async def on_restart(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await goto(manager, Declare.done)


def _text_input(handler: Any) -> MessageInput:
    return MessageInput(handler, content_types=[ContentType.TEXT])


def _window(state: State, *widgets: Any) -> Window:
    return Window(Format("{text}"), *widgets, catch_all(), NAV, state=state, getter=getter)


def _choices(widget_id: str, items: str, handler: Any, width: int = 4) -> Group:
    return Group(
        Select(Format("{item[n]}"), id=widget_id, item_id_getter=lambda i: i["n"], items=items, on_click=handler),
        width=width,
    )


def make_dialog() -> Dialog:
    """A fresh dialog (a router can belong to one dispatcher only)."""
    return Dialog(
        _window(
            Declare.done,
            Row(
                Button(Const("✅ Oui, effectuée"), id="done_yes", on_click=on_done_choice),
                Button(Const("❌ Non effectuée"), id="done_no", on_click=on_done_choice),
            ),
        ),
        _window(
            Declare.quantity,
            _text_input(on_quantity),
            Button(Const("➡️ Garder la valeur actuelle"), id="keep_q", on_click=on_keep, when=when("has_quantity")),
        ),
        _window(
            Declare.departure,
            _text_input(on_departure),
            Button(Const("➡️ Garder les horaires actuels"), id="keep_t", on_click=on_keep, when=when("has_times")),
        ),
        _window(Declare.return_at, _text_input(on_return)),
        _window(
            Declare.trips,
            Button(Const("➕ Ajouter un trajet"), id="add_trip", on_click=on_add_trip),
            Group(
                Select(
                    Format("✏️ {item[n]}"),
                    id="edit_trip",
                    item_id_getter=lambda i: i["id"],
                    items="trips",
                    on_click=on_edit_trip,
                ),
                width=4,
            ),
            Group(
                Select(
                    Format("🗑 {item[n]}"),
                    id="del_trip",
                    item_id_getter=lambda i: i["id"],
                    items="trips",
                    on_click=on_remove_trip,
                ),
                width=4,
            ),
            Button(Const("➡️ Continuer"), id="trips_done", on_click=on_trips_done),
        ),
        _window(
            Declare.trip_depart_at,
            _text_input(on_trip_depart),
            Button(
                Const("➡️ Garder la date actuelle"),
                id="keep_td",
                on_click=on_keep_trip_depart,
                when=when("keep_trip_depart"),
            ),
        ),
        _window(
            Declare.trip_from,
            _text_input(on_city_text),
            Column(
                Select(
                    Format("📍 {item[name]}"),
                    id="from_city",
                    item_id_getter=lambda i: i["id"],
                    items="cities",
                    on_click=on_city_pick,
                )
            ),
        ),
        _window(Declare.trip_arrive_at, _text_input(on_trip_arrive)),
        _window(
            Declare.trip_to,
            _text_input(on_city_text),
            Column(
                Select(
                    Format("📍 {item[name]}"),
                    id="to_city",
                    item_id_getter=lambda i: i["id"],
                    items="cities",
                    on_click=on_city_pick,
                )
            ),
        ),
        _window(
            Declare.trip_mode,
            Column(
                Select(
                    Format("{item[label]}"),
                    id="mode",
                    item_id_getter=lambda i: i["id"],
                    items="modes",
                    on_click=on_trip_mode,
                )
            ),
        ),
        _window(Declare.trip_km, _text_input(on_trip_km)),
        _window(Declare.car_hp, _text_input(on_car_hp_text), _choices("hp", "hp_choices", on_car_hp)),
        _window(
            Declare.car_km,
            _text_input(on_car_km),
            Button(Const("Je ne sais pas"), id="car_km_unknown", on_click=on_car_km_unknown),
        ),
        _window(Declare.nights, _text_input(on_nights_text), _choices("nights", "night_choices", on_nights)),
        _window(Declare.lodging_amount, _text_input(on_lodging_amount)),
        _window(Declare.meals, _text_input(on_meals_text), _choices("meals", "meal_choices", on_meals, width=5)),
        _window(
            Declare.admin_meals, _text_input(on_meals_text), _choices("admin", "admin_choices", on_admin_meals, width=5)
        ),
        _window(
            Declare.receipts_total,
            _text_input(on_total),
            Button(Const("Aucun justificatif (0,00 €)"), id="no_receipt", on_click=on_no_receipt),
            Button(Const("➡️ Garder le montant actuel"), id="keep_total", on_click=on_keep, when=when("has_total")),
        ),
        _window(
            Declare.receipts,
            MessageInput(on_file, content_types=[ContentType.PHOTO, ContentType.DOCUMENT]),
            _text_input(on_receipt_text),
            Button(Const("📧 Je les enverrai par e-mail"), id="by_email", on_click=on_by_email),
            Button(Const("➡️ Continuer"), id="receipts_done", on_click=on_keep),
        ),
        _window(
            Declare.recap,
            Button(Const("✅ Valider ma déclaration"), id="submit", on_click=on_submit, when=when("editable")),
            Button(Const("✏️ Revoir depuis le début"), id="restart", on_click=on_restart, when=when("editable")),
        ),
        on_start=on_start,
    )
