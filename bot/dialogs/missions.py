"""My missions: the list with both statuses, and a mission card."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.kbd import Back, Button
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy.orm import Session

from bot.dialogs.common import TypedChoice, catch_all, choices, error, identity, message_input, say, when
from bot.dialogs.declare.receipt_files import KEPT_WITH_MISSION, keep_receipt
from bot.resume import resume_point
from bot.services import run_db
from bot.states import Declare, Missions
from bot.views import MISSION_MARKS, draft_of, mission_line
from core import missions, permissions
from core.errors import DomainError, NotFound
from core.recap_pdf import render_recap_pdf


def _listing(session: Session, intervenant_id: int) -> list[dict[str, Any]]:
    return [{"id": efm.id, "label": mission_line(efm)} for efm in missions.efms_of_intervenant(session, intervenant_id)]


def _card(session: Session, intervenant_id: int, efm_id: int) -> dict[str, Any]:
    efm = missions.efm_of_intervenant(session, intervenant_id, efm_id)
    draft = draft_of(session, efm)
    allowed = permissions.allowed_actions(efm, efm.convocation.intervenant)
    text = f"{draft.card}\n\n{draft.statuses}"
    if draft.dossier_number:
        text += f"\nDossier n° {draft.dossier_number}"
    elif draft.service_done is not None:
        text += "\n📝 Saisie en cours (brouillon enregistré)."
    return {"text": text, "editable": permissions.DECLARE in allowed, "has_dossier": permissions.RECAP_PDF in allowed}


def _pdf(session: Session, intervenant_id: int, efm_id: int) -> tuple[bytes, str]:
    efm = missions.efm_of_intervenant(session, intervenant_id, efm_id)
    name = f"recapitulatif-{efm.dossier_number or efm.convocation.mission.number}.pdf"
    return render_recap_pdf(session, efm.id), name


async def listing_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    ident = identity(dialog_manager)
    items = await run_db(_listing, ident.person_id)
    head = f"Bonjour {ident.name}.\n"
    if not items:
        return {"text": head + "Vous n'avez aucune mission convoquée pour le moment.", "items": []}
    return {
        "text": head + f"Vos missions ({MISSION_MARKS}) : choisissez-en une.",
        "items": items,
    }


_CARD_KEY = "bot_card"  # the card read by « on_pick » (which checks the mission is the person's), for its getter


async def card_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    card = dialog_manager.middleware_data.pop(_CARD_KEY, None)
    if card is not None:
        return card
    ident = identity(dialog_manager)
    return await run_db(_card, ident.person_id, dialog_manager.dialog_data["efm_id"])


async def on_pick(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    """Open a mission card: only one of the person's own missions (a forged button names another's)."""
    if not item_id.isdigit():
        raise NotFound("Mission introuvable.")
    efm_id = int(item_id)
    manager.middleware_data[_CARD_KEY] = await run_db(_card, identity(manager).person_id, efm_id)
    manager.dialog_data["efm_id"] = efm_id
    await manager.switch_to(Missions.card)


async def on_declare(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    efm_id = manager.dialog_data["efm_id"]
    state = await resume_point(manager, efm_id)
    await manager.start(state or Declare.done, data={"efm_id": efm_id, "resumed": state is not None})


async def on_card_file(message: Message, widget: Any, manager: DialogManager) -> None:
    """A photo or file sent while a mission's card is open: a receipt of that mission (as at its Justificatifs
    step; core refuses it once the dossier is sent)."""
    ident = identity(manager)
    if await keep_receipt(manager, message, ident.person_id, manager.dialog_data["efm_id"], ident.actor):
        await say(manager, KEPT_WITH_MISSION)


async def on_pdf(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    ident = identity(manager)
    try:
        data, name = await run_db(_pdf, ident.person_id, manager.dialog_data["efm_id"])
    except DomainError as exc:
        await error(manager, exc)
        return
    await callback.message.answer_document(
        BufferedInputFile(data, name),  # type: ignore[union-attr]
        caption="Votre état récapitulatif.",
    )


def make_dialog() -> Dialog:
    """A fresh dialog (a router can belong to one dispatcher only)."""
    return Dialog(
        Window(
            Format("{text}"),
            TypedChoice(whole=False),
            catch_all(),
            choices("efm", "items", on_pick),
            state=Missions.listing,
            getter=listing_getter,
        ),
        Window(
            Format("{text}"),
            TypedChoice(whole=False),
            message_input(on_card_file, ContentType.PHOTO, ContentType.DOCUMENT),
            catch_all(),
            Button(Const("✍️ Déclarer / compléter ma saisie"), id="declare", on_click=on_declare, when=when("editable")),
            Button(Const("📄 Recevoir le récapitulatif (PDF)"), id="pdf", on_click=on_pdf, when=when("has_dossier")),
            Back(Const("⬅️ Mes missions")),
            state=Missions.card,
            getter=card_getter,
        ),
    )
