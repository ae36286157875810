"""One receipt, opened from the receipts list (a sub-dialog): its line confirmed in one tap (« Montant lu : 23,40 €
— Utiliser ? », « Ce justificatif est : Restaurant ✓ / autre… »), its amount typed, the receipt removed, its file
replaced, or moved to another mission; and several photos joined into one PDF receipt (``receipt_join``).

Every rule is core's (``core.receipt_lines``, ``core.receipts``); this module renders and calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import Dialog, DialogManager, Window
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy.orm import Session

from bot.dialogs.common import choices, error, message_input, say, text_of, when
from bot.dialogs.declare import receipt_join
from bot.dialogs.declare.navigation import current_draft, efm_of, forget_draft, header, ids, window
from bot.dialogs.declare.receipt_files import FILE_HINT, fetch, sent_file
from bot.services import run_db
from bot.states import ReceiptEdit
from bot.views import mission_line
from core import receipt_lines, receipts
from core.errors import DomainError, InvalidInput, NotFound
from core.french import format_amount
from core.justification import KIND_LABELS
from core.models import LineState
from core.parsing import AMOUNT_EXAMPLE, parse_amount

NIGHT_CHOICES = 3  # nights offered for a hotel bill at least (more when more are declared)


@dataclass(frozen=True)
class Card:
    """One receipt and its line, as the receipt window shows it."""

    receipt_id: int
    name: str
    kind: str | None
    kind_label: str
    amount_read: str | None  # formatted
    amount: str  # confirmed, else read, else « lecture en cours » / « montant illisible »
    settled: bool
    pending: bool
    justifies: str
    problems: list[str]
    targets: list[tuple[int, str]]  # missions it can be moved to: (état de frais id, label)
    by_nights: bool  # what it pays is nights (a hotel): how many it covers can be said
    nights: int | None


def _card(session: Session, person_id: int, efm_id: int, receipt_id: int) -> Card:
    efm = efm_of(session, person_id, efm_id)
    view = next((v for v in receipt_lines.line_views(session, efm) if v.receipt.id == receipt_id), None)
    if view is None:
        raise NotFound("Ce justificatif n'existe plus.")
    line = view.line
    return Card(
        receipt_id=receipt_id,
        name=view.receipt.original_name,
        kind=line.kind,
        kind_label=view.kind_label,
        amount_read=format_amount(line.amount_read) if line.amount_read is not None else None,
        amount=view.amount_text,
        settled=line.settled,
        pending=line.state == LineState.PENDING,
        justifies=view.justification.justifies if line.kind else "",
        problems=view.problems,
        targets=[(t.id, mission_line(t)) for t in receipts.move_targets(session, efm)],
        by_nights=view.justification.pays == "nights",
        nights=line.nights,
    )


def _receipt_id(manager: DialogManager) -> int:
    return int(manager.start_data["receipt_id"])  # type: ignore[index]


async def _load(manager: DialogManager) -> Card | None:
    """The receipt of this window; None when it is gone (removed or moved meanwhile)."""
    person_id, efm_id, _ = ids(manager)
    try:
        return await run_db(_card, person_id, efm_id, _receipt_id(manager))
    except NotFound:
        return None


def _name(card: Card | None) -> str:
    return card.name if card else ""


async def _act(manager: DialogManager, action: Any, *args: Any, **kwargs: Any) -> bool:
    """Run a core use case on this dossier and receipt: ``action(session, efm, receipt_id, ..., actor)``."""
    person_id, efm_id, actor = ids(manager)
    receipt_id = _receipt_id(manager)

    def run(session: Session) -> None:
        action(session, efm_of(session, person_id, efm_id), receipt_id, *args, actor=actor, **kwargs)

    try:
        await run_db(run)
    except DomainError as exc:
        await error(manager, exc)
        return False
    forget_draft(manager)  # the declared total may follow the lines
    return True


# ---- the receipt ------------------------------------------------------------------------------------------


def _card_text(card: Card, editable: bool) -> str:
    lines = [f"Justificatif « {card.name} » (n° {card.receipt_id})"]
    if card.kind is None:
        lines.append("Ce justificatif est : ? Choisissez sa nature ci-dessous." if editable else "Nature à confirmer.")
    elif card.settled:
        lines.append(f"Ce justificatif est : {card.kind_label} ✓")
    else:
        lines.append(f"Ce justificatif est : {card.kind_label} ?")
    if card.settled:
        lines.append(f"Montant : {card.amount} ✓")
    elif card.amount_read is not None:
        lines.append(f"Montant lu : {card.amount_read} — Utiliser ?")
    elif card.pending:
        lines.append(f"Montant : {receipt_lines.READING_PENDING}, revenez dans un instant.")
    else:
        lines.append("Montant : illisible.")
    if editable:
        lines.append(f"Pour corriger le montant, envoyez-le. Exemple : {AMOUNT_EXAMPLE}")
    if card.by_nights:
        lines.append(f"Nuits sur cette facture : {card.nights or 'non indiquées'}")
    if card.justifies:
        lines.append(f"Justifie : {card.justifies}")
    lines += [f"⚠️ {p}" for p in card.problems]
    return "\n".join(lines)


async def card_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    card = await _load(dialog_manager)
    if card is None:
        return {"text": f"{header(d, 'receipts')}\n\nCe justificatif n'existe plus.", "editable": False}
    unsettled = d.editable and not card.settled
    return {
        "text": f"{header(d, 'receipts')}\n\n{_card_text(card, d.editable)}",
        "editable": d.editable,
        "use_amount": unsettled and card.kind is not None and card.amount_read is not None,
        "amount_read": card.amount_read or "",
        "use_kind": unsettled and card.kind is not None,
        "kind_label": card.kind_label,
        "movable": d.editable and bool(card.targets),
        "nights": [
            {"n": n, "label": f"🌙 {n} ✓" if n == card.nights else f"🌙 {n}"}
            for n in range(1, min(max(d.nights, NIGHT_CHOICES), receipt_lines.MAX_NIGHTS_PER_RECEIPT) + 1)
        ]
        if d.editable and card.by_nights
        else [],
    }


async def on_use_amount(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    if await _act(manager, receipt_lines.confirm):
        await say(manager, "✅ Montant confirmé.")


async def on_use_kind(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    card = await _load(manager)
    if card is not None and card.kind and await _act(manager, receipt_lines.correct, kind=card.kind):
        await say(manager, f"✅ Nature confirmée : {card.kind_label}.")


async def on_nights(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    if await _act(manager, receipt_lines.correct, nights=int(item_id)):
        await say(manager, f"✅ Nuits sur cette facture : {item_id}.")


async def on_amount(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        amount = parse_amount(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    if await _act(manager, receipt_lines.correct, amount=amount):
        await say(manager, f"✅ Montant enregistré : {format_amount(amount)}.")


async def on_file_here(message: Message, widget: Any, manager: DialogManager) -> None:
    await say(
        manager,
        "Pour que ce fichier remplace ce justificatif, touchez « 🔁 Remplacer » puis renvoyez-le ; "
        "pour ajouter un nouveau justificatif, revenez à la liste.",
    )


async def on_leave(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.done()


async def on_back_to_card(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.switch_to(ReceiptEdit.card)


def _to(state: Any) -> Any:
    async def go(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
        await manager.switch_to(state)

    return go


CARD_NAV = Row(Button(Const("⬅️ Retour à la liste"), id="leave", on_click=on_leave))
SUB_NAV = Row(Button(Const("⬅️ Retour"), id="back_card", on_click=on_back_to_card))


def card_window() -> Window:
    return window(
        ReceiptEdit.card,
        card_getter,
        message_input(on_amount, ContentType.TEXT),
        message_input(on_file_here, ContentType.PHOTO, ContentType.DOCUMENT),
        Button(Format("✅ Utiliser {amount_read}"), id="use_amount", on_click=on_use_amount, when=when("use_amount")),
        Row(
            Button(Format("✓ {kind_label}"), id="use_kind", on_click=on_use_kind, when=when("use_kind")),
            Button(Const("🏷 Autre nature…"), id="kinds", on_click=_to(ReceiptEdit.kind), when=when("editable")),
        ),
        choices("nights", "nights", on_nights, key="n", width=4),
        Row(
            Button(Const("🔁 Remplacer"), id="replace", on_click=_to(ReceiptEdit.replace), when=when("editable")),
            Button(Const("📂 Autre mission"), id="move", on_click=_to(ReceiptEdit.move), when=when("movable")),
            Button(Const("🗑 Supprimer"), id="remove", on_click=_to(ReceiptEdit.remove), when=when("editable")),
        ),
        nav=CARD_NAV,
    )


# ---- its kind --------------------------------------------------------------------------------------------


async def kind_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    card = await _load(dialog_manager)
    name = _name(card)
    return {
        "text": f"{header(d, 'receipts')}\n\nCe justificatif « {name} » est :",
        "kinds": [
            {"id": k, "label": f"{label} ✓" if card and k == card.kind else label} for k, label in KIND_LABELS.items()
        ],
    }


async def on_kind(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    if await _act(manager, receipt_lines.correct, kind=item_id):
        await say(manager, f"✅ Nature enregistrée : {KIND_LABELS.get(item_id, item_id)}.")
        await manager.switch_to(ReceiptEdit.card)


# ---- removed, replaced, moved ----------------------------------------------------------------------------------


async def remove_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    card = await _load(dialog_manager)
    return {
        "text": f"{header(d, 'receipts')}\n\nSupprimer le justificatif « {_name(card)} » ? Son fichier sera effacé."
    }


async def on_remove(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    card = await _load(manager)
    person_id, efm_id, actor = ids(manager)
    receipt_id = _receipt_id(manager)
    try:
        await run_db(lambda s: receipts.remove_receipt(s, efm_of(s, person_id, efm_id), receipt_id, actor))
    except DomainError as exc:
        await error(manager, exc)
        return
    forget_draft(manager)
    await say(manager, f"🗑 Justificatif « {_name(card)} » supprimé.")
    await manager.done()


async def replace_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    card = await _load(dialog_manager)
    return {
        "text": f"{header(d, 'receipts')}\n\nEnvoyez le nouveau fichier du justificatif « {_name(card)} » : "
        f"il remplacera l'actuel et sera lu à nouveau.\n{FILE_HINT}"
    }


async def on_replacement(message: Message, widget: Any, manager: DialogManager) -> None:
    sent = sent_file(message)
    if sent is None:
        await error(manager, InvalidInput(FILE_HINT))
        return
    data = await fetch(manager, sent)
    if data is None:
        return
    person_id, efm_id, actor = ids(manager)
    receipt_id = _receipt_id(manager)

    def replace(session: Session) -> str:
        efm = efm_of(session, person_id, efm_id)
        return receipts.replace_receipt_file(session, efm, receipt_id, data, sent.name, actor).original_name

    try:
        name = await run_db(replace)
    except DomainError as exc:
        await say(manager, f"❗ {exc.message}\n{FILE_HINT}")
        return
    forget_draft(manager)
    await say(manager, f"🔁 Fichier remplacé par « {name} » : il va être lu à nouveau.")
    await manager.switch_to(ReceiptEdit.card)


async def on_replacement_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await error(manager, InvalidInput(FILE_HINT))


async def move_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    card = await _load(dialog_manager)
    return {
        "text": f"{header(d, 'receipts')}\n\nÀ quelle mission rattacher le justificatif « {_name(card)} » ?",
        "targets": [{"id": efm_id, "label": label} for efm_id, label in (card.targets if card else [])],
    }


async def on_move(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    person_id, efm_id, actor = ids(manager)
    receipt_id = _receipt_id(manager)

    def move(session: Session) -> tuple[str, str]:
        receipt = receipts.move_receipt(session, efm_of(session, person_id, efm_id), receipt_id, int(item_id), actor)
        return receipt.original_name, receipt.efm.convocation.mission.number

    try:
        name, number = await run_db(move)
    except DomainError as exc:
        await error(manager, exc)
        return
    forget_draft(manager)
    await say(manager, f"📂 Justificatif « {name} » rattaché à la mission n° {number}.")
    await manager.done()


def receipt_dialog() -> Dialog:
    """A fresh sub-dialog for one receipt (a router can belong to one dispatcher only)."""
    return Dialog(
        card_window(),
        window(
            ReceiptEdit.kind,
            kind_getter,
            choices("kind", "kinds", on_kind, width=2),
            nav=SUB_NAV,
        ),
        window(
            ReceiptEdit.remove,
            remove_getter,
            Row(
                Button(Const("🗑 Oui, supprimer"), id="remove_yes", on_click=on_remove),
                Button(Const("Non, le garder"), id="remove_no", on_click=on_back_to_card),
            ),
            nav=Row(),
        ),
        window(
            ReceiptEdit.replace,
            replace_getter,
            message_input(on_replacement, ContentType.PHOTO, ContentType.DOCUMENT),
            message_input(on_replacement_text, ContentType.TEXT),
            nav=SUB_NAV,
        ),
        window(
            ReceiptEdit.move,
            move_getter,
            choices("target", "targets", on_move),
            nav=SUB_NAV,
        ),
        receipt_join.join_window(),
    )
