"""Chef de centre: the intervenants convoked to the centre, by date, and the service fait attestation."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.kbd import Back, Button, Column, Select
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy.orm import Session

from bot.dialogs.common import catch_all, error, identity, say, when
from bot.services import run_db
from bot.states import Chef
from core import missions, service_fait
from core.errors import DomainError, Forbidden
from core.french import format_time
from core.models import EtatDeFrais, MissionType, StaffRole, StaffUser


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
    return efm.service_fait is not None and efm.service_fait.done


def _dates(session: Session, staff_id: int) -> dict[str, Any]:
    user, efms = _efms(session, staff_id)
    by_day: dict[str, list[EtatDeFrais]] = defaultdict(list)
    for efm in efms:
        by_day[efm.convocation.mission.start_at.date().isoformat()].append(efm)
    items = []
    for day, group in sorted(by_day.items()):
        waiting = [e for e in group if not _attested(e)]
        todo = sum(missions.has_started(e.convocation.mission) for e in waiting)
        state = f" · {todo} à attester" if todo else " · à venir" if waiting else " · ✅"
        label = f"{day[8:10]}/{day[5:7]}/{day[:4]} · {len(group)} intervenant(s){state}"
        items.append({"id": day, "label": label})
    centre = efms[0].convocation.mission.centre.label if efms else f"centre n° {user.centre_id}"
    text = (
        f"Bonjour {user.full_name}.\nIntervenants convoqués à votre centre ({centre}), par date :"
        if items
        else "Aucun intervenant n'est convoqué à votre centre pour le moment."
    )
    return {"text": text, "days": items}


def _day(session: Session, staff_id: int, day: str) -> dict[str, Any]:
    _, efms = _efms(session, staff_id, day)
    lines, todo = [], []
    for i, efm in enumerate(efms, 1):
        person, mission = efm.convocation.intervenant, efm.convocation.mission
        started = missions.has_started(mission)
        state = (
            "✅ service fait attesté"
            if _attested(efm)
            else "⏳ à attester"
            if started
            else f"🕒 à attester à partir du {mission.start_at:%d/%m à %H:%M}"
        )
        lines.append(
            f"{i}. {person.display_name} – mission n° {mission.number} "
            f"({MissionType(mission.mission_type).label}, {format_time(mission.start_at)}) : {state}"
        )
        if started and not _attested(efm):
            todo.append({"id": efm.id, "label": f"✅ Attester : {person.display_name} (n° {mission.number})"})
    text = f"Le {day[8:10]}/{day[5:7]}/{day[:4]} :\n" + ("\n".join(lines) or "personne.")
    return {"text": text, "todo": todo, "several": len(todo) > 1}


def _attest(session: Session, staff_id: int, day: str, efm_id: int | None) -> int:
    user, efms = _efms(session, staff_id, day)
    chosen = [
        e
        for e in efms
        if not _attested(e) and missions.has_started(e.convocation.mission) and (efm_id is None or e.id == efm_id)
    ]
    return service_fait.attest_many(session, chosen, True, user, source="bot")


async def dates_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    try:
        return await run_db(_dates, identity(dialog_manager, "staff").person_id)
    except DomainError as exc:
        return {"text": exc.message, "days": []}


async def day_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return await run_db(_day, identity(dialog_manager, "staff").person_id, dialog_manager.dialog_data["day"])


async def on_day(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    manager.dialog_data["day"] = item_id
    await manager.switch_to(Chef.day)


async def _do_attest(manager: DialogManager, efm_id: int | None) -> None:
    try:
        count = await run_db(_attest, identity(manager, "staff").person_id, manager.dialog_data["day"], efm_id)
    except DomainError as exc:
        await error(manager, exc)
        return
    await say(
        manager,
        f"✅ Service fait attesté pour {count} intervenant(s)." if count else "Rien à attester : c'était déjà fait.",
    )


async def on_attest_one(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await _do_attest(manager, int(item_id))


async def on_attest_all(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _do_attest(manager, None)


def make_dialog() -> Dialog:
    """A fresh dialog (a router can belong to one dispatcher only)."""
    return Dialog(
        Window(
            Format("{text}"),
            catch_all(),
            Column(
                Select(
                    Format("{item[label]}"), id="day", item_id_getter=lambda i: i["id"], items="days", on_click=on_day
                )
            ),
            state=Chef.dates,
            getter=dates_getter,
        ),
        Window(
            Format("{text}"),
            catch_all(),
            Column(
                Select(
                    Format("{item[label]}"),
                    id="one",
                    item_id_getter=lambda i: i["id"],
                    items="todo",
                    on_click=on_attest_one,
                )
            ),
            Button(Const("✅ Attester tout le monde"), id="all", on_click=on_attest_all, when=when("several")),
            Back(Const("⬅️ Autres dates")),
            state=Chef.day,
            getter=day_getter,
        ),
    )
