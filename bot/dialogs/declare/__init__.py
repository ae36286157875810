"""The declaration, step by step: every answer goes through a core use case and is saved at once.

One module per step group, each window with its own getter: ``mission`` (done, quantity), ``times``,
``trips`` (the list, and one trip as a sub-dialog), ``stay`` (lodging, meals, car), ``receipts``, ``recap``
(and ``confirm``: what Imag'in refuses, the warnings confirmed with « Je confirme » before the dossier number);
``navigation`` holds the plumbing. Which steps apply, their order and states come from ``core.steps``.
"""

from __future__ import annotations

from typing import Any

from aiogram_dialog import Dialog, DialogManager

from bot.dialogs.common import say
from bot.dialogs.declare import mission, recap, receipts, stay, times, trips


async def on_start(start_data: Any, manager: DialogManager) -> None:
    manager.dialog_data["history"] = []
    if isinstance(start_data, dict) and start_data.get("resumed"):
        await say(manager, "▶️ Reprise de votre saisie là où vous l'aviez laissée.")


def make_dialog() -> Dialog:
    """A fresh dialog (a router can belong to one dispatcher only)."""
    return Dialog(
        *mission.windows(),
        *times.windows(),
        trips.list_window(),
        *stay.windows(),
        *receipts.windows(),
        *recap.windows(),
        on_start=on_start,
    )


def make_dialogs() -> list[Dialog]:
    """The declaration and its trip sub-dialog."""
    return [make_dialog(), trips.trip_dialog()]
