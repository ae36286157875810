"""What each receipt line justifies in a declaration: the one matching of receipts to trips, nights and meals.

Pure: facts in (the declaration, its trips, its receipt lines, the rules), a :class:`Justification` out. The
estimate counts what it says is paid, the pre-checks turn its findings into flags, and the chat, the e-mail
replies and the console show what each line justifies. What each kind pays is data (``receipt_kinds``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from core.french import format_amount, format_date, format_time
from core.rules import Rules, load_rules, meal_windows_covered, nights_covered

# Finding codes (also the pre-check flag codes)
JUSTIFIES_NOTHING = "receipt_justifies_nothing"
KIND_UNKNOWN = "receipt_kind_unknown"
TICKET_NO_TRIP = "ticket_matches_no_trip"
TRIP_NO_TICKET = "trip_without_ticket"
OUTSIDE_MISSION = "receipt_outside_mission"
MEAL_OUTSIDE_WINDOWS = "meal_receipt_outside_windows"
MEAL_RECEIPTS_MISSING = "meal_receipts_missing"
NIGHTS_MISMATCH = "hotel_nights_mismatch"

KIND_LABELS = {
    "train": "Billet de train",
    "coach": "Billet de car",
    "bus": "Bus, tram ou métro",
    "taxi": "Taxi",
    "fuel": "Carburant",
    "toll": "Péage",
    "parking": "Stationnement",
    "car_hire": "Location de voiture",
    "plane": "Billet d'avion",
    "lodging": "Hôtel (hébergement)",
    "meal": "Restaurant (repas)",
    "other": "Autre",
}
TICKETS = frozenset({"train", "coach", "bus", "plane"})  # dated by the travel date, bought beforehand
TICKETED_MODES = frozenset({"transport_public", "taxi", "autre"})  # trips that need a ticket or receipt


@dataclass(frozen=True)
class LineFacts:
    """One receipt line as the matching sees it."""

    receipt_id: int
    name: str
    kind: str | None
    amount: Decimal | None
    spent_on: date | None = None
    spent_at: time | None = None
    from_city: str | None = None
    to_city: str | None = None
    travel_date: date | None = None
    nights: int | None = None
    pending: bool = False  # the reading has not arrived yet


@dataclass(frozen=True)
class TripFacts:
    depart_at: datetime
    depart_city: str
    arrive_at: datetime
    arrive_city: str
    mode: str


@dataclass(frozen=True)
class DeclarationFacts:
    """What the matching needs of the declaration and its mission."""

    mission_date: date
    window: tuple[datetime, datetime]  # the mission's span, travel days included
    departure_at: datetime | None
    return_at: datetime | None
    trips: Sequence[TripFacts]
    nights: int  # claimed
    meals: int | None  # claimed; None: not answered (all owed)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str  # French
    receipt_id: int | None = None


@dataclass
class LineJustification:
    """What one line justifies, whether the estimate counts its amount, and what does not match."""

    receipt_id: int
    kind: str | None
    pays: str  # amount | nights | proof | nothing | unknown
    justifies: str = ""  # French
    counted: bool = False  # its amount is in the estimate (transport, lodging)
    problems: list[Finding] = field(default_factory=list)


@dataclass
class Justification:
    lines: list[LineJustification]
    findings: list[Finding]  # about the declaration as a whole (trips without ticket, missing meal receipts)
    transport_total: Decimal = Decimal("0.00")
    transport_count: int = 0
    lodging_total: Decimal = Decimal("0.00")
    lodging_count: int = 0
    meal_proofs: int = 0
    meal_receipts_required: bool = False

    def of(self, receipt_id: int) -> LineJustification | None:
        return next((j for j in self.lines if j.receipt_id == receipt_id), None)

    @property
    def every_finding(self) -> list[Finding]:
        return [p for j in self.lines for p in j.problems] + self.findings


def _city(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = "".join(c if c.isalnum() else " " for c in text).split()
    return " ".join("ST" if w == "SAINT" else "STE" if w == "SAINTE" else w for w in words)


def same_city(a: str, b: str) -> bool:
    """« Caen » and « CAEN GARE », « Saint-Lô » and « ST LO »: a station name begins with its city."""
    na, nb = _city(a), _city(b)
    return bool(na and nb) and (na == nb or na.startswith(nb + " ") or nb.startswith(na + " "))


def _trip_label(t: TripFacts) -> str:
    return f"trajet {t.depart_city} → {t.arrive_city} du {format_date(t.depart_at)}"


def _owed(facts: DeclarationFacts, rules: Rules) -> tuple[int, int]:
    """(meals paid, nights paid) as the estimate counts them."""
    if facts.departure_at is None or facts.return_at is None or facts.return_at < facts.departure_at:
        return 0, 0
    on = facts.mission_date
    meals_owed = meal_windows_covered(facts.departure_at, facts.return_at, rules, on=on)
    nights_owed = nights_covered(facts.departure_at, facts.return_at, rules, on=on)
    claimed = meals_owed if facts.meals is None else max(facts.meals, 0)
    return min(claimed, meals_owed), min(max(facts.nights, 0), nights_owed)


def _in_meal_window(facts: DeclarationFacts, line: LineFacts, rules: Rules) -> bool:
    day = line.spent_on
    if day is None:
        return True
    if facts.departure_at is not None and facts.return_at is not None:
        if not facts.departure_at.date() <= day <= facts.return_at.date():
            return False
    if line.spent_at is None:
        return True
    margin = timedelta(minutes=rules.in_force("meal_receipt_margin", facts.mission_date).value)
    windows = rules.meal_windows_at(facts.mission_date).value
    moment = datetime.combine(day, line.spent_at)
    for window in (windows.lunch, windows.dinner):
        start = datetime.combine(day, window.start) - margin
        end = datetime.combine(day, window.end) + margin
        if start <= moment <= end:
            return True
    return False


def _dated(line: LineFacts) -> date | None:
    """The day the expense was made: a ticket's travel date, else the receipt's date (not a ticket's purchase)."""
    if line.travel_date is not None:
        return line.travel_date
    return None if line.kind in TICKETS else line.spent_on


def justify(facts: DeclarationFacts, lines: Sequence[LineFacts], rules: Rules | None = None) -> Justification:  # noqa: C901 - one pass over the kinds, kept together so the rules read in one place
    """Match every line to what it justifies; say what is paid and what does not match."""
    rules = rules or load_rules()
    kinds = rules.in_force("receipt_kinds", facts.mission_date).value
    meals_paid, nights_paid = _owed(facts, rules)
    start, end = facts.window
    out = Justification([], [])
    ticketed: set[int] = set()
    lodging_lines: list[LineFacts] = []
    for line in lines:
        name = f"« {line.name} »"
        if line.kind is None or line.kind not in kinds:
            j = LineJustification(line.receipt_id, None, "unknown", "nature à confirmer")
            if not line.pending:
                j.problems.append(
                    Finding(
                        KIND_UNKNOWN,
                        f"{name} : nature du justificatif à confirmer (billet, hôtel, repas…) ; il n'est pas compté.",
                        line.receipt_id,
                    )
                )
            out.lines.append(j)
            continue
        rule = kinds[line.kind]
        j = LineJustification(line.receipt_id, line.kind, rule.pays)
        out.lines.append(j)
        what = f"{name} ({KIND_LABELS[line.kind].lower()})"
        day = _dated(line)
        outside = day is not None and not start.date() <= day <= end.date()
        bought_after = line.kind in TICKETS and line.spent_on is not None and line.spent_on > end.date()
        shown = day if outside else line.spent_on if bought_after else None
        if shown is not None:
            j.problems.append(
                Finding(
                    OUTSIDE_MISSION,
                    f"{what} est daté du {format_date(shown)}, en dehors des dates de la mission "
                    f"(du {format_date(start)} au {format_date(end)}).",
                    line.receipt_id,
                )
            )
        if rule.pays == "nothing":
            j.justifies = "rien de déclaré"
            j.problems.append(
                Finding(
                    JUSTIFIES_NOTHING,
                    f"{what} ne justifie aucune dépense déclarée : il n'est pas payé.",
                    line.receipt_id,
                )
            )
        elif rule.pays == "amount":
            _match_transport(facts, line, rule.trip_modes, j, what, outside, ticketed, out)
        elif rule.pays == "nights":
            if nights_paid == 0:
                j.justifies = "aucune nuit déclarée"
                j.problems.append(
                    Finding(
                        JUSTIFIES_NOTHING,
                        f"{what} : aucune nuit d'hôtel n'est déclarée (ou due pour ces horaires) ; il n'est pas payé.",
                        line.receipt_id,
                    )
                )
            elif line.amount is not None and not outside:
                j.counted, j.justifies = True, "nuit(s) d'hôtel déclarée(s)"
                out.lodging_total += line.amount
                out.lodging_count += 1
                lodging_lines.append(line)
            else:
                j.justifies = (
                    "nuit(s) d'hôtel déclarée(s), montant à confirmer" if not outside else "rien (hors mission)"
                )
        else:  # proof of a meal
            if meals_paid == 0:
                j.justifies = "aucun repas déclaré"
                j.problems.append(
                    Finding(
                        JUSTIFIES_NOTHING,
                        f"{what} : aucun repas n'est déclaré (ou dû pour ces horaires) ; il ne justifie rien.",
                        line.receipt_id,
                    )
                )
            elif not _in_meal_window(facts, line, rules):
                when = format_date(line.spent_on) if line.spent_on else ""
                when += f" à {format_time(line.spent_at)}" if line.spent_at else ""
                j.justifies = "repas hors des plages horaires"
                j.problems.append(
                    Finding(
                        MEAL_OUTSIDE_WINDOWS,
                        f"{what} du {when} ne tombe dans aucune plage de repas de la mission "
                        "(déjeuner ou dîner entre le départ et le retour).",
                        line.receipt_id,
                    )
                )
            else:
                out.meal_proofs += 1
                j.justifies = "preuve d'un repas (payé au forfait, le ticket n'est pas remboursé)"
    _dossier_findings(facts, rules, out, ticketed, lodging_lines, meals_paid, nights_paid, bool(lines))
    return out


def _match_transport(
    facts: DeclarationFacts,
    line: LineFacts,
    modes: Sequence[str],
    j: LineJustification,
    what: str,
    outside: bool,
    ticketed: set[int],
    out: Justification,
) -> None:
    compatible = [i for i, t in enumerate(facts.trips) if t.mode in modes]
    if not compatible:
        by_car = any(t.mode == "voiture" for t in facts.trips)
        why = (
            " : le carburant d'un véhicule personnel est compris dans les indemnités kilométriques"
            if line.kind == "fuel" and by_car
            else " : aucun trajet de ce type n'est déclaré"
        )
        j.justifies = "aucun trajet déclaré"
        j.problems.append(Finding(JUSTIFIES_NOTHING, f"{what}{why} ; il n'est pas payé.", line.receipt_id))
        return
    day = _dated(line)
    if day is not None:
        same_day = [i for i in compatible if day in (facts.trips[i].depart_at.date(), facts.trips[i].arrive_at.date())]
        if not same_day:
            j.justifies = "aucun trajet ce jour-là"
            if not outside:
                days = ", ".join(sorted({format_date(facts.trips[i].depart_at) for i in compatible}))
                j.problems.append(
                    Finding(
                        TICKET_NO_TRIP,
                        f"{what} est daté du {format_date(day)} : aucun trajet déclaré ce jour-là "
                        f"(trajets du {days}) ; il n'est pas payé.",
                        line.receipt_id,
                    )
                )
            return
        compatible = same_day
    matched = compatible
    if line.from_city and line.to_city:
        matched = [
            i
            for i in compatible
            if same_city(line.from_city, facts.trips[i].depart_city)
            and same_city(line.to_city, facts.trips[i].arrive_city)
        ]
        if not matched:
            j.problems.append(
                Finding(
                    TICKET_NO_TRIP,
                    f"{what} va de {line.from_city} à {line.to_city} : aucun trajet déclaré ne fait ce parcours.",
                    line.receipt_id,
                )
            )
            matched = compatible
    trip = next((i for i in matched if i not in ticketed), matched[0])
    ticketed.add(trip)
    j.justifies = _trip_label(facts.trips[trip])
    if line.amount is not None and not outside:
        j.counted = True
        out.transport_total += line.amount
        out.transport_count += 1


def _dossier_findings(
    facts: DeclarationFacts,
    rules: Rules,
    out: Justification,
    ticketed: set[int],
    lodging: list[LineFacts],
    meals_paid: int,
    nights_paid: int,
    any_line: bool,
) -> None:
    for i, trip in enumerate(facts.trips):  # nothing received yet: the missing receipts flag says so
        if any_line and trip.mode in TICKETED_MODES and i not in ticketed:
            out.findings.append(Finding(TRIP_NO_TICKET, f"Aucun billet ni reçu ne correspond au {_trip_label(trip)}."))
    if nights_paid and lodging:
        explicit = [ln.nights for ln in lodging]
        if all(n is not None for n in explicit) and sum(n or 0 for n in explicit) != nights_paid:
            out.findings.append(
                Finding(
                    NIGHTS_MISMATCH,
                    f"Les factures d'hôtel couvrent {sum(n or 0 for n in explicit)} nuit(s), "
                    f"{nights_paid} nuit(s) sont déclarées.",
                )
            )
        elif len(lodging) > nights_paid:
            out.findings.append(
                Finding(
                    NIGHTS_MISMATCH,
                    f"{len(lodging)} factures d'hôtel pour {nights_paid} nuit(s) déclarée(s).",
                )
            )
    required = rules.in_force("meal_receipt_required", facts.mission_date)
    out.meal_receipts_required = bool(required.value)
    if required.value and meals_paid > out.meal_proofs:
        missing = meals_paid - out.meal_proofs
        out.findings.append(
            Finding(
                MEAL_RECEIPTS_MISSING,
                f"{meals_paid} repas déclaré(s), {out.meal_proofs} justificatif(s) de repas : il en manque {missing} "
                f"(exigés pour les missions de cette période — {required.source}).",
            )
        )


def describe(j: LineJustification, amount: Decimal | None) -> str:
    """« Hôtel (hébergement), 95,00 € : nuit(s) d'hôtel déclarée(s) », for a list of lines."""
    kind = KIND_LABELS.get(j.kind or "", "Nature à confirmer")
    shown = format_amount(amount) if amount is not None else "montant illisible"
    return f"{kind}, {shown}" + (f" : {j.justifies}" if j.justifies else "")
