"""The recap: every answer with the estimate; each step opens from here and comes back; validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram_dialog import DialogManager, ShowMode, Window
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Const
from sqlalchemy.orm import Session

from bot.dialogs.common import choices, say, when
from bot.dialogs.declare import confirm
from bot.dialogs.declare.navigation import (
    TO_RECAP,
    cached_draft,
    efm_of,
    goto,
    header,
    ids,
    open_step,
    remember_draft,
    window,
)
from bot.resume import save_resume
from bot.services import run_db
from bot.states import Declare
from bot.views import Draft, draft_of, recap_text
from core import checks, declarations, prechecks
from core.checks import NeedsConfirmation
from core.errors import DomainError
from core.recap_pdf import recap_form
from core.steps import StepName, StepState

_MARKS = {StepState.ANSWERED: "✏️", StepState.MISSING: "❔", StepState.BLOCKED: "⏸"}


def _recap(session: Session, person_id: int, efm_id: int, draft: Draft | None) -> tuple[str, Draft, confirm.Refusal]:
    """The recap's text, the draft (``draft``: when the handler already read it) and the refusal, the blocking
    problems computed once for both."""
    efm = efm_of(session, person_id, efm_id)
    problems = checks.blocking_problems(session, efm)
    return (
        recap_text(session, efm, problems),
        draft if draft is not None else draft_of(session, efm),
        confirm.refusal_of(session, efm, problems),
    )


@dataclass(frozen=True)
class Sent:
    """A declaration validated: its dossier number, its recap PDF and the message that says it is sent."""

    number: str
    pdf: bytes
    text: str


def _submit(
    session: Session, person_id: int, efm_id: int, actor: str, confirmed: list[str]
) -> Sent | tuple[NeedsConfirmation, Draft]:
    """The declaration validated; or, while warnings wait for « Je confirme », those and the draft (for the
    confirm window), nothing written. The PDF is rendered after the commit (no lock held while rendering), from
    the dossier as loaded and the flags that submit stored (what was checked)."""
    efm = efm_of(session, person_id, efm_id)
    try:
        number = declarations.submit(session, efm, actor, notify=False, confirmed_warnings=confirmed)
    except NeedsConfirmation as exc:
        draft = draft_of(session, efm)
        session.rollback()
        return exc, draft
    session.commit()
    text = declarations.submitted_text(efm.convocation.mission.number, number)
    return Sent(number, recap_form(session, efm, prechecks.stored_flags(efm)), text)


async def recap_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    person_id, efm_id, _ = ids(dialog_manager)
    text, draft, refusal = await run_db(_recap, person_id, efm_id, cached_draft(dialog_manager))
    recap = draft.steps[-1]
    if not draft.editable:
        text += f"\n\n{declarations.READ_ONLY}"
    elif recap.state is StepState.BLOCKED:
        text += f"\n\n{recap.reason}"
    elif refusal.refused:
        text += "\n\nCorrigez d'abord ce qu'Imag'in refuse (touchez l'étape concernée), puis validez."
    else:
        text += "\n\nTouchez une étape pour la modifier, ou validez."
    return {
        "text": f"{header(draft, 'recap')}\n\n{text}",
        "editable": draft.editable,
        "complete": recap.state is StepState.MISSING and not refusal.refused,
        "move_to": refusal.move_to if draft.editable else None,
        "steps": [
            {"id": s.name.value, "label": f"{_MARKS[s.state]} {s.title}"}
            for s in draft.steps
            if s.name is not StepName.RECAP
        ],
    }


async def on_open_step(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    await open_step(manager, item_id, from_recap=True)


async def on_submit(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """« Valider » (or « Je confirme »): the dossier number once nothing is refused and every warning confirmed."""
    person_id, efm_id, actor = ids(manager)
    confirmed = confirm.confirmed(manager)
    try:
        sent = await run_db(_submit, person_id, efm_id, actor, confirmed)
    except DomainError as exc:
        await confirm.refused(manager, exc)
        return
    if isinstance(sent, tuple):
        exc, draft = sent
        remember_draft(manager, draft)
        await confirm.ask(manager, exc, confirmed)
        return
    await save_resume(manager, efm_id, None)
    await say(manager, f"{sent.text}\nVoici votre état récapitulatif.")
    bot: Bot = manager.middleware_data["bot"]
    await bot.send_document(
        callback.message.chat.id,  # type: ignore[union-attr]
        BufferedInputFile(sent.pdf, f"recapitulatif-{sent.number}.pdf"),
    )
    manager.show_mode = ShowMode.SEND
    await manager.done()


async def on_restart(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    """Every step again, in order: each answered one goes on to the next (not back to the recap)."""
    manager.dialog_data.pop(TO_RECAP, None)
    await goto(manager, Declare.done)


def windows() -> list[Window]:
    return [
        window(
            Declare.recap,
            recap_getter,
            choices("open_step", "steps", on_open_step, width=2, shown_when="editable"),
            confirm.move_button(),
            Button(Const("✅ Valider ma déclaration"), id="submit", on_click=on_submit, when=when("complete")),
            Button(Const("✏️ Revoir depuis le début"), id="restart", on_click=on_restart, when=when("editable")),
        ),
        confirm.confirm_window(on_submit),
    ]
