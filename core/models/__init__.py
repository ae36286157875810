"""All ORM models, one module per area, re-exported here."""

from core.models.base import Base, utcnow
from core.models.bot_state import BotState  # noqa: F401 - the bot's FSM storage table
from core.models.declarations import Decision, EtatDeFrais, Flag, ServiceFait, Trip
from core.models.mail import AttachmentState, InboundMail, MailAttachment, MailState  # noqa: F401 (mail area)
from core.models.missions import Centre, Convocation, Exam, Mission, MissionType
from core.models.ops import AuditEntry, OutboxMessage
from core.models.people import Intervenant, IntervenantEmail, LoginAttempt, StaffRole, StaffUser
from core.models.receipts import LineKind, LineState, Receipt, ReceiptLine

__all__ = [
    "AuditEntry",
    "Base",
    "Centre",
    "Convocation",
    "Decision",
    "EtatDeFrais",
    "Exam",
    "Flag",
    "Intervenant",
    "IntervenantEmail",
    "LoginAttempt",
    "Mission",
    "MissionType",
    "OutboxMessage",
    "LineKind",
    "LineState",
    "Receipt",
    "ReceiptLine",
    "ServiceFait",
    "StaffRole",
    "StaffUser",
    "Trip",
    "utcnow",
]
