"""Import of the convocation export (CSV): one row per convocation (intervenant x mission).

Columns (header names, case-insensitive; ``;`` or ``,`` separated; UTF-8 or Windows-1252):

=====================  ====================================================================
numero_intervenant     Numéro Intervenant (required, key of the intervenant)
identifiant_imagin     identifiant Imag'in (optional)
civilite, nom, prenom  civil status (nom required)
email                  e-mail address(es), separated by spaces or "|" (optional)
commune_residence      commune of residence (optional)
rqth                   oui/non (optional; higher lodging cap)
mot_de_passe           initial password printed on the convocation (required for a new intervenant)
examen_code            exam code (required), examen_nom, session (required)
groupe_taux            pay group T1..T5, or NR / ECA / empty when the exam gives no pay
groupe_taux_horaire    hourly group for orals and practicals (optional, default groupe_taux)
minutes_par_candidat   oral minutes per candidate (optional)
mission_numero         mission number (required, key of the mission)
type_mission           correction | oral | pratique | jury (or the Imag'in labels)
specialite, epreuve    speciality, épreuve / option (optional)
centre_code            centre code (required), centre_nom, centre_commune
zone_hebergement       standard | grande_ville | paris (optional, default standard)
debut                  mission start, "02/12/2022 09:00" (or ISO)
duree_jours            duration in days (default 1)
frais_remuneration     oui/non (default oui; forced to non for NR/ECA)
frais_deplacement      oui/non (default oui)
quantite_convoquee     copies / candidates / hours on the convocation (optional)
=====================  ====================================================================

Re-importing the same file changes nothing (natural keys); a bad row is reported with its line
number and reason and leaves nothing behind; good rows are imported.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts, audit
from core.errors import InvalidInput
from core.models import (
    Centre,
    Convocation,
    EtatDeFrais,
    Exam,
    Intervenant,
    IntervenantEmail,
    Mission,
    MissionType,
)
from core.parsing import parse_date, parse_time
from core.statuses import PartStatus

REQUIRED = [
    "numero_intervenant",
    "nom",
    "examen_code",
    "session",
    "mission_numero",
    "type_mission",
    "centre_code",
    "debut",
]
TYPE_ALIASES = {
    "correction": MissionType.CORRECTION,
    "correction de copies": MissionType.CORRECTION,
    "copies": MissionType.CORRECTION,
    "oral": MissionType.ORAL,
    "interrogation orale": MissionType.ORAL,
    "pratique": MissionType.PRATIQUE,
    "epreuve pratique": MissionType.PRATIQUE,
    "jury": MissionType.JURY,
    "jury de deliberation": MissionType.JURY,
    "deliberation": MissionType.JURY,
}
ZONES = {"standard", "grande_ville", "paris"}
NO_PAY_GROUPS = {"", "NR", "ECA"}


@dataclass
class ImportReport:
    imported: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.imported + self.unchanged + len(self.errors)


def _key(name: str) -> str:
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return name.strip().lower().replace(" ", "_").replace("-", "_").replace("'", "")


def _yes(value: str, default: bool) -> bool:
    v = _key(value)
    if not v:
        return default
    if v in {"oui", "o", "yes", "y", "1", "vrai", "true"}:
        return True
    if v in {"non", "n", "no", "0", "faux", "false"}:
        return False
    raise InvalidInput(f"valeur oui/non attendue, reçu « {value} »")


def _start(value: str) -> datetime:
    value = value.strip()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    date_part, _, time_part = value.partition(" ")
    return datetime.combine(parse_date(date_part), parse_time(time_part) if time_part.strip() else parse_time("08:00"))


def _int(value: str, what: str, default: int | None = None) -> int | None:
    v = value.strip()
    if not v:
        return default
    if not v.isdigit():
        raise InvalidInput(f"{what} : nombre entier attendu, reçu « {value} »")
    return int(v)


def validate_row(raw: dict[str, str]) -> dict[str, Any]:
    """Check one CSV row and return clean values; raises InvalidInput (French reason)."""
    r = {k: (v or "").strip() for k, v in raw.items()}
    missing = [c for c in REQUIRED if not r.get(c)]
    if missing:
        raise InvalidInput("colonne(s) vide(s) : " + ", ".join(missing))
    mtype = TYPE_ALIASES.get(_key(r["type_mission"]).replace("_", " "))
    if mtype is None:
        raise InvalidInput(f"type de mission inconnu « {r['type_mission']} » (correction, oral, pratique, jury)")
    group = r.get("groupe_taux", "").upper()
    if group not in NO_PAY_GROUPS and group not in {"T1", "T2", "T3", "T4", "T5"}:
        raise InvalidInput(f"groupe de taux inconnu « {group} » (T1 à T5, NR ou ECA)")
    hourly = r.get("groupe_taux_horaire", "").upper() or None
    if hourly is not None and hourly not in {"T1", "T2", "T3", "T4"}:
        raise InvalidInput(f"groupe de taux horaire inconnu « {hourly} » (T1 à T4)")
    zone = _key(r.get("zone_hebergement", "")) or "standard"
    if zone not in ZONES:
        raise InvalidInput(f"zone d'hébergement inconnue « {r['zone_hebergement']} »")
    emails = [e.lower() for e in r.get("email", "").replace("|", " ").replace(",", " ").split()]
    for e in emails:
        if "@" not in e or e.startswith("@") or e.endswith("@"):
            raise InvalidInput(f"adresse e-mail invalide « {e} »")
    try:
        start = _start(r["debut"])
    except InvalidInput as exc:
        raise InvalidInput(f"date de début invalide « {r['debut']} » ({exc.message})") from None
    duration = _int(r.get("duree_jours", ""), "duree_jours", 1)
    if not duration or duration > 60:
        raise InvalidInput("duree_jours doit être entre 1 et 60")
    return {
        "numero": r["numero_intervenant"],
        "imagin_id": r.get("identifiant_imagin") or None,
        "civility": r.get("civilite", ""),
        "last_name": r["nom"],
        "first_name": r.get("prenom", ""),
        "emails": emails,
        "commune": r.get("commune_residence", ""),
        "rqth": _yes(r.get("rqth", ""), False),
        "password": r.get("mot_de_passe", ""),
        "exam_code": r["examen_code"],
        "exam_name": r.get("examen_nom") or r["examen_code"],
        "session": r["session"],
        "rate_group": None if group in NO_PAY_GROUPS else group,
        "hourly_rate_group": hourly,
        "oral_minutes": _int(r.get("minutes_par_candidat", ""), "minutes_par_candidat"),
        "mission_number": r["mission_numero"],
        "mission_type": mtype,
        "speciality": r.get("specialite", ""),
        "epreuve": r.get("epreuve", ""),
        "centre_code": r["centre_code"],
        "centre_name": r.get("centre_nom") or r["centre_code"],
        "centre_commune": r.get("centre_commune", ""),
        "zone": zone,
        "start": start,
        "duration": duration,
        "pay": _yes(r.get("frais_remuneration", ""), True) and group not in NO_PAY_GROUPS,
        "travel": _yes(r.get("frais_deplacement", ""), True),
        "expected": _int(r.get("quantite_convoquee", ""), "quantite_convoquee"),
    }


def _upsert(session: Session, model: type, where: dict[str, Any], values: dict[str, Any]) -> tuple[Any, bool]:
    obj = session.scalar(select(model).filter_by(**where))
    if obj is None:
        obj = model(**where, **values)
        session.add(obj)
        session.flush()
        return obj, True
    changed = False
    for k, v in values.items():
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    return obj, changed


def create_efm(session: Session, convocation: Convocation, mission: Mission) -> EtatDeFrais:
    """The état de frais created with a convocation; a part that does not exist is 'Pas de frais'."""
    efm = EtatDeFrais(
        convocation_id=convocation.id,
        pay_status=PartStatus.NOT_YET_DONE if mission.has_pay_part else PartStatus.NO_COSTS,
        travel_status=PartStatus.NOT_YET_DONE if mission.has_travel_part else PartStatus.NO_COSTS,
    )
    session.add(efm)
    session.flush()
    return efm


def apply_row(session: Session, v: dict[str, Any], actor: str) -> bool:
    """Write one validated row; returns True if anything changed. Never resets a password."""
    person = session.scalar(select(Intervenant).where(Intervenant.numero == v["numero"]))
    changed = False
    if person is None:
        if not v["password"]:
            raise InvalidInput("mot_de_passe requis pour un nouvel intervenant")
        person = Intervenant(
            numero=v["numero"],
            password_hash=accounts.hash_password(v["password"]),
            intake_token=accounts.new_intake_token(),
            must_change_password=True,
        )
        session.add(person)
        changed = True
    for attr, key in [
        ("imagin_id", "imagin_id"),
        ("civility", "civility"),
        ("last_name", "last_name"),
        ("first_name", "first_name"),
        ("residence_commune", "commune"),
        ("rqth", "rqth"),
    ]:
        if getattr(person, attr) != v[key]:
            setattr(person, attr, v[key])
            changed = True
    session.flush()
    for address in v["emails"]:
        owner = session.scalar(select(IntervenantEmail).where(IntervenantEmail.address == address))
        if owner is None:
            session.add(IntervenantEmail(intervenant_id=person.id, address=address))
            changed = True
        elif owner.intervenant_id != person.id:
            raise InvalidInput(f"l'adresse {address} appartient déjà à un autre intervenant")
    centre, c1 = _upsert(
        session,
        Centre,
        {"code": v["centre_code"]},
        {"name": v["centre_name"], "commune": v["centre_commune"], "lodging_zone": v["zone"]},
    )
    exam, c2 = _upsert(
        session,
        Exam,
        {"code": v["exam_code"], "session": v["session"]},
        {
            "name": v["exam_name"],
            "rate_group": v["rate_group"],
            "hourly_rate_group": v.get("hourly_rate_group"),
            "oral_minutes_per_candidate": v["oral_minutes"],
        },
    )
    mission, c3 = _upsert(
        session,
        Mission,
        {"number": v["mission_number"]},
        {
            "exam_id": exam.id,
            "centre_id": centre.id,
            "mission_type": v["mission_type"],
            "speciality": v["speciality"],
            "epreuve": v["epreuve"],
            "start_at": v["start"],
            "duration_days": v["duration"],
            "has_pay_part": v["pay"],
            "has_travel_part": v["travel"],
        },
    )
    convocation, c4 = _upsert(
        session,
        Convocation,
        {"intervenant_id": person.id, "mission_id": mission.id},
        {"expected_quantity": v["expected"]},
    )
    if session.scalar(select(EtatDeFrais).where(EtatDeFrais.convocation_id == convocation.id)) is None:
        efm = create_efm(session, convocation, mission)
        audit.record(session, actor, "etat_de_frais", efm.id, "created", None, {"mission": mission.number})
        changed = True
    return changed or c1 or c2 or c3 or c4


def read_csv(data: bytes) -> list[dict[str, str]]:
    """Decode and parse the CSV; header keys normalised (lower-case, no accents)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if reader.fieldnames is None:
        raise InvalidInput("fichier vide")
    reader.fieldnames = [_key(f) for f in reader.fieldnames]
    missing = [c for c in REQUIRED if c not in reader.fieldnames]
    if missing:
        raise InvalidInput("colonnes manquantes dans l'en-tête : " + ", ".join(missing))
    return list(reader)


def import_missions(
    session: Session,
    path: Path,
    actor: str = "system:import",
    progress: Callable[[Iterable[Any]], Iterable[Any]] = lambda it: it,
) -> ImportReport:
    """Import the convocation export; each row in its own savepoint (a bad row leaves nothing)."""
    rows = read_csv(Path(path).read_bytes())
    report = ImportReport()
    for line, raw in progress(list(enumerate(rows, start=2))):
        if None in raw:
            report.errors.append((line, "trop de colonnes sur cette ligne"))
            continue
        try:
            values = validate_row(raw)
            with session.begin_nested():
                changed = apply_row(session, values, actor)
        except InvalidInput as exc:
            report.errors.append((line, exc.message))
            continue
        if changed:
            report.imported += 1
        else:
            report.unchanged += 1
    return report
