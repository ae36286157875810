"""Pre-check flags shown to the DEC (and in the intervenant's recap), derived in one place.

Flags are recomputed from the data every time something that matters changes; they never change
what was declared. Messages are plain French and show both values where there are two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core import checks, receipt_lines
from core import justification as jst
from core.french import format_amount, format_at, format_datetime, format_time
from core.models import EtatDeFrais, Flag, Receipt
from core.rules import TimeWindow, load_rules, meal_windows_covered, nights_covered
from core.settings import get_settings

SERVICE_FAIT_MISSING = "service_fait_missing"
SERVICE_FAIT_REFUSED = "service_fait_refused"
RECEIPTS_MISSING = "receipts_missing"
TOTAL_MATCHES = "receipts_total_matches"
TOTAL_DIFFERS = "receipts_total_differs"
RECEIPT_UNREADABLE = "receipt_unreadable"
RECEIPT_PENDING = "receipt_pending"
DUPLICATE_RECEIPT = "duplicate_receipt"  # also in another dossier of the same person
DUPLICATE_OTHER_PERSON = "duplicate_receipt_other_person"  # also sent by someone else: for the DEC only
NOT_FIRST_MISSION = checks.NOT_FIRST_MISSION
QUANTITY_ABOVE = "quantity_above_convocation"
TIMES_OUTSIDE = "times_outside_mission"
LODGING_NO_RECEIPT = "lodging_without_receipt"
TOTAL_TYPED = "receipts_total_typed"
TIMES_OVERLAP = checks.TIMES_OVERLAP
QUANTITY_IMPOSSIBLE = checks.QUANTITY_IMPOSSIBLE
MEALS_ABOVE_TIMES = "meals_above_times"  # info: more meals declared than the times cover (fewer are counted)
NIGHTS_ABOVE_TIMES = "nights_above_times"
NO_TRIP_BACK = "no_trip_back"  # info: the trips leave the residence and none comes back to it

FLAG_LABELS = {
    SERVICE_FAIT_MISSING: "Service fait non attesté",
    SERVICE_FAIT_REFUSED: "Service fait refusé",
    RECEIPTS_MISSING: "Justificatifs manquants",
    TOTAL_MATCHES: "Total des justificatifs conforme",
    TOTAL_DIFFERS: "Total des justificatifs différent",
    RECEIPT_UNREADABLE: "Justificatif illisible",
    RECEIPT_PENDING: "Lecture en cours",
    DUPLICATE_RECEIPT: "Justificatif en double",
    DUPLICATE_OTHER_PERSON: "Justificatif envoyé aussi par un autre intervenant",
    NOT_FIRST_MISSION: "Invalidable : trajets sur la 2e mission du jour",
    QUANTITY_ABOVE: "Quantité supérieure à la convocation",
    TIMES_OUTSIDE: "Horaires hors de la mission",
    LODGING_NO_RECEIPT: "Hébergement sans justificatif",
    TOTAL_TYPED: "Total saisi à la main",
    TIMES_OVERLAP: "Horaires chevauchant une autre mission",
    QUANTITY_IMPOSSIBLE: "Quantité impossible dans le temps de la mission",
    MEALS_ABOVE_TIMES: "Repas déclarés au-delà des horaires",
    NIGHTS_ABOVE_TIMES: "Nuits déclarées au-delà des horaires",
    NO_TRIP_BACK: "Pas de trajet de retour",
    jst.JUSTIFIES_NOTHING: "Justificatif sans dépense déclarée",
    jst.KIND_UNKNOWN: "Nature du justificatif à confirmer",
    jst.TICKET_NO_TRIP: "Billet sans trajet correspondant",
    jst.TRIP_NO_TICKET: "Trajet sans billet",
    jst.OUTSIDE_MISSION: "Justificatif hors des dates de la mission",
    jst.MEAL_OUTSIDE_WINDOWS: "Repas hors des plages horaires",
    jst.MEAL_RECEIPTS_MISSING: "Justificatifs de repas manquants",
    jst.NIGHTS_MISMATCH: "Nuits d'hôtel différentes des nuits déclarées",
}
# Flags about other people: kept for the DEC, never shown to the intervenant (recap, chat, mail).
DEC_ONLY_FLAGS = frozenset({DUPLICATE_OTHER_PERSON})
MIN_CONFIDENCE = 0.5
PHASH_MAX_DISTANCE = 6  # bits of 64: "the same photo taken again"
_RECEIPTS = select(Receipt).where(Receipt.efm_id == bindparam("efm_id")).order_by(Receipt.id)  # built once


@dataclass(frozen=True)
class FlagData:
    code: str
    message: str
    severity: str = "warning"
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return FLAG_LABELS[self.code]


def _phash_distance(a: str, b: str) -> int:
    try:
        return bin(int(a, 16) ^ int(b, 16)).count("1")
    except ValueError:
        return 64


def _duplicates(session: Session, efm: EtatDeFrais, receipts: list[Receipt]) -> list[FlagData]:
    """The same file (or photo) in another dossier. Of the person's own dossiers the flag names the dossier
    (the intervenant may see it); of someone else's it is for the DEC only (see ``DEC_ONLY_FLAGS``)."""
    owner = efm.convocation.intervenant_id
    flags = []
    for r in receipts:
        same_file = session.scalars(
            select(Receipt).where(Receipt.sha256 == r.sha256, Receipt.efm_id != efm.id).limit(5)
        ).all()
        similar: list[Receipt] = []
        if r.phash:
            candidates = session.scalars(
                select(Receipt)
                .where(Receipt.phash.is_not(None), Receipt.efm_id != efm.id, Receipt.sha256 != r.sha256)
                .limit(5000)
            )
            similar = [c for c in candidates if _phash_distance(c.phash or "", r.phash) <= PHASH_MAX_DISTANCE][:5]
        for other, how in [(o, "le même fichier") for o in same_file] + [(o, "la même photo") for o in similar]:
            ref = other.efm.dossier_number or f"mission {other.efm.convocation.mission.number}"
            data = {"receipt_id": r.id, "other_receipt_id": other.id, "other_efm_id": other.efm_id}
            if other.efm.convocation.intervenant_id == owner:
                flags.append(
                    FlagData(
                        DUPLICATE_RECEIPT,
                        f"« {r.original_name} » est {how} qu'un justificatif déjà envoyé pour votre dossier {ref}.",
                        data=data,
                    )
                )
            else:
                sender = other.efm.convocation.intervenant
                flags.append(
                    FlagData(
                        DUPLICATE_OTHER_PERSON,
                        f"« {r.original_name} » est {how} qu'un justificatif envoyé par {sender.display_name} "
                        f"(n° {sender.numero}, dossier {ref}).",
                        data=data,
                    )
                )
    return flags


