"""Plumbing of the declaration dialog: the dossier's draft, core calls, moving between steps, the nav row.

The steps, their order and their states come from ``core.steps`` (through the draft); a window only knows
its own question. "Retour" goes back one screen; a step opened from the recap comes back to the recap.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram.enums import ContentType
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy.orm import Session

from bot.dialogs.common import (
    BUTTONS_PLEASE,
    FILE_PLEASE,
    INTERRUPTED,
    TEXT_PLEASE,
    TypedChoice,
    TypedInput,
    catch_all,
    error,
    identity,
    say,
)
from bot.dialogs.declare.receipt_files import KEPT_WITH_MISSION, keep_receipt
from bot.resume import save_resume
from bot.services import run_db
from bot.states import Declare, TripEdit
from bot.views import Draft, draft_of
from core import missions
from core.errors import DomainError
from core.models import EtatDeFrais

# Each step of core.steps and the screens that ask it, the first one opening the step.
SCREENS: dict[str, list[State]] = {
    "done": [Declare.done],
    "quantity": [Declare.quantity],
    "times": [Declare.departure, Declare.return_at],
    "trips": [Declare.trips, Declare.car_hp, Declare.car_km],
    "stay": [Declare.nights, Declare.lodging_amount, Declare.meals, Declare.admin_meals],
    "total": [Declare.receipts_total],
    "receipts": [Declare.receipts],
    "recap": [Declare.recap],
}
STEP_OF = {state.state: name for name, states in SCREENS.items() for state in states}
STATES = {state.state: state for state in (*Declare.__all_states__, *TripEdit.__all_states__)}
TO_RECAP = "to_recap"  # in dialog_data: this step was opened from the recap and goes back to it


# ---- core calls (through bot.services, one transaction each) -----------------------------------


def efm_of(session: Session, person_id: int, efm_id: int) -> EtatDeFrais:
    return missions.efm_of_intervenant(session, person_id, efm_id)


def _load(session: Session, person_id: int, efm_id: int) -> Draft:
    return draft_of(session, efm_of(session, person_id, efm_id))


def _apply(session: Session, person_id: int, efm_id: int, action: Callable[[Session, EtatDeFrais], Any]) -> Draft:
    efm = efm_of(session, person_id, efm_id)
    action(session, efm)
    session.flush()
    return draft_of(session, efm)


def _check(session: Session, person_id: int, efm_id: int, check: Callable[[EtatDeFrais], Any]) -> tuple[Any, Draft]:
    efm = efm_of(session, person_id, efm_id)
    return check(efm), draft_of(session, efm)


def ids(manager: DialogManager) -> tuple[int, int, str]:
    """The intervenant, the état de frais of this dialog (or of the dialog that started it), the audit actor."""
    ident = identity(manager)
    return ident.person_id, manager.start_data["efm_id"], ident.actor  # type: ignore[index]


_DRAFT_KEY = "bot_draft"  # the draft as of now, shared by the handler and the getter of one update


async def current_draft(manager: DialogManager) -> Draft:
    """This état de frais as saved, loaded at most once per update."""
    cached = cached_draft(manager)
    if cached is None:
        person_id, efm_id, _ = ids(manager)
        cached = manager.middleware_data[_DRAFT_KEY] = await run_db(_load, person_id, efm_id)
    return cached


def cached_draft(manager: DialogManager) -> Draft | None:
    """The draft already read in this update (by the handler), None when there is none yet."""
    return manager.middleware_data.get(_DRAFT_KEY)


def remember_draft(manager: DialogManager, draft: Draft) -> None:
    """The draft as of now, read by a handler: the next screen of this update shows it without reading it again."""
    manager.middleware_data[_DRAFT_KEY] = draft


def forget_draft(manager: DialogManager) -> None:
    """Something changed outside `apply` (a receipt stored): read the draft again for the next screen."""
    manager.middleware_data.pop(_DRAFT_KEY, None)


async def apply(manager: DialogManager, action: Callable[[Session, EtatDeFrais], Any]) -> Draft | None:
    """Run a use case on this état de frais; on a refusal, tell why and return None."""
    person_id, efm_id, _ = ids(manager)
    try:
        draft = await run_db(_apply, person_id, efm_id, action)
    except DomainError as exc:
        await error(manager, exc)
        return None
    remember_draft(manager, draft)
    return draft


async def check(manager: DialogManager, action: Callable[[EtatDeFrais], Any]) -> tuple[bool, Any]:
    """Run a core partial check (nothing saved) on this état de frais: (accepted, what it returned).
    Tells the user why not; the draft read on the way serves the next screen of this update."""
    person_id, efm_id, _ = ids(manager)
    try:
        value, draft = await run_db(_check, person_id, efm_id, action)
    except DomainError as exc:
        await error(manager, exc)
        return False, None
    remember_draft(manager, draft)
    return True, value


# ---- moving between screens ---------------------------------------------------------------------


async def goto(manager: DialogManager, state: State) -> None:
    """Move forward to `state`, remembering the way back and (for the declaration) the resume point."""
    current = manager.current_context().state
    history = manager.dialog_data.setdefault("history", [])
    if current != state:
        history.append(current.state)
    if state.state in STEP_OF:
        first = SCREENS[STEP_OF[state.state]][0]
        await save_resume(manager, manager.start_data["efm_id"], first)  # type: ignore[index]
    await manager.switch_to(state)


async def open_step(manager: DialogManager, name: str, *, from_recap: bool = False) -> None:
    """Open a step at its first screen; from the recap, it comes back to the recap once answered."""
    if from_recap:
        manager.dialog_data[TO_RECAP] = True
    await goto(manager, SCREENS[name][0])


async def next_step(manager: DialogManager, draft: Draft) -> None:
    """The step is answered: go to the next one that applies (or back to the recap it was opened from)."""
    if manager.dialog_data.pop(TO_RECAP, False):
        await goto(manager, Declare.recap)
        return
    names = draft.step_names
    current = STEP_OF[manager.current_context().state.state]
    later = names[names.index(current) + 1 :] if current in names else names[-1:]
    await goto(manager, SCREENS[later[0]][0])


def header(draft: Draft, step: str) -> str:
    """« Mission n° … – Étape i/n », i among the steps that apply to this dossier."""
    names = draft.step_names
    index = names.index(step) + 1 if step in names else len(names)
    return f"Mission n° {draft.mission_number} – Étape {index}/{len(names)}"


async def on_back(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """One screen back: the one shown before this one, else (a resumed declaration has no history) the screen
    before it in the declaration's order; from the first step, out of the declaration."""
    history = manager.dialog_data.get("history") or []
    previous = STATES[history.pop()] if history else None
    if previous is None:
        previous = previous_screen(manager.current_context().state, await current_draft(manager))
    if previous is None:
        await manager.done()
        return
    if previous == Declare.recap:  # back at the recap: the step opened from it is left, no longer an edit
        manager.dialog_data.pop(TO_RECAP, None)
    await manager.switch_to(previous)


