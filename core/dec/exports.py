"""DEC exports: validated dossiers for payment (CSV, pay and travel apart) and one dossier as a zip.

Payment CSV: French spreadsheet conventions (``;`` separator, decimal comma, UTF-8 with BOM), one
row per dossier part, amounts from ``core.estimates``. Exporting moves the exported parts from
VALIDATED to SENT_TO_PAYMENT in the same transaction, so a part is never paid twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from core import audit, receipt_lines
from core.dec.operators import actor_name, actor_names
from core.dec.queue import Operator, decisions_of, get_dossier, require_service_fait, visible_dossiers, with_details
from core.declarations import apply_transition, part_status
from core.errors import DomainError, NotFound
from core.estimates import estimate_for, line_quantity, line_rate
from core.filestore import receipt_store
from core.french import format_amount, format_date, format_timestamp
from core.models import AuditEntry, Decision, EtatDeFrais, MissionType, utcnow
from core.ops.privacy import PURGED
from core.receipts import receipts_of
from core.rules import RECEIPTS_SOURCE, EstimateLine
from core.settings import get_settings
from core.statuses import Part, PartStatus

EXPORT_NAME = re.compile(r"^paiement-(remuneration|deplacement)-\d{8}-\d{6}(-\d+)?\.csv$")
PART_NAMES = {Part.PAY: "rémunération", Part.TRAVEL: "déplacement"}
CSV_COLUMNS = [
    "Dossier",
    "Partie",
    "Montant (€)",
    "Numéro intervenant",
    "Nom",
    "Prénom",
    "Mission",
    "Type de mission",
    "Date de la mission",
    "Examen",
    "Session",
    "Code centre",
    "Centre",
    "Validé le",
    "Validé par",
    "Détail du calcul",
]
# The amount of each category, after the columns above (the travel part: meals, lodging, km, transport)
CATEGORY_COLUMNS = {
    "pay": "Rémunération (€)",
    "meals": "Repas (€)",
    "lodging": "Hébergement (€)",
    "car": "Indemnités kilométriques (€)",
    "transport": "Transport sur justificatifs (€)",
}
PART_CATEGORIES = {Part.PAY: ["pay"], Part.TRAVEL: ["meals", "lodging", "car", "transport"]}


@dataclass
class PaymentExport:
    part: Part
    csv_text: str
    rows: int = 0
    total: Decimal = Decimal("0.00")
    skipped: list[str] = field(default_factory=list)  # French: dossiers left out, and why

    made_at: datetime = field(default_factory=utcnow)

    @property
    def filename(self) -> str:
        what = "remuneration" if self.part is Part.PAY else "deplacement"
        return f"paiement-{what}-{self.made_at:%Y%m%d-%H%M%S}.csv"


def _cell(value: object) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _detail(line: EstimateLine) -> str:
    """« Correction de copies : 95 copies × 5,00 € = 475,00 € »; a receipts total at its amount."""
    if line.rule_source == RECEIPTS_SOURCE:
        return f"{line.label_fr} : {format_amount(line.amount)} sur justificatifs"
    return f"{line.label_fr} : {line_quantity(line)} × {line_rate(line)} = {format_amount(line.amount)}"


def _last_validation(session: Session, efm_id: int, part: Part) -> Decision | None:
    return session.scalar(
        select(Decision)
        .where(Decision.efm_id == efm_id, Decision.part == part.value, Decision.action == "validate")
        .order_by(Decision.id.desc())
        .limit(1)
    )


def payment_export(session: Session, op: Operator, part: Part, *, mark_sent: bool = True) -> PaymentExport:
    """The validated parts of ``part`` as a payment CSV; with ``mark_sent`` they go to SENT_TO_PAYMENT.

    A part whose service fait is no longer attested as done is left out (and listed in ``skipped``).
    """
    op.require_gestionnaire()
    col = EtatDeFrais.pay_status if part is Part.PAY else EtatDeFrais.travel_status
    q = with_details(visible_dossiers(op).where(col == PartStatus.VALIDATED.value))
    if mark_sent:  # two exports at once must not both take the same parts (PostgreSQL row locks)
        q = q.with_for_update(of=EtatDeFrais)
    efms = list(session.scalars(q.order_by(EtatDeFrais.dossier_number)).unique())
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    categories = PART_CATEGORIES[part]
    writer.writerow(CSV_COLUMNS + [CATEGORY_COLUMNS[c] for c in categories])
    export = PaymentExport(part, "")
    for efm in efms:
        try:
            require_service_fait(efm)
        except DomainError as exc:
            export.skipped.append(f"{efm.dossier_number} : {exc.message}")
            continue
        est = estimate_for(session, efm)
        amount = est.pay if part is Part.PAY else est.travel
        lines = [ln for ln in est.lines if ln.part == part.value]
        mission, person = efm.convocation.mission, efm.convocation.intervenant
        validated = _last_validation(session, efm.id, part)
        row = [
            efm.dossier_number,
            PART_NAMES[part],
            _csv_amount(amount),
            person.numero,
            person.last_name,
            person.first_name,
            mission.number,
            MissionType(mission.mission_type).label,
            format_date(mission.start_at),
            mission.exam.name,
            mission.exam.session,
            mission.centre.code,
            mission.centre.name,
            format_timestamp(validated.created_at) if validated else "",
            actor_name(session, validated.actor) if validated else "",
            " | ".join(_detail(ln) for ln in lines),
        ]
        by_category = est.by_category()
        amounts = [_csv_amount(by_category.get(c, Decimal("0.00"))) for c in categories]
        writer.writerow([v if i == 2 else _cell(v) for i, v in enumerate(row)] + amounts)
        export.rows += 1
        export.total += amount
        if mark_sent:
            apply_transition(session, efm, part, "send_to_payment", op.actor)
            session.add(Decision(efm_id=efm.id, part=part.value, action="send_to_payment", actor=op.actor))
    if mark_sent and export.rows:
        audit.record(
            session,
            op.actor,
            "payment_export",
            0,
            f"export_{part.value}",
            None,
            {"rows": export.rows, "total": str(export.total)},
        )
    session.flush()
    export.csv_text = "\ufeff" + out.getvalue()
    return export


def exports_dir() -> Path:
    """Where every payment export is kept, so a lost download can be fetched again."""
    return get_settings().data_dir / "exports"


def save_export(export: PaymentExport) -> Path:
    """Keep a copy of an export (call it after the commit that marked the parts as sent)."""
    folder = exports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / export.filename
    n = 1
    while target.exists():
        n += 1
        target = folder / export.filename.replace(".csv", f"-{n}.csv")
    tmp = target.with_suffix(".tmp")
    tmp.write_text(export.csv_text, encoding="utf-8", newline="")
    os.replace(tmp, target)
    return target


def export_payment(session: Session, op: Operator, part: Part) -> PaymentExport:
    """The payment export of one part, as a use case: the parts are marked sent in this transaction and the
    file is kept once that transaction commits (never kept for a transaction rolled back)."""
    export = payment_export(session, op, part)
    if export.rows:
        event.listen(session, "after_commit", lambda _session: save_export(export), once=True)
    return export


def saved_exports(limit: int = 100) -> list[Path]:
    """The kept exports, newest first."""
    folder = exports_dir()
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.glob("paiement-*.csv") if EXPORT_NAME.match(p.name)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )[:limit]


def saved_export(name: str) -> bytes:
    """One kept export by file name (only names this module writes)."""
    path = exports_dir() / name
    if not EXPORT_NAME.match(name) or not path.is_file():
        raise NotFound("Export introuvable.")
    return path.read_bytes()


def waiting_payment(session: Session, op: Operator) -> dict[str, int]:
    """How many parts are validated and not yet exported, per part."""
    q = visible_dossiers(op).where(
        or_(
            EtatDeFrais.pay_status == PartStatus.VALIDATED.value,
            EtatDeFrais.travel_status == PartStatus.VALIDATED.value,
        )
    )
    counts = {"pay": 0, "travel": 0}
    for efm in session.scalars(q):
        for p in Part:
            if part_status(efm, p) is PartStatus.VALIDATED:
                counts[p.value] += 1
    return counts


# ---------------------------------------------------------------------------------------------- dossier


def _iso(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def dossier_data(session: Session, op: Operator, efm_id: int) -> dict[str, Any]:
    """Everything known about a dossier, JSON-safe: declaration, trips, estimate, receipts, history."""
    efm = get_dossier(session, op, efm_id)
    mission, person = efm.convocation.mission, efm.convocation.intervenant
    declaration_fields = [
        "service_done",
        "copies",
        "candidates",
        "practical_minutes",
        "departure_at",
        "return_at",
        "nights",
        "lodging_amount",
        "meals",
        "admin_meals",
        "car_fiscal_hp",
        "car_yearly_km",
        "receipts_total",
        "receipts_by_email",
        "submitted_at",
    ]
    est = estimate_for(session, efm)
    lines = {
        v.receipt.id: {
            "nature": v.line.kind,
            "etat": v.line.state,
            "montant_lu": _iso(v.line.amount_read),
            "montant_confirme": _iso(v.line.amount_confirmed),
            "justifie": v.justification.justifies,
            "compte": v.justification.counted,
            "ecarts": [p.message for p in v.justification.problems],
        }
        for v in receipt_lines.line_views(session, efm)
    }
    sf = efm.service_fait
    history = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == "etat_de_frais", AuditEntry.entity_id == efm.id)
            .order_by(AuditEntry.id)
        )
    )
    decisions = decisions_of(session, efm.id)
    names = actor_names(
        session, [sf.attested_by if sf else None, *(d.actor for d in decisions), *(a.actor for a in history)]
    )

    def who(actor: str | None) -> dict[str, str | None]:
        """The actor in words for the reader, and the account it stands for (``staff:3``) for tracing."""
        return {"par": names.get(actor or "", actor), "compte": actor}

    return {
        "dossier": efm.dossier_number,
        "id": efm.id,
        "statuts": {"remuneration": efm.pay_status, "deplacement": efm.travel_status},
        "intervenant": {
            "numero": person.numero,
            "identifiant_imagin": person.imagin_id,
            "civilite": person.civility,
            "nom": person.last_name,
            "prenom": person.first_name,
            "commune": person.residence_commune,
            "rqth": person.rqth,
        },
        "mission": {
            "numero": mission.number,
            "type": str(mission.mission_type),
            "debut": _iso(mission.start_at),
            "duree_jours": mission.duration_days,
            "examen": mission.exam.name,
            "code_examen": mission.exam.code,
            "session": mission.exam.session,
            "groupe_taux": mission.exam.rate_group,
            "centre": {"code": mission.centre.code, "nom": mission.centre.name},
            "specialite": mission.speciality,
            "epreuve": mission.epreuve,
            "quantite_convoquee": efm.convocation.expected_quantity,
        },
        "declaration": {f: _iso(getattr(efm, f)) for f in declaration_fields},
        "trajets": [
            {
                "depart": _iso(t.depart_at),
                "ville_depart": t.depart_city,
                "arrivee": _iso(t.arrive_at),
                "ville_arrivee": t.arrive_city,
                "mode": t.mode,
                "km": t.distance_km,
            }
            for t in efm.trips
        ],
        "service_fait": None
        if sf is None
        else {"effectue": sf.done, **who(sf.attested_by), "source": sf.source, "le": _iso(sf.attested_at)},
        "estimation": {
            "remuneration": str(est.pay),
            "deplacement": str(est.travel),
            "total": str(est.total),
            "par_categorie": {k: str(v) for k, v in est.by_category().items()},
            "lignes": [
                {
                    "partie": ln.part,
                    "libelle": ln.label_fr,
                    "quantite": str(ln.quantity),
                    "unite": ln.unit_fr,
                    "taux": str(ln.rate),
                    "montant": str(ln.amount),
                    "source": ln.rule_source,
                }
                for ln in est.lines
            ],
        },
        "controles": [
            {"code": f.code, "gravite": f.severity, "message": f.message, "donnees": f.data} for f in efm.flags
        ],
        "justificatifs": [
            {
                "id": r.id,
                "nom": r.original_name,
                "type": r.detected_type,
                "taille": r.size,
                "sha256": r.sha256,
                "source": r.source,
                "recu_le": _iso(r.created_at),
                "ligne": lines.get(r.id),
                "lecture": {
                    "statut": r.ocr_status,
                    "total": _iso(r.ocr_total),
                    "devise": r.ocr_currency,
                    "date": _iso(r.ocr_date),
                    "confiance": r.ocr_confidence,
                    "erreur": r.ocr_error,
                },
            }
            for r in receipts_of(session, efm.id)
        ],
        "decisions": [
            {"partie": d.part, "decision": d.action, "motif": d.reason, **who(d.actor), "le": _iso(d.created_at)}
            for d in decisions
        ],
        "historique": [
            {"le": _iso(a.at), **who(a.actor), "action": a.action, "avant": a.before, "apres": a.after} for a in history
        ],
    }


def recap_pdf(session: Session, op: Operator, efm_id: int) -> bytes:
    """The état récapitulatif (the same document the bot sends), for a dossier the operator may see."""
    from core.recap_pdf import render_recap_pdf

    get_dossier(session, op, efm_id)
    return render_recap_pdf(session, efm_id)


def _safe_name(receipt_id: int, name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name or "justificatif"
    return f"justificatifs/{receipt_id:04d}-{base}"


def dossier_zip(session: Session, op: Operator, efm_id: int) -> tuple[str, bytes]:
    """(file name, zip bytes): recap PDF, every receipt, and ``dossier.json``."""
    data = dossier_data(session, op, efm_id)
    store = receipt_store()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("recapitulatif.pdf", recap_pdf(session, op, efm_id))
        for r in receipts_of(session, efm_id):
            if r.storage_key != PURGED:  # bytes deleted past retention: the JSON still lists the receipt
                zf.writestr(_safe_name(r.id, r.original_name), store.get(r.storage_key))
        zf.writestr("dossier.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return f"dossier-{data['dossier']}.zip", buf.getvalue()