def _receipt_flags(session: Session, efm: EtatDeFrais, justification: jst.Justification | None) -> list[FlagData]:
    receipts = list(session.scalars(_RECEIPTS, {"efm_id": efm.id}))
    flags: list[FlagData] = []
    declared = efm.receipts_total
    if declared is not None and declared > 0 and not receipts:
        how = " (envoi annoncé par e-mail)" if efm.receipts_by_email else ""
        flags.append(
            FlagData(
                RECEIPTS_MISSING,
                f"Total déclaré {format_amount(declared)} mais aucun justificatif reçu{how}.",
                data={"declared": str(declared)},
            )
        )
    lines = {r.id: receipt_lines.line_of(session, r) for r in receipts}
    pending = [r for r in receipts if r.ocr_status == "pending" and lines[r.id].amount_confirmed is None]
    unreadable = [
        r
        for r in receipts
        if r.ocr_status != "pending"
        and lines[r.id].amount_confirmed is None
        and (r.ocr_total is None or (r.ocr_confidence or 0) < MIN_CONFIDENCE)
    ]
    for r in unreadable:
        why = r.ocr_error or "total lu avec une confiance trop faible"
        flags.append(FlagData(RECEIPT_UNREADABLE, f"« {r.original_name} » : {why}.", data={"receipt_id": r.id}))
    if pending:
        flags.append(FlagData(RECEIPT_PENDING, f"{len(pending)} justificatif(s) en cours de lecture.", "info"))
    known = sum((lines[r.id].amount or Decimal(0) for r in receipts if r not in unreadable), Decimal("0.00"))
    if receipts and declared is not None and not pending and not unreadable:
        gap = known - declared
        data = {"declared": str(declared), "read": str(known), "difference": str(gap)}
        if abs(gap) <= get_settings().receipt_tolerance:
            flags.append(
                FlagData(
                    TOTAL_MATCHES,
                    f"Total lu {format_amount(known)} = total déclaré {format_amount(declared)}.",
                    "info",
                    data,
                )
            )
        else:
            flags.append(
                FlagData(
                    TOTAL_DIFFERS,
                    f"Le total lu sur les justificatifs ({format_amount(known)}) "
                    f"diffère du total déclaré ({format_amount(declared)}) de "
                    f"{format_amount(abs(gap))}.",
                    data=data,
                )
            )
    elif unreadable and declared is not None and abs(known - declared) > get_settings().receipt_tolerance:
        names = ", ".join(f"« {r.original_name} »" for r in unreadable)
        flags.append(
            FlagData(
                TOTAL_TYPED,
                f"Total déclaré {format_amount(declared)} saisi à la main ; les justificatifs lus font "
                f"{format_amount(known)} : la différence de {format_amount(abs(declared - known))} "
                f"repose sur {names}, illisible(s).",
                data={"declared": str(declared), "read": str(known)},
            )
        )
    if receipts or efm.meals:
        judged = receipt_lines.justification_of(session, efm) if justification is None else justification
        for finding in judged.every_finding if receipts else judged.findings:
            about: dict[str, Any] = {} if finding.receipt_id is None else {"receipt_id": finding.receipt_id}
            flags.append(FlagData(finding.code, finding.message, data=about))
    flags += _duplicates(session, efm, receipts)
    no_hotel = not receipts or (
        all(ln.kind is not None for ln in lines.values()) and not any(ln.kind == "lodging" for ln in lines.values())
    )
    if efm.nights and no_hotel and not efm.receipts_by_email:
        flags.append(FlagData(LODGING_NO_RECEIPT, f"{efm.nights} nuit(s) déclarée(s) sans facture d'hôtel."))
    return flags


