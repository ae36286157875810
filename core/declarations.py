"""Use cases of the intervenant's declaration: every answer validated and saved at once (a draft).

Each function takes the état de frais (already checked to belong to the caller, see
``core.missions.efm_of_intervenant``) and an ``actor`` string for the audit log.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core import audit, outbox, prechecks
from core.errors import IllegalTransition, InvalidInput, NotFound
from core.french import format_at, format_datetime
from core.missions import has_started, mission_window
from core.models import EtatDeFrais, MissionType, Trip, utcnow
from core.parsing import MAX_COUNT, MAX_DURATION_MINUTES, choice_words
from core.statuses import EDITABLE, Part, PartStatus, next_status

MAX_NIGHTS = 31
MAX_MEALS = 62
MAX_CITY_LENGTH = 120
MAX_TRIP_KM = 3000
MIN_FISCAL_HP, MAX_FISCAL_HP = 1, 50
FISCAL_HP_CHOICES = tuple(range(MIN_FISCAL_HP, 11))  # the usual powers, offered as shortcuts (all accepted)
MAX_YEARLY_KM = 200_000
NIGHT_UNITS = ("nuit", "nuits", "nuitée", "nuitées")  # words that may follow a typed count ("2 nuits")
MEAL_UNITS = ("repas",)
HP_UNITS = ("cv", "ch", "chevaux")
NIGHT_EXAMPLE, MEAL_EXAMPLE, ADMIN_MEAL_EXAMPLE, HP_EXAMPLE = "1", "2", "1", "5"  # shown when a typed count is refused
YEARLY_KM_EXAMPLE = "1500"
CITY_EXAMPLE = "ST LO"
CITY_PUNCTUATION = frozenset("-'’.")
READ_ONLY = "Ce dossier a été transmis à la DEC : il ne peut plus être modifié. Contactez la DEC si besoin."
TRIP_MODES = {
    "transport_public": "Train, car ou transport en commun",
    "voiture": "Véhicule personnel",
    "taxi": "Taxi",
    "autre": "Autre (covoiturage, avion…)",
}
# Words people type for each mode (without accents, lower case): any of them in the answer names the mode.
TRIP_MODE_WORDS = {
    "transport_public": ("train", "tgv", "ter", "intercites", "sncf", "car", "bus", "autocar", "tram", "tramway",
                         "metro", "rer", "transport", "transports", "commun"),
    "voiture": ("voiture", "vehicule", "auto", "automobile", "perso", "personnel", "personnelle", "moto"),
    "taxi": ("taxi", "vtc", "uber"),
    "autre": ("autre", "covoiturage", "avion", "blablacar", "velo", "pied", "bateau", "ferry"),
}  # fmt: skip


def parse_trip_mode(text: str) -> str:
    """The trip mode an answer names (« en voiture », « TER », « covoiturage »); refused when it names none or
    several, with the choices."""
    words = set(choice_words(text))
    named = [mode for mode, known in TRIP_MODE_WORDS.items() if words & set(known)]
    if len(named) > 1:
        raise InvalidInput(
            "Un trajet a un seul moyen de transport : si vous en avez pris plusieurs (la voiture puis le train), "
            "déclarez un trajet pour chacun."
        )
    if not named:
        choices = " ; ".join(TRIP_MODES.values())
        raise InvalidInput(f"Moyen de transport non reconnu. Touchez un bouton ou écrivez l'un de ceux-ci : {choices}.")
    return named[0]


_EFM_TABLE = cast(Table, EtatDeFrais.__table__)
_UPDATE_EFM = _EFM_TABLE.update().where(_EFM_TABLE.c.id == bindparam("efm_id"))  # built once; the values per call


def _snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def _save(session: Session, efm: EtatDeFrais, actor: str, action: str, **values: Any) -> None:
    """Set fields on a draft, with an audit entry of what changed: one UPDATE of those columns, the loaded
    état de frais kept in step (several times cheaper than the ORM's flush of a changed object)."""
    require_editable(efm)
    before = _snapshot(efm, list(values))
    session.connection().execute(_UPDATE_EFM, {"efm_id": efm.id, **values})
    for field, value in values.items():
        set_committed_value(efm, field, value)
    audit.record(session, actor, "etat_de_frais", efm.id, action, before, values)


def part_status(efm: EtatDeFrais, part: Part) -> PartStatus:
    return PartStatus(efm.pay_status if part is Part.PAY else efm.travel_status)


def require_editable(efm: EtatDeFrais) -> None:
    """Refuse changes once the intervenant has validated (unless the DEC asked for more)."""
    statuses = [part_status(efm, p) for p in Part if part_status(efm, p) is not PartStatus.NO_COSTS]
    if statuses and not all(s in EDITABLE for s in statuses):
        raise IllegalTransition(READ_ONLY)


def apply_transition(
    session: Session, efm: EtatDeFrais, part: Part, action: str, actor: str, reason: str = ""
) -> PartStatus:
    """Move one part through the state machine (the only place statuses change), with an audit entry."""
    current = part_status(efm, part)
    attr = "pay_status" if part is Part.PAY else "travel_status"
    before_cancel = getattr(efm, f"{attr}_before_cancel")
    target = next_status(current, action, PartStatus(before_cancel) if before_cancel else None)
    if action == "cancel":
        setattr(efm, f"{attr}_before_cancel", current)
    elif action == "restore":
        setattr(efm, f"{attr}_before_cancel", None)
    setattr(efm, attr, target)
    audit.record(
        session,
        actor,
        "etat_de_frais",
        efm.id,
        f"{part.value}:{action}",
        {attr: current.value},
        {attr: target.value, "reason": reason} if reason else {attr: target.value},
    )
    return target


def active_parts(efm: EtatDeFrais) -> list[Part]:
    return [p for p in Part if part_status(efm, p) is not PartStatus.NO_COSTS]


def set_service_done(session: Session, efm: EtatDeFrais, done: bool, actor: str) -> None:
    """The intervenant says whether the mission was done (done: once it has begun); both parts follow."""
    require_editable(efm)
    mission = efm.convocation.mission
    if done and not has_started(mission):
        raise InvalidInput(
            f"La mission n° {mission.number} commence le {format_at(mission.start_at)} : "
            "vous pourrez la déclarer effectuée à partir de ce moment."
        )
    action = "declare_done" if done else "declare_not_done"
    for part in active_parts(efm):
        current = part_status(efm, part)
        if (done and current is PartStatus.DONE) or (not done and current is PartStatus.NOT_DONE):
            continue
        if done and current is PartStatus.INFO_REQUESTED:
            continue  # stays open for the requested completion
        apply_transition(session, efm, part, action, actor)
    _save(session, efm, actor, "service_done", service_done=done)


def quantity_field(efm: EtatDeFrais) -> str | None:
    """The one quantity this mission type asks for: copies, candidates, practical_minutes or None."""
    return MissionType(efm.convocation.mission.mission_type).quantity_field


def set_quantity(session: Session, efm: EtatDeFrais, value: int, actor: str) -> None:
    """Copies corrected, candidates examined or practical minutes, as the mission type requires."""
    field = quantity_field(efm)
    if field is None:
        raise InvalidInput("Cette mission ne demande pas de quantité.")
    limit = MAX_DURATION_MINUTES if field == "practical_minutes" else MAX_COUNT
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > limit:
        raise InvalidInput(f"Valeur hors limites (0 à {limit}).")
    _save(session, efm, actor, "quantity", **{field: value})


def _check_in_window(efm: EtatDeFrais, moment: datetime, what: str) -> None:
    start, end = mission_window(efm.convocation.mission)
    if not start <= moment <= end:
        raise InvalidInput(
            f"{what} ({format_datetime(moment)}) est en dehors des dates de la mission : "
            f"indiquez une date et une heure entre le {format_datetime(start)} et le {format_datetime(end)}."
        )


def _check_after(later: datetime, earlier: datetime, what: str, reference: str) -> None:
    if later <= earlier:
        raise InvalidInput(
            f"{what} ({format_datetime(later)}) doit être après {reference} ({format_datetime(earlier)})."
        )


# ---- partial checks: one answer of a step that takes several (nothing saved) ----------------------


def check_departure(efm: EtatDeFrais, departure_at: datetime) -> None:
    """The departure from the residence alone (before the return is asked)."""
    _check_in_window(efm, departure_at, "Le départ")


def check_times(efm: EtatDeFrais, departure_at: datetime, return_at: datetime) -> None:
    """Departure and return together: both within the mission's dates, the return after the departure."""
    check_departure(efm, departure_at)
    _check_in_window(efm, return_at, "Le retour")
    _check_after(return_at, departure_at, "Le retour", "le départ")


def check_trip_departure(efm: EtatDeFrais, depart_at: datetime) -> None:
    """A trip's first answer: its departure date and time."""
    _check_in_window(efm, depart_at, "Le départ du trajet")


def check_city(name: str) -> str:
    """A city as typed, normalised (upper case, single spaces, emoji and other symbols dropped: only letters,
    digits, hyphens, apostrophes and dots are kept); it must contain a letter."""
    kept = "".join(c if c in CITY_PUNCTUATION or unicodedata.category(c)[0] in "LNM" else " " for c in name)
    city = " ".join(kept.split()).upper()
    if not city:
        raise InvalidInput(f"Indiquez le nom de la ville. Exemple : {CITY_EXAMPLE}")
    if len(city) > MAX_CITY_LENGTH:
        raise InvalidInput(f"Nom de ville trop long ({MAX_CITY_LENGTH} caractères au plus). Exemple : {CITY_EXAMPLE}")
    if not any(c.isalpha() for c in city):
        raise InvalidInput(f"Nom de ville invalide : il doit contenir des lettres. Exemple : {CITY_EXAMPLE}")
    return city


def check_trip_arrival(efm: EtatDeFrais, depart_at: datetime, arrive_at: datetime) -> None:
    """A trip's first leg once the arrival time is typed: the arrival after the departure, both in the dates."""
    check_trip_departure(efm, depart_at)
    _check_after(arrive_at, depart_at, "L'arrivée", "le départ")
    _check_in_window(efm, arrive_at, "L'arrivée du trajet")


def check_distance(distance_km: int) -> None:
    if not 0 <= distance_km <= MAX_TRIP_KM:
        raise InvalidInput(f"Distance invalide (0 à {MAX_TRIP_KM} km). Exemple : 62")


def check_nights(nights: int) -> None:
    """A number of hotel nights (before the lodging amount is asked)."""
    if not 0 <= nights <= MAX_NIGHTS:
        raise InvalidInput(f"Nombre de nuits invalide (0 à {MAX_NIGHTS}). Exemple attendu : 2")


def check_meals(meals: int) -> None:
    """A number of meals (before the half-price ones are asked)."""
    if not 0 <= meals <= MAX_MEALS:
        raise InvalidInput(f"Nombre de repas invalide (0 à {MAX_MEALS}). Exemple attendu : 2")


def set_times(session: Session, efm: EtatDeFrais, departure_at: datetime, return_at: datetime, actor: str) -> None:
    """Departure from and return to the residence; the return must follow the departure."""
    check_times(efm, departure_at, return_at)
    _save(session, efm, actor, "times", departure_at=departure_at, return_at=return_at)


def _check_trip(
    efm: EtatDeFrais,
    depart_at: datetime,
    depart_city: str,
    arrive_at: datetime,
    arrive_city: str,
    mode: str,
    distance_km: int,
) -> tuple[str, str]:
    dc, ac = check_city(depart_city), check_city(arrive_city)
    check_trip_arrival(efm, depart_at, arrive_at)
    if mode not in TRIP_MODES:
        raise InvalidInput("Mode de transport inconnu.")
    check_distance(distance_km)
    return dc, ac


def add_trip(
    session: Session,
    efm: EtatDeFrais,
    depart_at: datetime,
    depart_city: str,
    arrive_at: datetime,
    arrive_city: str,
    actor: str,
    mode: str = "transport_public",
    distance_km: int = 0,
) -> Trip:
    """Add one trip line (many per mission)."""
    require_editable(efm)
    dc, ac = _check_trip(efm, depart_at, depart_city, arrive_at, arrive_city, mode, distance_km)
    trip = Trip(
        depart_at=depart_at, depart_city=dc, arrive_at=arrive_at, arrive_city=ac, mode=mode, distance_km=distance_km
    )
    efm.trips.append(trip)
    session.flush()
    audit.record(session, actor, "trip", trip.id, "trip_added", None, _trip_dict(trip))
    return trip


def _trip_dict(trip: Trip) -> dict[str, Any]:
    return _snapshot(trip, ["depart_at", "depart_city", "arrive_at", "arrive_city", "mode", "distance_km"])


def _own_trip(efm: EtatDeFrais, trip_id: int) -> Trip:
    for trip in efm.trips:
        if trip.id == trip_id:
            return trip
    raise NotFound("Trajet introuvable.")


def update_trip(session: Session, efm: EtatDeFrais, trip_id: int, actor: str, **changes: Any) -> Trip:
    """Change fields of one trip line; the whole line is checked again."""
    require_editable(efm)
    trip = _own_trip(efm, trip_id)
    values = _trip_dict(trip) | changes
    dc, ac = _check_trip(
        efm,
        values["depart_at"],
        values["depart_city"],
        values["arrive_at"],
        values["arrive_city"],
        values["mode"],
        values["distance_km"],
    )
    before = _trip_dict(trip)
    values |= {"depart_city": dc, "arrive_city": ac}
    for field, value in values.items():
        setattr(trip, field, value)
    audit.record(session, actor, "trip", trip.id, "trip_updated", before, _trip_dict(trip))
    session.flush()
    return trip


def remove_trip(session: Session, efm: EtatDeFrais, trip_id: int, actor: str) -> None:
    require_editable(efm)
    trip = _own_trip(efm, trip_id)
    audit.record(session, actor, "trip", trip.id, "trip_removed", _trip_dict(trip), None)
    efm.trips.remove(trip)
    session.flush()


def set_lodging(session: Session, efm: EtatDeFrais, nights: int, lodging_amount: Decimal | None, actor: str) -> None:
    """Hotel nights and their total cost (on receipts)."""
    check_nights(nights)
    if nights == 0:
        lodging_amount = None
    elif lodging_amount is None or lodging_amount <= 0:
        raise InvalidInput("Indiquez le montant total de l'hébergement (sur facture). Exemple : 89,00")
    _save(session, efm, actor, "lodging", nights=nights, lodging_amount=lodging_amount)


def set_meals(session: Session, efm: EtatDeFrais, meals: int, admin_meals: int, actor: str) -> None:
    """Meals taken at one's own expense, of which at an administrative restaurant (half rate)."""
    check_meals(meals)
    if not 0 <= admin_meals <= meals:
        raise InvalidInput("Les repas en restaurant administratif ne peuvent pas dépasser le nombre de repas.")
    _save(session, efm, actor, "meals", meals=meals, admin_meals=admin_meals)


def set_car(session: Session, efm: EtatDeFrais, fiscal_hp: int | None, yearly_km: int | None, actor: str) -> None:
    """The personal car's fiscal horsepower and the distance already driven this year on duty."""
    if fiscal_hp is not None and not MIN_FISCAL_HP <= fiscal_hp <= MAX_FISCAL_HP:
        raise InvalidInput(f"Puissance fiscale invalide ({MIN_FISCAL_HP} à {MAX_FISCAL_HP} CV). Exemple : 5")
    if yearly_km is not None and not 0 <= yearly_km <= MAX_YEARLY_KM:
        raise InvalidInput(f"Kilométrage annuel invalide (0 à {MAX_YEARLY_KM} km). Exemple : 1500")
    _save(session, efm, actor, "car", car_fiscal_hp=fiscal_hp, car_yearly_km=yearly_km)


def set_receipts_total(session: Session, efm: EtatDeFrais, amount: Decimal, actor: str) -> None:
    """The total of the receipts as the intervenant declares it (never overwritten by OCR)."""
    if amount < 0:
        raise InvalidInput("Le montant ne peut pas être négatif. Exemple : 45,80")
    _save(session, efm, actor, "receipts_total", receipts_total=amount)


def set_receipts_by_email(session: Session, efm: EtatDeFrais, by_email: bool, actor: str) -> None:
    _save(session, efm, actor, "receipts_by_email", receipts_by_email=by_email)


def dossier_number_for(efm: EtatDeFrais) -> str:
    """The dossier number: mission year and a stable, unique serial."""
    return f"{efm.convocation.mission.start_at.year}-{efm.id:06d}"


def submit(
    session: Session,
    efm: EtatDeFrais,
    actor: str,
    *,
    notify: bool = True,
    confirmed_warnings: Collection[str] | None = None,
) -> str:
    """The intervenant validates: a dossier number is given and the dossier goes to the DEC's queue.

    Every required step must be answered (``core.steps``) and what Imag'in refuses is refused (``core.checks``).
    ``confirmed_warnings``: the warning codes the intervenant confirmed (« Je confirme ») after seeing
    ``core.checks.check_before_submit``; any other warning then raises ``core.checks.NeedsConfirmation``. None
    (callers that do not show the warnings yet) skips that step. The intervenant is told in the chat, unless
    ``notify`` is False: the chat that submitted answers itself.
    """
    from core import checks
    from core.steps import require_complete  # the steps build on this module's checks

    require_editable(efm)
    require_complete(efm)
    errors = checks.blocking_problems(session, efm)
    flags = prechecks.compute_flags(session, efm, for_dec=True, blocking=errors)  # the same once submitted
    check = checks.check_before_submit(session, efm, flags, errors)
    if check.errors:
        raise InvalidInput("Validation impossible : " + " ".join(e.message for e in check.errors))
    if confirmed_warnings is not None and check.unconfirmed(confirmed_warnings):
        raise checks.NeedsConfirmation(check.unconfirmed(confirmed_warnings))
    for part in active_parts(efm):
        apply_transition(session, efm, part, "submit", actor)
    if efm.dossier_number is None:
        efm.dossier_number = dossier_number_for(efm)
    efm.submitted_at = utcnow()
    prechecks.store_flags(session, efm, flags)
    if notify:
        mission = efm.convocation.mission
        outbox.notify_intervenant(
            session,
            efm.convocation.intervenant,
            kind="dossier_submitted",
            subject=f"Imag'in : dossier n° {efm.dossier_number} enregistré",
            text=submitted_text(mission.number, efm.dossier_number),
            dedupe_key=f"submitted:{efm.id}:{efm.submitted_at.isoformat()}",
            email=False,
        )
    session.flush()
    return efm.dossier_number


def submitted_text(mission_number: str, dossier_number: str) -> str:
    """What the intervenant is told once the declaration is sent (one message, whatever the channel)."""
    return (
        f"📨 Votre état de frais pour la mission n° {mission_number} est envoyé à la DEC. "
        f"Numéro de dossier : {dossier_number}. La DEC va le vérifier ; vous serez prévenu de sa décision."
    )
