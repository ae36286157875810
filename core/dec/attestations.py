"""Import of a centre's service fait list (CSV) by a chef de centre or a gestionnaire.

One row per intervenant and mission, identified by the mission number and the Numéro Intervenant
(or by the dossier number), with whether the service was done. Separator ``;`` or ``,``, UTF-8 or
Windows-1252. Good rows are recorded, bad ones reported with their line number and left out.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.dec.queue import Operator, attest
from core.errors import DomainError, InvalidInput, NotFound
from core.french import format_size
from core.models import Convocation, EtatDeFrais, Intervenant, Mission

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
EXAMPLE = "mission;numero_intervenant;service_fait\nBAC-2026-001;N12345;oui"
# Accepted header names (normalised: lower case, no accents, spaces and dashes as "_").
COLUMNS = {
    "mission": {"mission", "numero_mission", "n_mission", "no_mission", "num_mission"},
    "numero": {"numero_intervenant", "intervenant", "n_intervenant", "no_intervenant", "num_intervenant", "numero"},
    "dossier": {"dossier", "numero_dossier", "n_dossier", "no_dossier"},
    "done": {"service_fait", "effectue", "effectuee", "fait", "present", "statut"},
}
YES = {"oui", "o", "yes", "y", "1", "x", "vrai", "true", "fait", "effectue", "effectuee", "present", "presente"}
NO = {"non", "n", "no", "0", "faux", "false", "non_fait", "non_effectue", "non_effectuee", "absent", "absente"}


@dataclass
class AttestationReport:
    recorded: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, French reason)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "_".join(text.replace("°", "").replace("-", " ").replace(".", " ").split())


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"Fichier trop volumineux ({format_size(MAX_BYTES)} au plus).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("Encodage du fichier non reconnu : enregistrez-le en CSV UTF-8.")


def read_rows(data: bytes) -> tuple[dict[str, int], list[tuple[int, dict[str, str]]]]:
    """(header mapping, [(line number, row)]) or InvalidInput with an example of the expected file."""
    text = _decode(data)
    if not text.strip():
        raise InvalidInput(f"Le fichier est vide. Exemple attendu :\n{EXAMPLE}")
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    mapping: dict[str, int] = {}
    for position, name in enumerate(header):
        for key, names in COLUMNS.items():
            if _norm(name) in names and key not in mapping:
                mapping[key] = position
    has_id = "dossier" in mapping or {"mission", "numero"} <= mapping.keys()
    if "done" not in mapping or not has_id:
        raise InvalidInput(
            f"Colonnes attendues : mission, numero_intervenant (ou dossier) et service_fait. Exemple :\n{EXAMPLE}"
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"Trop de lignes ({MAX_ROWS} au plus) : découpez le fichier.")
        rows.append((line, {k: values[i].strip() if i < len(values) else "" for k, i in mapping.items()}))
    return mapping, rows


def _done(value: str) -> bool:
    v = _norm(value)
    if v in YES:
        return True
    if v in NO:
        return False
    raise InvalidInput(f"Service fait « {value} » non reconnu : indiquez oui ou non.")


def _find_efm(session: Session, row: dict[str, str]) -> int:
    if row.get("dossier"):
        efm_id = session.scalar(select(EtatDeFrais.id).where(EtatDeFrais.dossier_number == row["dossier"]))
        if efm_id is None:
            raise InvalidInput(f"Dossier « {row['dossier']} » inconnu.")
        return efm_id
    if not row.get("mission") or not row.get("numero"):
        raise InvalidInput("Numéro de mission ou numéro d'intervenant manquant.")
    efm_id = session.scalar(
        select(EtatDeFrais.id)
        .join(EtatDeFrais.convocation)
        .join(Convocation.mission)
        .join(Convocation.intervenant)
        .where(Mission.number == row["mission"], Intervenant.numero == row["numero"])
    )
    if efm_id is None:
        raise InvalidInput(f"Aucune convocation de l'intervenant {row['numero']} à la mission {row['mission']}.")
    return efm_id


def import_attestations(session: Session, op: Operator, data: bytes) -> AttestationReport:
    """Record service fait for each good row (a chef de centre: missions of their centre only)."""
    _, rows = read_rows(data)
    report = AttestationReport()
    for line, row in rows:
        try:
            with session.begin_nested():
                done = _done(row.get("done", ""))
                attest(session, op, _find_efm(session, row), done, source="csv")
            report.recorded += 1
        except DomainError as exc:
            reason = "mission inconnue ou d'un autre centre" if isinstance(exc, NotFound) else exc.message
            report.errors.append((line, reason))
    return report