def _declaration_flags(efm: EtatDeFrais) -> list[FlagData]:
    flags = []
    mission = efm.convocation.mission
    expected = efm.convocation.expected_quantity
    field_name = {"correction": "copies", "oral": "candidates", "pratique": "practical_minutes"}.get(
        str(mission.mission_type)
    )
    if field_name and expected is not None:
        value = getattr(efm, field_name)
        declared = value / 60 if field_name == "practical_minutes" and value is not None else value
        if declared is not None and declared > expected:
            flags.append(
                FlagData(
                    QUANTITY_ABOVE,
                    f"Quantité déclarée {declared:g}, convocation : {expected}.",
                    data={"declared": declared, "expected": expected},
                )
            )
    if efm.departure_at and efm.return_at:
        if efm.departure_at > mission.start_at:
            flags.append(
                FlagData(
                    TIMES_OUTSIDE,
                    f"Départ le {format_at(efm.departure_at)}, après le début "
                    f"de la mission ({format_at(mission.start_at)}).",
                )
            )
        flags += _above_times(efm)
        flags += _trip_back(efm)
        for t in efm.trips:
            if t.depart_at < efm.departure_at or t.arrive_at > efm.return_at:
                flags.append(
                    FlagData(
                        TIMES_OUTSIDE,
                        f"Trajet {t.depart_city} → {t.arrive_city} du "
                        f"{format_datetime(t.depart_at)} hors des horaires de départ et de retour.",
                    )
                )
    return flags


def _span(window: TimeWindow) -> str:
    return f"{format_time(window.start)}-{format_time(window.end)}"


def _above_times(efm: EtatDeFrais) -> list[FlagData]:
    """More meals or nights declared than the departure and return times cover: the estimate counts only those
    covered (``core.rules``), and says why (an information, nothing to confirm)."""
    assert efm.departure_at is not None and efm.return_at is not None
    if efm.return_at <= efm.departure_at:
        return []
    rules, on = load_rules(), efm.convocation.mission.start_at.date()
    times = f"départ le {format_at(efm.departure_at)}, retour le {format_at(efm.return_at)}"
    flags = []
    meals = meal_windows_covered(efm.departure_at, efm.return_at, rules, on=on)
    if efm.meals is not None and efm.meals > meals:
        windows = rules.meal_windows_at(on).value
        flags.append(
            FlagData(
                MEALS_ABOVE_TIMES,
                f"{efm.meals} repas déclaré(s), mais vos horaires ({times}) couvrent {meals} plage(s) de repas "
                f"entière(s) (déjeuner {_span(windows.lunch)}, dîner {_span(windows.dinner)}) : "
                f"{meals} repas compté(s).",
                "info",
                {"declared": efm.meals, "covered": meals},
            )
        )
    nights = nights_covered(efm.departure_at, efm.return_at, rules, on=on)
    if (efm.nights or 0) > nights:
        flags.append(
            FlagData(
                NIGHTS_ABOVE_TIMES,
                f"{efm.nights} nuit(s) déclarée(s), mais vos horaires ({times}) couvrent {nights} nuit(s) "
                f"({_span(rules.night_window_at(on).value)}) : {nights} nuit(s) comptée(s).",
                "info",
                {"declared": efm.nights, "covered": nights},
            )
        )
    return flags


