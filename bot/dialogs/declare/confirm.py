"""Before « Valider »: what Imag'in refuses (and the button that moves trips to the first mission of the day),
and the warnings the intervenant confirms explicitly (« Je confirme ») before the dossier number is given.

The rules and their wording are ``core.checks``'; this module shows them and calls its use cases.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy.orm import Session

from bot.dialogs.common import error, say, when
from bot.dialogs.declare.navigation import current_draft, efm_of, forget_draft, goto, header, ids, window
from bot.services import run_db
from bot.states import Declare
from core import checks
from core.errors import DomainError
from core.models import EtatDeFrais

TO_CONFIRM = "to_confirm"  # in dialog_data: the warnings shown in the confirm window ({"codes", "text"})
CONFIRMED = "confirmed"  # in dialog_data: the codes confirmed with « Je confirme », for the next submit
OnSubmit = Callable[[CallbackQuery, Button, DialogManager], Awaitable[None]]


@dataclass(frozen=True)
class Refusal:
    """Whether Imag'in refuses the declaration as it stands, and where its trips can be moved (a mission number)."""

    refused: bool
    move_to: str | None


def refusal_of(session: Session, efm: EtatDeFrais, problems: list[checks.Problem]) -> Refusal:
    """What the recap needs to hide « Valider » and offer the move (the reasons are in the recap's text), from
    ``checks.blocking_problems`` of this dossier."""
    misplaced = any(p.code == checks.NOT_FIRST_MISSION for p in problems)
    target = checks.trips_move_target(session, efm) if misplaced else None
    return Refusal(bool(problems), target.convocation.mission.number if target is not None else None)


def confirmed(manager: DialogManager) -> list[str]:
    """The warning codes confirmed for this submit (once), none unless « Je confirme » was tapped."""
    return list(manager.dialog_data.pop(CONFIRMED, None) or [])


async def ask(manager: DialogManager, exc: checks.NeedsConfirmation, already: list[str]) -> None:
    """Validation waits for these warnings to be confirmed: open the window that lists them."""
    codes = list(dict.fromkeys([*already, *(w.code for w in exc.warnings)]))
    manager.dialog_data[TO_CONFIRM] = {"codes": codes, "text": exc.message}
    await goto(manager, Declare.confirm)


async def refused(manager: DialogManager, exc: DomainError) -> None:
    """Validation refused (an answer missing, a rule of Imag'in): say why, from the recap."""
    await error(manager, exc)
    if manager.current_context().state == Declare.confirm:  # the way back from the confirm window
        history = manager.dialog_data.get("history") or []
        if history and history[-1] == Declare.recap.state:
            history.pop()
        await manager.switch_to(Declare.recap)


def _move(session: Session, person_id: int, efm_id: int, actor: str) -> tuple[str, int]:
    efm = efm_of(session, person_id, efm_id)
    count = len(efm.trips)
    first = checks.move_trips_to_first_mission(session, efm, actor)
    return first.convocation.mission.number, count - len(efm.trips)


async def on_move(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    person_id, efm_id, actor = ids(manager)
    try:
        number, moved = await run_db(_move, person_id, efm_id, actor)
    except DomainError as exc:
        await error(manager, exc)
        return
    forget_draft(manager)
    await say(manager, f"✅ {moved} trajet(s) déplacé(s) vers la mission n° {number}.")


def move_button() -> Button:
    """« Déplacer les trajets vers la mission n° … », on the recap while its trips are on the wrong mission."""
    return Button(
        Format("🔀 Déplacer les trajets vers la mission n° {move_to}"),
        id="move_trips",
        on_click=on_move,
        when=when("move_to"),
    )


async def confirm_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    draft = await current_draft(dialog_manager)
    shown = dialog_manager.dialog_data.get(TO_CONFIRM) or {"text": ""}
    return {"text": f"{header(draft, 'recap')}\n\n{shown['text']}"}


def confirm_window(on_submit: OnSubmit) -> Window:
    """The warnings listed; « Je confirme » submits with them confirmed, « Retour » goes back to the recap."""

    async def on_confirm(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
        manager.dialog_data[CONFIRMED] = (manager.dialog_data.get(TO_CONFIRM) or {}).get("codes", [])
        await on_submit(callback, button, manager)

    return window(
        Declare.confirm,
        confirm_getter,
        Button(Const("✅ Je confirme"), id="confirm", on_click=on_confirm),
    )
