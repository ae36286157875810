"""Widgets and helpers shared by the dialogs."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.api.protocols import DialogProtocol
from aiogram_dialog.utils import remove_intent_id
from aiogram_dialog.widgets.input import BaseInput, MessageInput
from aiogram_dialog.widgets.kbd import Group, Select
from aiogram_dialog.widgets.text import Format

from bot.identity import Identity
from core.errors import DomainError, Forbidden
from core.parsing import pick_choice


def identity(manager: DialogManager, kind: str = "intervenant") -> Identity:
    """The linked person of this update, who must be of `kind` (intervenant or staff)."""
    ident = manager.middleware_data.get("identity")
    if ident is None:
        raise Forbidden("Votre compte n'est plus relié : envoyez /start pour le relier.")
    if ident.kind != kind:
        raise Forbidden("Cet espace n'est pas accessible avec votre compte. Envoyez /start.")
    return ident


async def say(manager: DialogManager, text: str) -> None:
    """Send a separate message (error, confirmation) before the dialog shows its window again."""
    event = manager.event
    chat_id = event.message.chat.id if isinstance(event, CallbackQuery) else event.chat.id  # type: ignore[union-attr]
    await manager.middleware_data["bot"].send_message(chat_id, text)
    manager.show_mode = ShowMode.SEND


async def error(manager: DialogManager, exc: DomainError) -> None:
    """Tell the user what was wrong (French, with an example); the step is asked again."""
    await say(manager, f"❗ {exc.message}")


def text_of(message: Message) -> str:
    return (message.text or "").strip()


def when(key: str) -> Any:
    """A `when` predicate reading a boolean from the getter data."""
    return lambda data, widget, manager: bool(data.get(key))


def choices(
    widget_id: str,
    items: str,
    on_click: Any,
    *,
    label: str = "{item[label]}",
    key: str = "id",
    width: int = 1,
    shown_when: str | None = None,
) -> Group:
    """One button per item of the getter's list `items` (its `key` is the id passed to `on_click`), `width` a row."""
    select = Select(
        Format(label),
        id=widget_id,
        item_id_getter=lambda item: item[key],
        items=items,
        on_click=on_click,
        when=when(shown_when) if shown_when else None,
    )
    return Group(select, width=width)


class ContentTypes(Filter):
    """The message is of one of these content types: a coroutine, awaited in place (aiogram runs a plain
    function filter, as the `F.content_type` one of MessageInput's `content_types`, in a worker thread: a
    thread round trip for every message)."""

    def __init__(self, *types: ContentType) -> None:
        self.types = frozenset(types)

    async def __call__(self, message: Message) -> bool:
        return message.content_type in self.types


class TypedInput(MessageInput):
    """A MessageInput taking only messages of these content types (kept in `types`, so a screen knows what it
    takes)."""

    def __init__(self, on_message: Any, *types: ContentType) -> None:
        super().__init__(on_message, filter=ContentTypes(*types))
        self.types = frozenset(types)


class TypedChoice(BaseInput):
    """A text that names one of the screen's buttons (``core.parsing.pick_choice``: « Oui. » for « ✅ Oui,
    effectuée ») is that button pressed. ``whole``: the text must be a whole label, as on a screen that also takes
    a typed answer (« Aucun », « Je ne sais pas »); otherwise its first words are enough."""

    def __init__(self, *, whole: bool) -> None:
        super().__init__()
        self.whole = whole

    async def process_message(self, message: Message, dialog: DialogProtocol, manager: DialogManager) -> bool:
        text = message.text or ""
        if message.content_type != ContentType.TEXT or text.startswith("/"):
            return False
        if self.whole and not any(c.isalpha() for c in text):  # a number, a date or a time: the screen's answer
            return False
        window = dialog.windows[manager.current_context().state]  # type: ignore[attr-defined]
        markup = await window.render_kbd(await window.load_data(dialog, manager), manager)
        buttons = [b for row in markup.inline_keyboard for b in row if b.callback_data]
        index = pick_choice(text, [b.text for b in buttons], whole=self.whole)
        if index is None:
            return await self._name_the_choices(manager, [b for b in buttons if _choice(b.callback_data)])
        _, data = remove_intent_id(buttons[index].callback_data)
        pressed = CallbackQuery(
            id=f"typed-{message.message_id}",
            from_user=message.from_user,
            chat_instance=str(message.chat.id),
            message=message,
            data=data,
        ).as_(manager.middleware_data["bot"])
        return bool(await window.process_callback(pressed, dialog, manager))

    async def _name_the_choices(self, manager: DialogManager, choices: list[Any]) -> bool:
        """A screen of a few buttons (none of them one of a list's items) and no typed answer: the text named
        none of them, so say which they are."""
        listed = any(":" in remove_intent_id(b.callback_data or "")[1] for b in choices)
        if self.whole or listed or not 0 < len(choices) <= NAMED_CHOICES:
            return False
        named = " ou ".join(f"« {b.text} »" for b in choices)
        await say(manager, f"Répondez avec les boutons ci-dessous, s'il vous plaît : {named} (ou /aide).")
        return True


NAVIGATION_IDS = frozenset({"back", "cancel", "leave"})  # buttons that move between screens, not answers
NAMED_CHOICES = 4  # at most this many answers are named when a typed text names none


def _choice(callback_data: str | None) -> bool:
    """The button answers the question (not « Retour », « Annuler »)."""
    _, data = remove_intent_id(callback_data or "")
    return data.split(":", 1)[0] not in NAVIGATION_IDS


def message_input(on_message: Any, *types: ContentType) -> TypedInput:
    """A MessageInput taking only messages of these content types."""
    return TypedInput(on_message, *types)


INTERRUPTED = (
    "Saisie interrompue. Vos réponses sont enregistrées : vous pourrez reprendre ici quand vous voudrez (/missions)."
)
BUTTONS_PLEASE = "Répondez avec les boutons ci-dessous, s'il vous plaît (ou /aide)."
TEXT_PLEASE = "Envoyez votre réponse par écrit, comme dans l'exemple ci-dessous, s'il vous plaît (ou /aide)."
FILE_PLEASE = "Envoyez une photo ou un fichier, ou touchez un bouton ci-dessous, s'il vous plaît (ou /aide)."
FILES_ELSEWHERE = (
    "Les justificatifs s'envoient à l'étape « Justificatifs » de la déclaration : "
    "ouvrez la mission et choisissez « Déclarer / compléter ma saisie »."
)


def catch_all(hint: str = BUTTONS_PLEASE, files_hint: str = FILES_ELSEWHERE) -> MessageInput:
    """The last input of a screen: answers whatever the screen did not expect (`files_hint` for a photo or a
    file, `hint` for anything else); the screen is shown again."""

    async def on_unexpected(message: Message, widget: Any, manager: DialogManager) -> None:
        await say(manager, files_hint if message.photo or message.document else hint)

    return MessageInput(on_unexpected)
