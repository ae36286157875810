"""French texts of the answers to inbound receipt e-mails (plain text; facts passed in, no queries)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.mail.commands import HOW_TO as RECEIPT_COMMANDS
from core.receipts import FILE_RULE

EXAMPLE_SUBJECT = "« Justificatifs mission 621 »"
SIGNATURE = "Cordialement,\nL'assistant Imag'in (message automatique)"


@dataclass(frozen=True)
class FileLine:
    """One file of the message as the reply reports it."""

    name: str
    reason: str | None = None  # why refused (or a note on an accepted file)


def _name(filename: str | None, position: int) -> str:
    return filename or f"pièce jointe n° {position} (sans nom)"


def file_line(filename: str | None, position: int, reason: str | None = None) -> FileLine:
    return FileLine(_name(filename, position), reason)


def subject_for(original_subject: str) -> str:
    base = original_subject.strip() or "vos justificatifs"
    return base if base.lower().startswith("re:") else f"Re: {base}"[:250]


def _greeting(name: str | None) -> str:
    return f"Bonjour {name}," if name else "Bonjour,"


def _file_sections(accepted: Sequence[FileLine], rejected: Sequence[FileLine]) -> list[str]:
    lines: list[str] = []
    if accepted:
        lines.append("Pièces acceptées :")
        lines += [f"  - {f.name}" + (f" ({f.reason})" if f.reason else "") for f in accepted]
    if rejected:
        lines.append("Pièces refusées :")
        lines += [
            f"  - {f.reason}" if f.reason and f.name in f.reason else f"  - {f.name} : {f.reason}" for f in rejected
        ]
    return lines


def accepted_text(
    *,
    name: str | None,
    subject: str,
    mission_label: str,
    accepted: Sequence[FileLine],
    rejected: Sequence[FileLine],
    missing: Sequence[str],
    done: Sequence[str] = (),
) -> str:
    """Answer to a matched message: what was done (« supprimer justificatif n° … »), what was accepted for which
    mission, what was refused, what is missing."""
    lines = [
        _greeting(name),
        "",
        f"Nous avons bien reçu votre message « {subject or '(sans objet)'} ».",
        f"Il a été rattaché à : {mission_label}.",
        "",
    ]
    if done:
        lines += [*done, ""]
    if accepted or rejected:
        lines += _file_sections(accepted, rejected) + [""]
    elif not done:
        lines += [
            "Ce message ne contenait aucun justificatif.",
            f"Joignez vos justificatifs ({FILE_RULE}) à un nouveau message.",
            "",
        ]
    if rejected:
        lines += [
            f"Formats acceptés : {FILE_RULE}. Vous pouvez renvoyer les "
            "pièces refusées dans le bon format (par exemple une photo en jpeg ou un scan en pdf).",
            "",
        ]
    if missing:
        lines.append("Reste à faire pour ce dossier :")
        lines += [f"  - {m}" for m in missing]
        lines.append("")
    elif accepted:
        lines += ["Les montants seront lus automatiquement puis vérifiés par la DEC.", ""]
    if accepted or done:
        lines += [RECEIPT_COMMANDS, ""]
    return "\n".join(lines + [SIGNATURE])


def quarantine_text(
    *,
    name: str | None,
    subject: str,
    reason: str,
    advice: str,
    held: Sequence[FileLine],
    rejected: Sequence[FileLine],
) -> str:
    """Answer to a message kept aside for the DEC: why, and how to send it so it is matched."""
    lines = [
        _greeting(name),
        "",
        f"Nous avons bien reçu votre message « {subject or '(sans objet)'} », "
        "mais il n'a pas pu être rattaché automatiquement à une mission.",
        "",
        f"Motif : {reason}",
        "",
    ]
    if held:
        lines.append("Pièces conservées, en attente de vérification par la DEC :")
        lines += [f"  - {f.name}" for f in held]
        lines.append("")
    if rejected:
        lines += _file_sections((), rejected) + [""]
    lines += [
        advice,
        "",
        "Votre message est conservé : la DEC peut le rattacher elle-même, rien n'est perdu.",
        "",
        SIGNATURE,
    ]
    return "\n".join(lines)


def failed_text(*, subject: str) -> str:
    """Answer when processing kept failing: the message is kept and the DEC will handle it."""
    return "\n".join(
        [
            "Bonjour,",
            "",
            f"Nous avons bien reçu votre message « {subject or '(sans objet)'} », mais son traitement automatique "
            "n'a pas abouti. Il est conservé et sera traité par la DEC : inutile de le renvoyer.",
            "",
            SIGNATURE,
        ]
    )


def tnef_reason(filename: str | None) -> str:
    """Why an Outlook winmail.dat is refused, and how to send the receipts it hides."""
    return (
        f"« {filename or 'winmail.dat'} » est un fichier propre à Outlook (format TNEF) : les pièces jointes "
        "qu'il contient ne peuvent pas être lues. Dans Outlook, choisissez le format HTML ou Texte brut pour "
        "vos messages (Fichier > Options > Courrier), puis renvoyez vos justificatifs."
    )


def notification_text(*, mission_label: str, accepted: int, rejected: int, quarantined_reason: str | None) -> str:
    """Short chat notification about an e-mail just processed."""
    if quarantined_reason:
        return (
            f"Votre e-mail n'a pas pu être rattaché à une mission ({quarantined_reason}). "
            "Une réponse vous a été envoyée par e-mail ; la DEC peut aussi le rattacher."
        )
    parts = [f"E-mail reçu pour {mission_label} : {accepted} justificatif(s) accepté(s)"]
    if rejected:
        parts.append(f", {rejected} refusé(s) (détail dans la réponse par e-mail)")
    return "".join(parts) + "."


ADVICE_UNKNOWN_SENDER = (
    "Envoyez vos justificatifs depuis l'adresse e-mail enregistrée dans votre dossier, ou utilisez votre adresse "
    "personnelle de dépôt (affichée par l'assistant Imag'in dans la messagerie). "
    f"Indiquez le numéro de mission dans l'objet, par exemple {EXAMPLE_SUBJECT}."
)
ADVICE_MISSION = (
    f"Renvoyez le message en indiquant le numéro de mission ou de dossier dans l'objet, par exemple {EXAMPLE_SUBJECT}."
)
ADVICE_AUTH = (
    "Le serveur de messagerie n'a pas pu confirmer que ce message vient bien de votre adresse. "
    f"Renvoyez-le depuis votre messagerie habituelle, avec le numéro de mission dans l'objet ({EXAMPLE_SUBJECT})."
)
ADVICE_TOO_LARGE = (
    "Renvoyez vos justificatifs en plusieurs messages, chacun avec quelques pièces jointes (formats "
    f"{FILE_RULE}), avec le numéro de mission dans l'objet ({EXAMPLE_SUBJECT})."
)
ADVICE_UNREADABLE = (
    "Renvoyez vos justificatifs en pièces jointes d'un nouveau message (formats "
    f"{FILE_RULE}), avec le numéro de mission dans l'objet ({EXAMPLE_SUBJECT})."
)


def chat_hint(chat_link: str) -> str:
    """How to reach the assistant's chat, for an e-mail."""
    where = f" : {chat_link}" if chat_link else " (Telegram, commande /missions)"
    return f"Pour suivre votre dossier ou répondre, ouvrez la discussion avec l'assistant Imag'in{where}."


def staff_notice_text(
    *,
    name: str | None,
    what: str,
    mission_label: str,
    dossier: str | None,
    next_step: str,
    chat_link: str,
    service: str,
) -> str:
    """An e-mail telling an intervenant of a DEC decision or a service fait attestation: greeting, what
    happened, the mission and dossier, what happens next, how to reach the chat, and who writes."""
    lines = [_greeting(name), "", what, "", f"Mission : {mission_label}"]
    if dossier:
        lines.append(f"Dossier : n° {dossier}")
    lines += [
        "",
        f"Et maintenant ? {next_step}",
        "",
        chat_hint(chat_link),
        "",
        "Cordialement,",
        f"{service} (message automatique de l'assistant Imag'in)",
    ]
    return "\n".join(lines)
