"""Where each declaration was left, kept in the FSM storage so it survives restarts and closed dialogs."""

from __future__ import annotations

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram_dialog import DialogManager

from bot.states import Declare

_DESTINY = "resume"


def _key(manager: DialogManager) -> tuple[BaseStorage, StorageKey]:
    data = manager.middleware_data
    user = data["event_from_user"]
    chat = data["event_chat"]
    return data["fsm_storage"], StorageKey(bot_id=data["bot"].id, chat_id=chat.id, user_id=user.id, destiny=_DESTINY)


async def save_resume(manager: DialogManager, efm_id: int, state: State | None) -> None:
    """Remember the step reached for this état de frais (None: nothing to resume)."""
    storage, key = _key(manager)
    data = await storage.get_data(key)
    if state is None:
        data.pop(str(efm_id), None)
    else:
        data[str(efm_id)] = state.state
    await storage.set_data(key, data)


async def resume_point(manager: DialogManager, efm_id: int) -> State | None:
    """The step to resume this état de frais at, if the user left it in the middle."""
    storage, key = _key(manager)
    name = (await storage.get_data(key)).get(str(efm_id))
    return next((s for s in Declare.__all_states__ if s.state == name), None)