def _trip_back(efm: EtatDeFrais) -> list[FlagData]:
    """The trips leave the residence and none comes back to it: the return trip may have been forgotten (an
    information: it may have cost nothing)."""
    home = efm.convocation.intervenant.residence_commune
    trips = sorted(efm.trips, key=lambda t: t.depart_at)
    if not home or not trips or not jst.same_city(trips[0].depart_city, home):
        return []
    if any(jst.same_city(t.arrive_city, home) for t in trips):
        return []
    return [
        FlagData(
            NO_TRIP_BACK,
            f"Aucun trajet ne revient à {home} (votre résidence) : ajoutez le trajet du retour s'il vous a coûté "
            "quelque chose.",
            "info",
        )
    ]


def compute_flags(
    session: Session,
    efm: EtatDeFrais,
    *,
    for_dec: bool = False,
    blocking: list[checks.Problem] | None = None,
    justification: jst.Justification | None = None,
) -> list[FlagData]:
    """The pre-check findings for this dossier, from its current data: what its intervenant may read, or
    with ``for_dec`` every finding (``DEC_ONLY_FLAGS`` too: those speak of other people). ``blocking`` and
    ``justification``: ``checks.blocking_problems`` and ``receipt_lines.justification_of`` of this dossier,
    when already computed."""
    flags: list[FlagData] = []
    if efm.service_done:
        sf = efm.service_fait
        if sf is None:
            flags.append(
                FlagData(SERVICE_FAIT_MISSING, "Le chef de centre n'a pas encore attesté le service fait.", "blocking")
            )
        elif not sf.done:
            flags.append(
                FlagData(
                    SERVICE_FAIT_REFUSED, "Le chef de centre atteste que la mission n'a pas été effectuée.", "blocking"
                )
            )
    flags += _declaration_flags(efm)
    if blocking is None:
        blocking = checks.blocking_problems(session, efm)
    flags += [FlagData(p.code, p.message, "blocking") for p in blocking]
    flags += _receipt_flags(session, efm, justification)
    return flags if for_dec else for_intervenant(flags)


def for_intervenant(flags: list[FlagData]) -> list[FlagData]:
    """What the intervenant may read of ``flags`` (every finding but ``DEC_ONLY_FLAGS``)."""
    return [f for f in flags if f.code not in DEC_ONLY_FLAGS]


def refresh_flags(session: Session, efm: EtatDeFrais) -> list[FlagData]:
    """Recompute and store the flags of one dossier (every flag: stored flags are the DEC's)."""
    session.flush()
    return store_flags(session, efm, compute_flags(session, efm, for_dec=True))


def stored_flags(efm: EtatDeFrais) -> list[FlagData]:
    """The flags stored for this dossier (``store_flags``: at submission, then on every change), in their order
    (rows not flushed yet have no id: they are in the order stored)."""
    rows = sorted(efm.flags, key=lambda f: f.id or 0)
    return [FlagData(f.code, f.message, f.severity, f.data or {}) for f in rows]


def store_flags(session: Session, efm: EtatDeFrais, flags: list[FlagData]) -> list[FlagData]:
    """Store ``flags`` (``compute_flags(for_dec=True)`` of this dossier as it is) as its flags (``efm.flags`` then
    holds them, as stored, without reading them back)."""
    session.execute(delete(Flag).where(Flag.efm_id == efm.id))
    rows = [Flag(efm_id=efm.id, code=f.code, severity=f.severity, message=f.message, data=f.data) for f in flags]
    session.add_all(rows)
    set_committed_value(efm, "flags", rows)
    return flags
