"""Use cases of the e-mail intake: store raw + ledger row, match person and mission, accept or reject each
attachment through core.receipts, quarantine what cannot be matched, answer through the outbox.

Transport (SMTP, IMAP) and MIME parsing live in mail_ingest/; this module sees bytes and IncomingMail.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, outbox, prechecks, receipts, steps
from core.db import session_scope
from core.errors import DomainError, InvalidInput, NotFound
from core.filestore import mail_store
from core.french import format_date
from core.mail import commands as mail_commands
from core.mail import policy as reply_policy
from core.mail import replies as mail_replies
from core.mail.ledger import ACTOR, queue_reply, usable_address
from core.mail.ledger import StoreResult as StoreResult  # re-exported: the intake's entry point
from core.mail.ledger import store_raw as store_raw
from core.mail.message import IncomingFile, IncomingMail
from core.missions import efms_of_intervenant, get_efm
from core.models import (
    AttachmentState,
    EtatDeFrais,
    InboundMail,
    Intervenant,
    IntervenantEmail,
    MailAttachment,
    MailState,
    utcnow,
)
from core.settings import get_settings
from core.statuses import PartStatus

log = logging.getLogger(__name__)

TINY_IMAGE_SIDE = 250  # inline images below this many pixels on their longest side are signatures / logos
BANNER_SIDE = 100  # ... and so are those below this on their shortest side (a banner, a rule)
TINY_IMAGE_BYTES = 15_000  # an inline image that cannot be opened is judged by its size: below this, a logo
IMAGE_TYPES = {"image/gif", "image/jpeg", "image/png", "image/bmp", "image/webp", "image/x-icon"}
CLOSED_STATUSES = {
    PartStatus.VALIDATED,
    PartStatus.SENT_TO_PAYMENT,
    PartStatus.CANCELLED,
    PartStatus.NO_COSTS,
}
_REF_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]*")
_ANCHORED_REF = re.compile(
    r"(?:mission|dossier|n\s*°|\bno\b|num[ée]ro)\s*(?:n\s*°|no\b|num[ée]ro)?\s*[:#.]?\s*([A-Za-z0-9][A-Za-z0-9/_-]*)",
    re.IGNORECASE,
)


# ------------------------------------------------------------------------------------ processing


@dataclass(frozen=True)
class Match:
    person: Intervenant | None
    evidence: str  # personal_address | sender | ''
    efm: EtatDeFrais | None = None
    problem: str | None = None  # French reason when not matched
    advice: str = mail_replies.ADVICE_UNKNOWN_SENDER


def process(mail_id: int, parsed: IncomingMail | None, parse_error: str | None = None) -> MailState:
    """Process one claimed message: attachments, matching, receipts, reply and chat notification.

    Steps commit separately (match, then each attachment, then the answer) and are idempotent: decided
    attachments are kept, receipts are deduplicated by hash and every notification has a dedupe key,
    so a retry after a failed step only redoes what is missing. Raises if a step must be retried.
    """
    with session_scope() as session:
        mail = _get(session, mail_id)
        if mail.state in (MailState.PROCESSED, MailState.QUARANTINED, MailState.FAILED):
            return MailState(mail.state)
        if parsed is None:
            log.warning("mail %s unreadable: %s", mail_id, parse_error)
            _quarantine(
                session,
                mail,
                None,
                "Le message est illisible (structure MIME invalide).",
                mail_replies.ADVICE_UNREADABLE,
                None,
            )
            return MailState.QUARANTINED
        mail.from_address = (parsed.from_address or "")[:320] or None
        mail.subject = parsed.subject[:500]
        if not mail.attachments:
            _record_attachments(session, mail, parsed.files)
        if mail.efm_id is not None:  # matched by an earlier attempt: files may already be attached there
            efm = get_efm(session, mail.efm_id)
            match = Match(efm.convocation.intervenant, mail.match_evidence, efm)
        else:
            match = _match(session, mail, parsed)
        if match.problem is None and parsed.incomplete:
            match = Match(
                match.person,
                match.evidence,
                None,
                problem="Le message contient trop de pièces jointes ou de messages imbriqués pour être lu en entier.",
                advice=mail_replies.ADVICE_TOO_LARGE,
            )
        if match.problem is None and parsed.structure_broken and not parsed.files:
            match = Match(
                match.person,
                match.evidence,
                None,
                problem="Le message est mal formé : aucune pièce jointe n'a pu y être lue.",
                advice=mail_replies.ADVICE_UNREADABLE,
            )
        if match.problem is not None or match.person is None or match.efm is None:
            _quarantine(session, mail, match.person, match.problem or "", match.advice, parsed)
            return MailState.QUARANTINED
        mail.intervenant_id, mail.efm_id, mail.match_evidence = match.person.id, match.efm.id, match.evidence
        pending = [a.id for a in mail.attachments if a.state == AttachmentState.PENDING]
        actor = f"intervenant:{match.person.id}"
    errors: list[str] = []
    for attachment_id in pending:  # one transaction per file: an accepted file stays accepted
        try:
            with session_scope() as session:
                attachment = session.get(MailAttachment, attachment_id)
                if attachment is not None:
                    _accept_one(session, attachment, actor, mail_commands.parse(attachment.mail.subject))
        except Exception as exc:  # noqa: BLE001 - left pending; the message is retried later
            log.exception("mail %s: attachment %s could not be stored", mail_id, attachment_id)
            errors.append(f"{type(exc).__name__}: {exc}")
    if errors:
        raise RuntimeError(f"{len(errors)} attachment(s) could not be stored: {errors[0]}")
    with session_scope() as session:
        mail = _get(session, mail_id)
        _finish(session, mail, parsed)
        return MailState(mail.state)


def _get(session: Session, mail_id: int) -> InboundMail:
    mail = session.get(InboundMail, mail_id)
    if mail is None:
        raise NotFound("Message introuvable.")
    return mail


def _record_attachments(session: Session, mail: InboundMail, files: Iterable[IncomingFile]) -> None:
    """One row per candidate file, classified by content; candidate bytes kept in the mail store."""
    store = mail_store()
    for f in files:
        sniffed = receipts.sniff_type(f.data)
        att = MailAttachment(
            position=f.position,
            filename=(f.filename or "")[:255],
            declared_type=f.declared_type[:100],
            detected_type=sniffed[:40] if sniffed else None,
            forwarded=f.forwarded,
            size=len(f.data),
            sha256=store.put(f.data),
        )
        if _is_decoration(f, sniffed):
            att.state, att.reason = AttachmentState.IGNORED, "Image de signature ou logo, ignorée."
        elif f.is_tnef:  # mail_ingest unpacks a readable one: this one could not be read
            att.state, att.reason = AttachmentState.REJECTED, mail_replies.tnef_reason(f.filename)
        else:
            try:
                receipts.check_receipt_file(f.data, f.filename or "")
                att.state = AttachmentState.PENDING
            except InvalidInput as exc:
                att.state, att.reason = AttachmentState.REJECTED, exc.message
        mail.attachments.append(att)
    session.flush()


def _is_decoration(f: IncomingFile, sniffed: str | None) -> bool:
    """A small inline image (signature, logo, banner): judged by its pixels, not by its bytes (a receipt's
    screenshot is mostly white and weighs less than many logos), nor by dropping every inline part."""
    is_image = sniffed in IMAGE_TYPES or (sniffed is None and f.declared_type.startswith("image/"))
    if not f.data or not is_image or (f.disposition == "attachment" and not f.content_id):
        return False
    try:
        from PIL import Image

        with Image.open(io.BytesIO(f.data)) as img:
            return max(img.size) < TINY_IMAGE_SIDE or min(img.size) < BANNER_SIDE
    except Exception:  # noqa: BLE001 - unreadable image: a small one is a broken logo, else the receipt rule judges
        return len(f.data) < TINY_IMAGE_BYTES


def personal_tokens(addresses: Iterable[str]) -> list[str]:
    """Tokens of personal intake addresses (``<intake local part>+<token>@<intake domain>``)."""
    settings = get_settings()
    intake = settings.intake_address_list
    locals_ = {a.split("@", 1)[0] for a in intake}
    domains = {a.split("@", 1)[1] for a in intake if "@" in a} | {settings.intake_domain.lower()}
    tokens: list[str] = []
    for address in addresses:
        address = address.strip().strip("<>").lower()
        local, _, domain = address.partition("@")
        base, plus, token = local.partition("+")
        if plus and token and base in locals_ and domain in domains:
            tokens.append(token)
    return list(dict.fromkeys(tokens))


def _match(session: Session, mail: InboundMail, parsed: IncomingMail) -> Match:
    recipients = [a for a in mail.envelope_to.split(",") if a] + list(parsed.recipients)
    person, evidence = None, ""
    for token in personal_tokens(recipients):
        person = session.scalar(select(Intervenant).where(func.lower(Intervenant.intake_token) == token))
        if person is not None:
            evidence = "personal_address"
            break
    sender = parsed.from_address or usable_address(mail.envelope_from)  # a From without an address: the envelope's
    if person is None and sender:
        link = session.scalar(select(IntervenantEmail).where(IntervenantEmail.address == sender))
        if link is not None:
            person, evidence = link.intervenant, "sender"
    if person is None:
        return Match(None, "", problem="L'adresse de l'expéditeur n'est associée à aucun intervenant.")
    if parsed.auth_failures:
        return Match(
            person,
            evidence,
            problem="L'authentification de l'expéditeur a échoué (" + ", ".join(parsed.auth_failures) + ").",
            advice=mail_replies.ADVICE_AUTH,
        )
    command = mail_commands.parse(parsed.subject)
    if command is not None:  # « remplacer justificatif n° 57 »: the receipt names the dossier
        efm, problem = mail_commands.target(session, person, command)
        if problem is not None:
            return Match(person, evidence, problem=problem, advice=mail_commands.HOW_TO)
        return Match(person, evidence, efm)
    return _match_mission(session, person, evidence, parsed)


def accepts_receipts(efm: EtatDeFrais) -> bool:
    """Receipts can still be added while a part of the dossier is not closed (validated, paid, cancelled)."""
    return any(PartStatus(s) not in CLOSED_STATUSES for s in (efm.pay_status, efm.travel_status))


def mission_label(efm: EtatDeFrais) -> str:
    """How replies name a dossier: mission number, exam, date, centre and dossier number."""
    mission = efm.convocation.mission
    label = f"la mission n° {mission.number} – {mission.exam.name}, le {format_date(mission.start_at)}"
    label += f", {mission.centre.name}" if mission.centre else ""
    return label + (f" – dossier n° {efm.dossier_number}" if efm.dossier_number else "")


def _references(text: str) -> tuple[set[str], set[str]]:
    """(references next to a keyword like 'mission' or 'dossier', every token containing a digit)."""
    anchored = {m.upper().rstrip(".") for m in _ANCHORED_REF.findall(text)}
    tokens = {t.upper().rstrip(".") for t in _REF_TOKEN.findall(text) if any(c.isdigit() for c in t)}
    return anchored, tokens


def _match_mission(session: Session, person: Intervenant, evidence: str, parsed: IncomingMail) -> Match:
    efms = efms_of_intervenant(session, person.id)
    keys = {efm.id: {k.upper() for k in (efm.convocation.mission.number, efm.dossier_number) if k} for efm in efms}
    subject_anchored, subject_tokens = _references(parsed.subject)
    body_anchored, body_tokens = _references(parsed.body_text)
    # Strongest evidence first: "mission 621" in the subject, then in the text, then bare references.
    for refs in (subject_anchored, body_anchored, subject_tokens, body_tokens):
        named = [efm for efm in efms if keys[efm.id] & refs]
        if len(named) == 1:
            efm = named[0]
            if not accepts_receipts(efm):
                return Match(
                    person,
                    evidence,
                    problem=f"Le dossier de {mission_label(efm)} est déjà clos : il n'accepte plus de justificatifs.",
                    advice=_list_advice(efms),
                )
            return Match(person, evidence, efm)
        if len(named) > 1:
            return Match(
                person,
                evidence,
                problem="Le message cite plusieurs missions : "
                + ", ".join(e.convocation.mission.number for e in named)
                + ".",
                advice=_list_advice(efms),
            )
    open_efms = [efm for efm in efms if accepts_receipts(efm)]
    if len(open_efms) == 1:
        return Match(person, evidence, open_efms[0])
    if not open_efms:
        return Match(
            person,
            evidence,
            problem="Aucune mission ouverte n'accepte de justificatifs.",
            advice="Contactez la DEC si vous pensez qu'il s'agit d'une erreur.",
        )
    return Match(
        person,
        evidence,
        problem="Vous avez plusieurs missions en cours et le message n'indique pas laquelle est concernée.",
        advice=_list_advice(open_efms),
    )


def _list_advice(efms: Sequence[EtatDeFrais]) -> str:
    open_ones = [e for e in efms if accepts_receipts(e)]
    if not open_ones:
        return mail_replies.ADVICE_MISSION
    listing = "\n".join(f"  - {mission_label(e)}" for e in open_ones)
    return f"{mail_replies.ADVICE_MISSION}\nVos missions en cours :\n{listing}"


def _note(att: MailAttachment) -> str | None:
    """What the reply says beside a file: why refused; for a receipt, its number (for « remplacer … »)."""
    if (
        att.state != AttachmentState.ACCEPTED
        or not att.receipt_id
        or att.reason == mail_commands.replaced_reason(att.receipt_id)
    ):
        return att.reason
    return f"justificatif n° {att.receipt_id}" + (f", {att.reason}" if att.reason else "")


def _lines(mail: InboundMail, *states: AttachmentState) -> list[mail_replies.FileLine]:
    return [
        mail_replies.file_line(a.filename or None, a.position, _note(a)) for a in mail.attachments if a.state in states
    ]


def _quarantine(
    session: Session,
    mail: InboundMail,
    person: Intervenant | None,
    reason: str,
    advice: str,
    parsed: IncomingMail | None,
) -> None:
    """Keep the message for the DEC, hold its receipt candidates and tell the sender why (never silently)."""
    for att in mail.attachments:
        if att.state == AttachmentState.PENDING:
            att.state = AttachmentState.HELD
    mail.state = MailState.QUARANTINED
    mail.quarantine_reason = reason
    mail.intervenant_id = person.id if person else None
    mail.locked_until = None
    mail.locked_by = None
    mail.processed_at = utcnow()
    audit.record(session, ACTOR, "inbound_mail", mail.id, "mail_quarantined", None, {"reason": reason})
    address = reply_policy.reply_address(
        session,
        sender=(parsed.from_address if parsed else None) or usable_address(mail.envelope_from),
        parsed=parsed,
        envelope_from=mail.envelope_from,
        source=mail.source,
        fallback=person.emails[0].address if person and person.emails else None,
    )
    if address is None:  # automatic, list or own mail, or a sender nobody knows nor vouched for: no backscatter
        return
    name = person.display_name if person else None  # never a name the sender wrote about themself
    text = mail_replies.quarantine_text(
        name=name,
        subject=mail.subject,
        reason=reason,
        advice=advice,
        held=_lines(mail, AttachmentState.HELD),
        rejected=_lines(mail, AttachmentState.REJECTED),
    )
    queue_reply(session, mail, address, text, references=parsed.references if parsed else ())
    if person is not None:
        note = mail_replies.notification_text(mission_label="", accepted=0, rejected=0, quarantined_reason=reason)
        outbox.notify_intervenant(
            session,
            person,
            kind="mail_quarantined",
            text=note,
            subject="",
            dedupe_key=f"mail_note:{mail.id}",
            email=False,
        )


def _accept_one(
    session: Session, att: MailAttachment, actor: str, command: mail_commands.Command | None = None
) -> None:
    """Store one held or pending file as a receipt of the message's dossier (or reject it, saying why); in a
    « remplacer justificatif n° … » message, the first file that can replaces that receipt's file."""
    if att.state not in (AttachmentState.PENDING, AttachmentState.HELD):
        return
    mail = att.mail
    efm = get_efm(session, mail.efm_id) if mail.efm_id else None
    if efm is None:
        raise NotFound("Dossier introuvable.")
    data = mail_store().get(att.sha256)
    replace = mail_commands.to_replace(mail, command)
    try:
        if replace is not None:
            replacing = receipts.replace_receipt_file(session, efm, replace, data, att.filename, actor)
            att.state, att.receipt_id = AttachmentState.ACCEPTED, replacing.id
            att.reason = mail_commands.replaced_reason(replacing.id)
            return
        receipt, created = receipts.add_receipt(
            session, efm, data, att.filename, source="email", source_ref=f"mail:{mail.id}:{att.position}", actor=actor
        )
    except DomainError as exc:
        att.state, att.reason = AttachmentState.REJECTED, exc.message
        return
    att.state, att.receipt_id = AttachmentState.ACCEPTED, receipt.id
    att.reason = None if created else "déjà reçue pour ce dossier"