def previous_screen(state: State, draft: Draft) -> State | None:
    """The screen before `state` in the declaration: its step's first screen, else the first screen of the
    previous step that applies; None from the first step (or outside the declaration's steps)."""
    step = STEP_OF.get(state.state)
    if step is None:
        return None
    if state != SCREENS[step][0]:
        return SCREENS[step][0]
    names = draft.step_names
    index = names.index(step) if step in names else len(names)
    return SCREENS[names[index - 1]][0] if index > 0 else None


async def on_cancel(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await say(manager, INTERRUPTED)
    await manager.done()


NAV = Row(
    Button(Const("⬅️ Retour"), id="back", on_click=on_back), Button(Const("✖️ Annuler"), id="cancel", on_click=on_cancel)
)


FILES_KEPT = f"{KEPT_WITH_MISSION} Répondez maintenant à la question ci-dessous."


async def on_file_elsewhere(message: Message, widget: Any, manager: DialogManager) -> None:
    """A photo or file sent while another question is on screen: kept as a receipt of this dossier (as at the
    « Justificatifs » step), then the question is asked again."""
    person_id, efm_id, actor = ids(manager)
    if await keep_receipt(manager, message, person_id, efm_id, actor):
        forget_draft(manager)
        await say(manager, FILES_KEPT)


def window(state: State, getter: Any, *widgets: Any, nav: Any = NAV) -> Window:
    """A screen: its text from its getter, a typed text naming one of its buttons, its widgets, then whatever else is
    sent, then the nav row. What else is sent is answered for this screen: a screen that takes a typed answer asks
    for it in writing; a photo or a file is kept as a receipt of the dossier."""
    takes = frozenset().union(*(widget.types for widget in widgets if isinstance(widget, TypedInput)))
    hint = FILE_PLEASE if ContentType.PHOTO in takes else TEXT_PLEASE if ContentType.TEXT in takes else BUTTONS_PLEASE
    typed = TypedChoice(whole=ContentType.TEXT in takes)
    keeper = TypedInput(on_file_elsewhere, ContentType.PHOTO, ContentType.DOCUMENT)
    files = [] if ContentType.PHOTO in takes else [keeper]
    return Window(Format("{text}"), typed, *widgets, *files, catch_all(hint), nav, state=state, getter=getter)


def keep(label_key: str, widget_id: str, on_click: Any) -> Button:
    """« ➡️ Garder : <current answer> », shown when the getter gives `label_key`."""
    return Button(
        Format("➡️ Garder : {" + label_key + "}"),
        id=widget_id,
        on_click=on_click,
        when=lambda data, widget, manager: bool(data.get(label_key)),
    )


# ---- dates and times typed together -------------------------------------------------------------


def moment_of(value: Any) -> datetime | None:
    """A datetime kept in dialog data (ISO text)."""
    return datetime.fromisoformat(value) if value else None
