"""Steps « Montant des justificatifs » and « Justificatifs »: files sent here, checked by core's file rule; the list
shows each receipt as a line (kind, amount, what it justifies) and opens one receipt (``receipt_edit``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Const
from sqlalchemy.orm import Session

from bot.dialogs.common import choices, error, message_input, say, text_of, when
from bot.dialogs.declare.navigation import (
    apply,
    current_draft,
    efm_of,
    forget_draft,
    header,
    ids,
    keep,
    next_step,
    window,
)
from bot.dialogs.declare.receipt_files import FILE_HINT, keep_receipt
from bot.services import run_db
from bot.states import Declare, ReceiptEdit
from core import declarations, receipt_lines, receipts
from core.errors import DomainError, InvalidInput
from core.parsing import parse_amount

OPEN_ONE = "Touchez un justificatif (🧾) pour confirmer ou corriger sa nature et son montant."


LIST_BUDGET = 3000  # characters of the list in one message (Telegram allows 4 096 with the rest of the screen)


@dataclass(frozen=True)
class ReceiptsList:
    """The receipts of a dossier as the list shows them."""

    lines: list[str]  # one per receipt: kind, amount, what it justifies
    problems: list[list[str]]  # each receipt's mismatches
    ids: list[int]
    findings: list[str]  # what does not match for the dossier as a whole
    settled: bool  # every line confirmed

    def text(self) -> str:
        """Each line with its mismatches; only their number (see the receipt) when the whole would be too long."""
        pairs = list(zip(self.lines, self.problems, strict=True))
        full = ["\n".join([line, *(f"   ⚠️ {p}" for p in problems)]) for line, problems in pairs]
        if sum(len(t) + 1 for t in full) <= LIST_BUDGET:
            return "\n".join(full)
        short = [
            line + (f"\n   ⚠️ {len(problems)} remarque(s) : touchez 🧾 {n}" if problems else "")
            for n, (line, problems) in enumerate(pairs, 1)
        ]
        return "\n".join(short)


def line_text(n: int, view: receipt_lines.LineView) -> str:
    """« 1. hotel.pdf — Hôtel (hébergement), 95,00 € ✓ : nuit(s) d'hôtel déclarée(s) »."""
    line = view.line
    mark = " ✓" if line.settled else "" if line.amount is None else " (à confirmer)"
    justifies = f" : {view.justification.justifies}" if line.kind and view.justification.justifies else ""
    return f"{n}. {view.receipt.original_name} — {view.kind_label}, {view.amount_text}{mark}{justifies}"


def _list(session: Session, person_id: int, efm_id: int) -> ReceiptsList:
    efm = efm_of(session, person_id, efm_id)
    justification = receipt_lines.justification_of(session, efm)
    views = receipt_lines.line_views(session, efm, justification)
    findings = justification.findings if views else []
    return ReceiptsList(
        [line_text(n, v) for n, v in enumerate(views, 1)],
        [v.problems for v in views],
        [v.receipt.id for v in views],
        [f.message for f in findings],
        all(v.line.settled for v in views),
    )


# ---- declared total ----------------------------------------------------------------------------------


async def total_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    return {
        "text": f"{header(d, 'total')}\n\nMontant total de vos justificatifs (transport, hébergement…) ?\n"
        f"Exemple : 45,80\nValeur actuelle : {d.receipts_total or '—'}\n{receipt_lines.TOTAL_FOLLOWS_LINES}",
        "current": d.receipts_total or "",
    }


async def _total(manager: DialogManager, amount: Decimal) -> None:
    _, _, actor = ids(manager)
    draft = await apply(manager, lambda s, e: declarations.set_receipts_total(s, e, amount, actor))
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


async def on_keep(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await next_step(manager, await current_draft(manager))


# ---- files ------------------------------------------------------------------------------------------------


async def receipts_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    person_id, efm_id, _ = ids(dialog_manager)
    found = await run_db(_list, person_id, efm_id)
    files = found.text() or "aucun pour l'instant"
    notes = "".join(f"\n⚠️ {f}" for f in found.findings)
    total = f"\nTotal déclaré : {d.receipts_total or '—'}"
    if found.ids and not found.settled:
        total += f"\n{receipt_lines.TOTAL_FOLLOWS_LINES}\n{OPEN_ONE}"
    mail = (
        f"\n📧 Envoi par e-mail annoncé : à {d.mail_address}, objet « {d.mail_reference} »."
        if d.receipts_by_email
        else ""
    )
    return {
        "text": f"{header(d, 'receipts')}\n\nJustificatifs : {FILE_HINT}\nVous pouvez en envoyer plusieurs, "
        f"ici même.\nReçus :\n{files}{notes}{total}{mail}",
        "receipts": [{"id": rid, "n": n} for n, rid in enumerate(found.ids, 1)],
        "editable": d.editable,
    }


async def on_file(message: Message, widget: Any, manager: DialogManager) -> None:
    person_id, efm_id, actor = ids(manager)
    if await keep_receipt(manager, message, person_id, efm_id, actor):
        forget_draft(manager)


async def on_open_receipt(callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str) -> None:
    efm_id = manager.start_data["efm_id"]  # type: ignore[index]
    await manager.start(ReceiptEdit.card, data={"efm_id": efm_id, "receipt_id": int(item_id)})


async def on_join(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.start(ReceiptEdit.join, data={"efm_id": manager.start_data["efm_id"]})  # type: ignore[index]


async def on_receipt_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await error(manager, InvalidInput(f"{FILE_HINT} Sinon, choisissez « par e-mail » ou « Continuer »."))


async def on_by_email(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    _, _, actor = ids(manager)
    draft = await apply(manager, lambda s, e: declarations.set_receipts_by_email(s, e, True, actor))
    if draft:
        await say(
            manager,
            f"📧 Envoyez vos justificatifs à {draft.mail_address} en indiquant en objet : "
            f"« {draft.mail_reference} ». Formats : {receipts.FILE_RULE}.",
        )


def windows() -> list[Window]:
    return [
        window(
            Declare.receipts_total,
            total_getter,
            message_input(on_total, ContentType.TEXT),
            Button(Const("Aucun justificatif (0,00 €)"), id="no_receipt", on_click=on_no_receipt),
            keep("current", "keep_total", on_keep),
        ),
        window(
            Declare.receipts,
            receipts_getter,
            message_input(on_file, ContentType.PHOTO, ContentType.DOCUMENT),
            message_input(on_receipt_text, ContentType.TEXT),
            choices("receipt", "receipts", on_open_receipt, label="🧾 {item[n]}", width=4),
            Button(
                Const("📸 Réunir plusieurs photos en un seul fichier"),
                id="join",
                on_click=on_join,
                when=when("editable"),
            ),
            Button(Const("📧 Je les enverrai par e-mail"), id="by_email", on_click=on_by_email),
            Button(Const("➡️ Continuer"), id="receipts_done", on_click=on_keep),
        ),
    ]
