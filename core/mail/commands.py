"""Receipts changed by e-mail: the subject names what to do with one receipt, by the number every reply and the
chat show beside it.

- « supprimer justificatif n° 57 »: receipt 57 is removed;
- « remplacer justificatif n° 57 », the new file attached: the file of receipt 57 is replaced (read again); any
  other file of the message is added as usual.

Only the sender's own receipts, in dossiers still editable (``core.receipts`` decides, like in the chat).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import declarations, receipts
from core.errors import DomainError, IllegalTransition
from core.models import EtatDeFrais, InboundMail, Intervenant, Receipt

REMOVE, REPLACE = "remove", "replace"
_VERBS = {"supprimer": REMOVE, "remplacer": REPLACE}
_COMMAND = re.compile(
    r"\b(supprimer|remplacer)\s+(?:le\s+)?justificatif\s*(?:n\s*°|no\b\.?|num[ée]ro)?\s*[:#]?\s*(\d+)\b",
    re.IGNORECASE,
)
HOW_TO = (
    "Pour remplacer un justificatif, envoyez le nouveau fichier avec en objet « remplacer justificatif n° 57 » ; "
    "pour le supprimer, l'objet « supprimer justificatif n° 57 » (57 : le numéro indiqué à côté du justificatif)."
)


@dataclass(frozen=True)
class Command:
    """What the subject asks for one receipt."""

    action: str  # remove | replace
    receipt_id: int


def parse(subject: str) -> Command | None:
    """The command in a subject (« Re: remplacer le justificatif n° 57 »), None for an ordinary message."""
    found = _COMMAND.search(subject or "")
    if found is None:
        return None
    return Command(_VERBS[found.group(1).lower()], int(found.group(2)))


def target(session: Session, person: Intervenant, command: Command) -> tuple[EtatDeFrais | None, str | None]:
    """The dossier of the command's receipt, or why it cannot be changed (French)."""
    receipt = session.get(Receipt, command.receipt_id)
    if receipt is None or receipt.efm.convocation.intervenant_id != person.id:
        return None, f"Le justificatif n° {command.receipt_id} ne fait partie d'aucun de vos dossiers."
    try:
        declarations.require_editable(receipt.efm)
    except IllegalTransition as exc:
        return None, f"Le justificatif n° {command.receipt_id} ne peut plus être modifié : {exc.message}"
    return receipt.efm, None


def replaced_reason(receipt_id: int) -> str:
    """The note of the attached file that replaced a receipt's file (kept on the attachment)."""
    return f"remplace le justificatif n° {receipt_id}"


def replaced(mail: InboundMail) -> set[int]:
    """The receipts whose file a file of this message replaced."""
    return {a.receipt_id for a in mail.attachments if a.receipt_id and a.reason == replaced_reason(a.receipt_id)}


def to_replace(mail: InboundMail, command: Command | None) -> int | None:
    """The receipt the next file of the message replaces (until one has replaced it), if any."""
    if command is None or command.action != REPLACE or command.receipt_id in replaced(mail):
        return None
    return command.receipt_id


def finish(session: Session, efm: EtatDeFrais, mail: InboundMail, command: Command, actor: str) -> str:
    """Apply what is left of the command once the files are stored; the sentence for the reply (French)."""
    number = f"n° {command.receipt_id}"
    if command.action == REPLACE:
        if command.receipt_id in replaced(mail):
            return f"Le fichier du justificatif {number} a été remplacé : il va être lu à nouveau."
        return f"Aucun fichier joint n'a pu remplacer le justificatif {number} : il est inchangé."
    receipt = session.get(Receipt, command.receipt_id)
    if receipt is None or receipt.efm_id != efm.id:
        return f"Le justificatif {number} avait déjà été supprimé."
    name = receipt.original_name
    try:
        receipts.remove_receipt(session, efm, receipt.id, actor)
    except DomainError as exc:  # the dossier was sent meanwhile
        return f"Le justificatif {number} n'a pas été supprimé : {exc.message}"
    return f"Le justificatif {number} (« {name} ») a été supprimé."