def _finish(session: Session, mail: InboundMail, parsed: IncomingMail) -> None:
    """Mark the message processed, refresh the dossier's flags, answer the sender and notify the chat."""
    if mail.efm_id is None:
        raise NotFound("Dossier introuvable.")
    efm = get_efm(session, mail.efm_id)
    person = efm.convocation.intervenant
    mail.state = MailState.PROCESSED
    mail.quarantine_reason = None
    mail.locked_until = None
    mail.locked_by = None
    mail.processed_at = utcnow()
    command = mail_commands.parse(mail.subject)
    done = [mail_commands.finish(session, efm, mail, command, f"intervenant:{person.id}")] if command else []
    accepted = _lines(mail, AttachmentState.ACCEPTED)
    rejected = _lines(mail, AttachmentState.REJECTED)
    if accepted:
        prechecks.refresh_flags(session, efm)
    audit.record(
        session,
        ACTOR,
        "inbound_mail",
        mail.id,
        "mail_processed",
        None,
        {"efm_id": efm.id, "accepted": len(accepted), "rejected": len(rejected)},
    )
    label = mission_label(efm)
    automatic = parsed.automatic
    address = reply_policy.reply_address(
        session,
        sender=usable_address(parsed.from_address),
        parsed=parsed,
        envelope_from=mail.envelope_from,
        source=mail.source,
        fallback=person.emails[0].address if person.emails else None,
    )
    if address:
        text = mail_replies.accepted_text(
            name=person.display_name,
            subject=mail.subject,
            mission_label=label,
            accepted=accepted,
            rejected=rejected,
            missing=still_missing(efm),
            done=done,
        )
        queue_reply(session, mail, address, text, references=parsed.references)
    if automatic and not (accepted or rejected or done):
        return  # an out-of-office answer to one of our replies: nothing to tell in the chat
    note = mail_replies.notification_text(
        mission_label=label, accepted=len(accepted), rejected=len(rejected), quarantined_reason=None
    )
    note += "".join(f"\n{d}" for d in done)
    outbox.notify_intervenant(
        session,
        person,
        kind="mail_processed",
        text=note,
        subject="",
        dedupe_key=f"mail_note:{mail.id}",
        email=False,
    )


