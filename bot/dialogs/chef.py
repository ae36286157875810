"""Chef de centre: the intervenants convoked to the centre, by date, and the service fait attestation.

A tap chooses a mission (or everyone of the day); the next screen shows what was declared and asks
« effectué » or « non effectué »; once attested, the answer can be taken back for a short while.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.kbd import Back, Button, Row, SwitchTo
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy.orm import Session

from bot.dialogs.common import catch_all, choices, error, identity, say, when
from bot.services import run_db
from bot.states import Chef
from core import declarations, missions, service_fait
from core.errors import DomainError, Forbidden
from core.french import format_date, format_datetime, format_duration, format_quantity, format_time
from core.models import EtatDeFrais, MissionType, StaffRole, StaffUser

UNIT_OF = {"copies": "copie", "candidates": "candidat"}
MAX_TEXT = 3500  # characters of intervenants listed in one message (Telegram takes 4096)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


def _staff(session: Session, staff_id: int) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active or user.role != StaffRole.CHEF_CENTRE or user.centre_id is None:
        raise Forbidden("Cet espace est réservé aux chefs de centre.")
    return user


def _efms(session: Session, staff_id: int, day: str | None = None) -> tuple[StaffUser, list[EtatDeFrais]]:
    user = _staff(session, staff_id)
    efms = missions.efms_of_centre(session, user.centre_id)  # type: ignore[arg-type]
    if day is not None:
        efms = [e for e in efms if e.convocation.mission.start_at.date().isoformat() == day]
    return user, efms


def _attested(efm: EtatDeFrais) -> bool:
    return efm.service_fait is not None


def _people(efms: list[EtatDeFrais]) -> str:
    """« 1 intervenant, 2 missions »: people are counted once, whatever their number of missions."""
    people = len({e.convocation.intervenant_id for e in efms})
    text = _plural(people, "intervenant")
    return text if people == len(efms) else f"{text}, {_plural(len(efms), 'mission')}"


def _dates(session: Session, staff_id: int) -> dict[str, Any]:
    user, efms = _efms(session, staff_id)
    by_day: dict[str, list[EtatDeFrais]] = defaultdict(list)
    for efm in efms:
        by_day[efm.convocation.mission.start_at.date().isoformat()].append(efm)
    items = []
    for day, group in sorted(by_day.items()):
        waiting = [e for e in group if not _attested(e)]
        todo = sum(service_fait.awaits_attestation(e) for e in group)
        state = f" · {todo} à attester" if todo else " · à venir" if waiting else " · ✅ tout est attesté"
        label = f"{format_date(group[0].convocation.mission.start_at)} · {_people(group)}{state}"
        items.append({"id": day, "label": label})
    centre = efms[0].convocation.mission.centre.label if efms else f"centre n° {user.centre_id}"
    text = (
        f"Bonjour {user.full_name}.\nIntervenants convoqués à votre centre ({centre}), par date. "
        "Choisissez une date pour attester le service fait :"
        if items
        else "Aucun intervenant n'est convoqué à votre centre pour le moment."
    )
    return {"text": text, "days": items}


def declared(efm: EtatDeFrais) -> str:
    """What the intervenant declared, in a few words: quantity, departure and return times."""
    if efm.service_done is None and efm.departure_at is None:
        return "rien déclaré pour l'instant"
    if efm.service_done is False:
        return "déclare ne pas avoir effectué la mission"
    parts = []
    field = declarations.quantity_field(efm)
    value = getattr(efm, field) if field else None
    if value is not None:
        parts.append(format_duration(value) if field == "practical_minutes" else format_quantity(value, UNIT_OF[field]))
    if efm.departure_at is not None:
        parts.append(f"départ {format_datetime(efm.departure_at)}")
    if efm.return_at is not None:
        parts.append(f"retour {format_datetime(efm.return_at)}")
    return ", ".join(parts) or "mission déclarée effectuée"


def _state(efm: EtatDeFrais) -> str:
    mission = efm.convocation.mission
    if efm.service_fait is not None:
        return "✅ effectué (attesté)" if efm.service_fait.done else "❌ non effectué (attesté)"
    if missions.has_started(mission):
        return "⏳ à attester"
    return f"🕒 à attester à partir du {format_date(mission.start_at)[:5]} à {format_time(mission.start_at)}"


def _mission_line(efm: EtatDeFrais) -> str:
    mission = efm.convocation.mission
    return (
        f"   • Mission n° {mission.number} ({MissionType(mission.mission_type).label}, "
        f"{format_time(mission.start_at)}) : {_state(efm)}\n      Déclaré : {declared(efm)}"
    )


def _by_person(efms: list[EtatDeFrais]) -> list[str]:
    """One block per intervenant with their missions; blocks past what one message holds are summed up."""
    groups: dict[int, list[EtatDeFrais]] = defaultdict(list)
    for efm in efms:
        groups[efm.convocation.intervenant_id].append(efm)
    lines: list[str] = []
    size = 0
    for i, group in enumerate(groups.values(), 1):
        person = group[0].convocation.intervenant
        block = [f"{i}. {person.display_name} (n° {person.numero})", *(_mission_line(e) for e in group)]
        size += sum(len(line) + 1 for line in block)
        if size > MAX_TEXT:
            rest = len(groups) - i + 1
            others = "1 autre intervenant" if rest == 1 else f"{rest} autres intervenants"
            lines.append(f"… et {others} : la console DEC (page Service fait) les liste tous.")
            break
        lines += block
    return lines


def _day(session: Session, staff_id: int, day: str) -> dict[str, Any]:
    _, efms = _efms(session, staff_id, day)
    todo = [
        {
            "id": e.id,
            "label": f"Attester : {e.convocation.intervenant.last_name} (n° {e.convocation.mission.number})",
        }
        for e in efms
        if service_fait.awaits_attestation(e)
    ]
    head = f"Le {format_date(efms[0].convocation.mission.start_at)} · {_people(efms)} :" if efms else "Personne."
    return {"text": "\n".join([head, *_by_person(efms)]), "todo": todo, "several": len(todo) > 1}


def _confirm(session: Session, staff_id: int, day: str, chosen: list[int]) -> dict[str, Any]:
    _, efms = _efms(session, staff_id, day)
    picked = [e for e in efms if e.id in chosen]
    if not picked:
        return {"text": "Ces missions ne sont plus à attester.", "ready": False}
    text = "\n".join(
        [
            f"Service fait du {format_date(picked[0].convocation.mission.start_at)} · {_people(picked)} :",
            *_by_person(picked),
            "",
            "La mission a-t-elle été effectuée ?" if len(picked) == 1 else "Ces missions ont-elles été effectuées ?",
        ]
    )
    return {"text": text, "ready": True}


def _attest(session: Session, staff_id: int, day: str, chosen: list[int], done: bool) -> dict[str, Any]:
    """Attest the chosen missions still waiting; returns what the undo needs and the counts."""
    user, efms = _efms(session, staff_id, day)
    picked = [e for e in efms if e.id in chosen and service_fait.awaits_attestation(e)]
    previous = {str(e.id): None for e in picked}  # nothing was attested before (see service_fait.awaits_attestation)
    service_fait.attest_many(session, picked, done, user, source="bot")
    return {"previous": previous, "people": _people(picked) if picked else ""}


def _undo(session: Session, staff_id: int, day: str, previous: dict[str, bool | None]) -> int:
    user, efms = _efms(session, staff_id, day)
    undone = 0
    for efm in efms:
        if str(efm.id) in previous:
            service_fait.undo(session, efm, user, previous[str(efm.id)])
            undone += 1
    return undone


async def dates_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    try:
        return await run_db(_dates, identity(dialog_manager, "staff").person_id)
    except DomainError as exc:
        return {"text": exc.message, "days": []}


async def day_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return await run_db(_day, identity(dialog_manager, "staff").person_id, dialog_manager.dialog_data["day"])


async def confirm_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    return await run_db(_confirm, identity(dialog_manager, "staff").person_id, data["day"], data.get("chosen", []))


async def attested_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    data = dialog_manager.dialog_data
    minutes = service_fait.UNDO_SECONDS // 60
    return {
        "text": data.get("result", ""),
        "can_undo": bool(data.get("previous")),
        "undo_label": f"↩️ Annuler cette attestation ({minutes} min)",
    }


async def on_day(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    manager.dialog_data["day"] = item_id
    await manager.switch_to(Chef.day)


async def on_pick_one(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    manager.dialog_data["chosen"] = [int(item_id)]
    await manager.switch_to(Chef.confirm)


async def on_pick_all(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    data = await run_db(_day, identity(manager, "staff").person_id, manager.dialog_data["day"])
    manager.dialog_data["chosen"] = [item["id"] for item in data["todo"]]
    await manager.switch_to(Chef.confirm)


async def _do_attest(manager: DialogManager, done: bool) -> None:
    data = manager.dialog_data
    try:
        result = await run_db(_attest, identity(manager, "staff").person_id, data["day"], data.get("chosen", []), done)
    except DomainError as exc:
        await error(manager, exc)
        return
    data["previous"] = result["previous"]
    if not result["previous"]:
        data["result"] = "Rien à attester : c'était déjà fait."
    else:
        answer = "✅ effectué" if done else "❌ non effectué"
        data["result"] = f"Service fait attesté : {answer}, pour {result['people']}."
    await manager.switch_to(Chef.attested)


async def on_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _do_attest(manager, True)


async def on_not_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _do_attest(manager, False)


async def on_undo(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    data = manager.dialog_data
    try:
        count = await run_db(_undo, identity(manager, "staff").person_id, data["day"], data.get("previous", {}))
    except DomainError as exc:
        data["previous"] = {}
        await error(manager, exc)
        return
    data["previous"] = {}
    await say(manager, f"↩️ Attestation annulée ({_plural(count, 'mission')}) : vous pouvez attester de nouveau.")
    await manager.switch_to(Chef.day)


def make_dialog() -> Dialog:
    """A fresh dialog (a router can belong to one dispatcher only)."""
    return Dialog(
        Window(
            Format("{text}"),
            catch_all(),
            choices("day", "days", on_day),
            state=Chef.dates,
            getter=dates_getter,
        ),
        Window(
            Format("{text}"),
            catch_all(),
            choices("one", "todo", on_pick_one),
            Button(Const("Attester tout le monde"), id="all", on_click=on_pick_all, when=when("several")),
            SwitchTo(Const("⬅️ Autres dates"), id="dates", state=Chef.dates),
            state=Chef.day,
            getter=day_getter,
        ),
        Window(
            Format("{text}"),
            catch_all(),
            Row(
                Button(Const("✅ Effectué"), id="done", on_click=on_done, when=when("ready")),
                Button(Const("❌ Non effectué"), id="not_done", on_click=on_not_done, when=when("ready")),
            ),
            Back(Const("⬅️ Retour sans attester")),
            state=Chef.confirm,
            getter=confirm_getter,
        ),
        Window(
            Format("{text}"),
            catch_all(),
            Button(Format("{undo_label}"), id="undo", on_click=on_undo, when=when("can_undo")),
            SwitchTo(Const("⬅️ Retour à la journée"), id="back_day", state=Chef.day),
            state=Chef.attested,
            getter=attested_getter,
        ),
    )