def still_missing(efm: EtatDeFrais) -> list[str]:
    """What the intervenant still has to do for this dossier (French, for the reply)."""
    missing = [m[0].upper() + m[1:] for m in steps.missing_answers(efm)]
    if efm.dossier_number is None and not missing:
        missing.append("Valider votre état de frais (un numéro de dossier vous sera alors attribué)")
    for flag in efm.flags:
        if flag.code in (prechecks.RECEIPTS_MISSING, prechecks.LODGING_NO_RECEIPT):
            missing.append(flag.message)
    return missing


# ------------------------------------------------------------------------------------ DEC side


def quarantined(session: Session) -> list[InboundMail]:
    """Messages kept for the DEC (quarantined or failed), oldest first."""
    return list(
        session.scalars(
            select(InboundMail)
            .where(InboundMail.state.in_([MailState.QUARANTINED, MailState.FAILED]))
            .order_by(InboundMail.id)
        )
    )


def reassign(session: Session, mail_id: int, efm_id: int, actor: str) -> InboundMail:
    """The DEC attaches a quarantined (or failed) message to a dossier: its held files become receipts;
    a message that was never read is processed again by the worker, for this dossier."""
    mail = session.get(InboundMail, mail_id)
    if mail is None:
        raise NotFound("Message introuvable.")
    if mail.state not in (MailState.QUARANTINED, MailState.FAILED):
        raise InvalidInput("Ce message a déjà été rattaché à un dossier.")
    efm = get_efm(session, efm_id)
    person = efm.convocation.intervenant
    before = {"state": str(mail.state), "efm_id": mail.efm_id}
    mail.intervenant_id, mail.efm_id, mail.match_evidence = person.id, efm.id, "dec"
    mail.quarantine_reason = None
    if not mail.attachments and mail.from_address is None:
        # processing never got as far as reading the message: the worker does it again, for this dossier
        mail.state, mail.attempts, mail.next_attempt_at, mail.last_error = MailState.RECEIVED, 0, None, None
        audit.record(session, actor, "inbound_mail", mail.id, "mail_reassigned", before, {"efm_id": efm.id})
        return mail
    session.flush()
    for att in mail.attachments:
        _accept_one(session, att, actor)
    audit.record(session, actor, "inbound_mail", mail.id, "mail_reassigned", before, {"efm_id": efm.id})
    mail.state = MailState.PROCESSED
    mail.processed_at = utcnow()
    accepted = _lines(mail, AttachmentState.ACCEPTED)
    if accepted:
        prechecks.refresh_flags(session, efm)
    outbox.notify_intervenant(
        session,
        person,
        kind="mail_reassigned",
        subject="Imag'in : justificatifs rattachés",
        text=f"La DEC a rattaché votre e-mail « {mail.subject or '(sans objet)'} » à {mission_label(efm)} : "
        f"{len(accepted)} justificatif(s) enregistré(s).",
        dedupe_key=f"mail_reassigned:{mail.id}",
    )
    return mail
