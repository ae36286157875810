"""Rules that change by decree (config/rules.toml) and the estimate of what a mission pays.

``load_rules()`` reads and validates the rules file (cached, reloaded when the file changes);
``Rules.in_force(name, on)`` picks the version of a rule in force on a day (latest
``effective_from`` on or before it). ``estimate()`` is pure: an ``EstimateInput`` in, an
``Estimate`` with one line per paid item out, each line naming the text it comes from.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import config
from core.errors import DomainError, InvalidInput
from core.french import format_amount, format_date

CENT = Decimal("0.01")
MISSION_TYPES = ("correction", "oral", "pratique", "jury")
LODGING_ZONES = ("standard", "grande_ville", "paris")
RECEIPTS_SOURCE = "Frais réels sur justificatifs (décret n° 2006-781 du 3 juillet 2006)"
CATEGORY_LABELS = {
    "pay": "Rémunération",
    "meals": "Repas",
    "lodging": "Hébergement",
    "car": "Indemnités kilométriques",
    "transport": "Transport sur justificatifs",
}

V = TypeVar("V")


class RulesError(DomainError):
    """The rules file is missing or invalid, or no version of a rule is in force at a date."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeWindow(_Frozen):
    """A daily window [start, end]; an end at or before the start ends the next day."""

    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


class MealWindows(_Frozen):
    lunch: TimeWindow
    dinner: TimeWindow


class LodgingCaps(_Frozen):
    standard: Decimal = Field(gt=0)
    grande_ville: Decimal = Field(gt=0)
    paris: Decimal = Field(gt=0)
    rqth: Decimal = Field(gt=0)


class CarClass(_Frozen):
    max_cv: int | None = Field(default=None, gt=0)  # inclusive; None: every larger car
    rates: list[Decimal]


class CarRates(_Frozen):
    distance_bands_km: list[int]  # inclusive upper bounds of the yearly bands; the last band is open
    classes: list[CarClass] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> CarRates:
        bands = self.distance_bands_km
        if any(b <= 0 for b in bands) or bands != sorted(set(bands)):
            raise ValueError("distance_bands_km must be positive and strictly ascending")
        last, caps = self.classes[-1].max_cv, [c.max_cv for c in self.classes[:-1] if c.max_cv is not None]
        if last is not None or len(caps) != len(self.classes) - 1 or caps != sorted(set(caps)):
            raise ValueError("classes need ascending max_cv, and only the last one without max_cv")
        for c in self.classes:
            if len(c.rates) != len(bands) + 1 or any(r <= 0 for r in c.rates):
                raise ValueError(f"each class needs {len(bands) + 1} positive rates, one per distance band")
        return self

    def band_index(self, yearly_km: int | None) -> int:
        """The yearly distance band (0-based); the first band when the yearly distance is unknown."""
        if yearly_km is None:
            return 0
        return next(
            (i for i, upper in enumerate(self.distance_bands_km) if yearly_km <= upper),
            len(self.distance_bands_km),
        )

    def class_index(self, fiscal_hp: int) -> int:
        return next(i for i, c in enumerate(self.classes) if c.max_cv is None or fiscal_hp <= c.max_cv)

    def class_label(self, index: int) -> str:
        upper = self.classes[index].max_cv
        below = self.classes[index - 1].max_cv if index else None  # only the last class has no max_cv
        lower = below + 1 if below is not None else None
        if upper is None:
            return f"{lower} CV et plus" if lower is not None else "toutes puissances"
        if lower is None:
            return f"{upper} CV et moins"
        return f"{lower} CV" if lower == upper else f"{lower} à {upper} CV"

    def band_label(self, index: int) -> str:
        bands = self.distance_bands_km
        lower = bands[index - 1] + 1 if index else 0
        if index == len(bands):
            return f"plus de {_km(bands[-1])} km par an"
        return f"{_km(lower)} à {_km(bands[index])} km par an"


def _km(n: int) -> str:
    return f"{n:,}".replace(",", " ")


_GROUP_RE = re.compile(r"T[1-9]")


def _check_groups(value: dict[str, Decimal]) -> None:
    for group, rate in value.items():
        if not _GROUP_RE.fullmatch(group) or rate <= 0:
            raise ValueError(f"rate groups are T1..T9 with positive rates, got {group} = {rate}")


RECEIPT_PAYS = ("amount", "nights", "proof", "nothing")


class KindRule(_Frozen):
    """What one kind of receipt justifies: how it is paid and the trip modes it goes with."""

    pays: Literal["amount", "nights", "proof", "nothing"]
    trip_modes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _modes(self) -> KindRule:
        if (self.pays == "amount") != bool(self.trip_modes):
            raise ValueError("a receipt paid at its amount needs trip_modes, and only such a receipt")
        return self


class UnitTimes(_Frozen):
    """The least time one copy or one candidate takes, and the most working hours in one mission day."""

    copy_minutes: int = Field(gt=0)
    candidate_minutes: int = Field(gt=0)
    hours_per_day: int = Field(gt=0, le=24)


class RuleVersion(_Frozen, Generic[V]):
    """One version of a rule: its value, unit, first day in force and legal source."""

    value: V
    unit: str = Field(min_length=1)
    effective_from: date
    source: str = Field(min_length=1)


class Rules(_Frozen):
    """Every rule of the rules file, each as its list of versions (sorted by effective_from)."""

    meal_windows: list[RuleVersion[MealWindows]] = Field(min_length=1)
    night_window: list[RuleVersion[TimeWindow]] = Field(min_length=1)
    meal_rate: list[RuleVersion[Decimal]] = Field(min_length=1)
    admin_restaurant_factor: list[RuleVersion[Decimal]] = Field(min_length=1)
    lodging_cap: list[RuleVersion[LodgingCaps]] = Field(min_length=1)
    car_km_rate: list[RuleVersion[CarRates]] = Field(min_length=1)
    exam_copy_rate: list[RuleVersion[dict[str, Decimal]]] = Field(min_length=1)
    exam_hour_rate: list[RuleVersion[dict[str, Decimal]]] = Field(min_length=1)
    oral_minutes_per_candidate: list[RuleVersion[int]] = Field(min_length=1)
    receipt_kinds: list[RuleVersion[dict[str, KindRule]]] = Field(min_length=1)
    meal_receipt_required: list[RuleVersion[bool]] = Field(min_length=1)
    meal_receipt_margin: list[RuleVersion[int]] = Field(min_length=1)
    minimum_time_per_unit: list[RuleVersion[UnitTimes]] = Field(min_length=1)

    @field_validator("*", mode="after")
    @classmethod
    def _sorted_unique(cls, versions: list[RuleVersion[Any]]) -> list[RuleVersion[Any]]:
        versions = sorted(versions, key=lambda v: v.effective_from)
        days = [v.effective_from for v in versions]
        if len(set(days)) != len(days):
            raise ValueError("two versions share the same effective_from")
        return versions

    @field_validator("meal_rate", "admin_restaurant_factor", "oral_minutes_per_candidate", mode="after")
    @classmethod
    def _positive(cls, versions: list[RuleVersion[Any]]) -> list[RuleVersion[Any]]:
        if any(v.value <= 0 for v in versions):
            raise ValueError("the value must be positive")
        return versions

    @field_validator("exam_copy_rate", "exam_hour_rate", mode="after")
    @classmethod
    def _groups(cls, versions: list[RuleVersion[dict[str, Decimal]]]) -> list[RuleVersion[dict[str, Decimal]]]:
        for v in versions:
            _check_groups(v.value)
        return versions

    @field_validator("receipt_kinds", mode="after")
    @classmethod
    def _every_kind(cls, versions: list[RuleVersion[dict[str, KindRule]]]) -> list[RuleVersion[dict[str, KindRule]]]:
        from core.models.receipts import LineKind

        kinds = {k.value for k in LineKind}
        for v in versions:
            if set(v.value) != kinds:
                raise ValueError(f"receipt_kinds needs exactly the kinds {', '.join(sorted(kinds))}")
        return versions

    def in_force(self, name: str, on: date) -> RuleVersion[Any]:
        """The version of rule ``name`` in force on day ``on`` (latest effective_from <= on)."""
        if name not in type(self).model_fields:
            raise ValueError(f"unknown rule {name!r}")
        if isinstance(on, datetime):
            on = on.date()
        versions: list[RuleVersion[Any]] = getattr(self, name)
        current = None
        for version in versions:
            if version.effective_from <= on:
                current = version
        if current is None:
            raise RulesError(
                f"Aucune règle « {_RULE_LABELS.get(name, name)} » n'est en vigueur le {format_date(on)} : "
                f"la première version s'applique à partir du {format_date(versions[0].effective_from)}."
            )
        return current

    def meal_windows_at(self, on: date) -> RuleVersion[MealWindows]:
        return self.in_force("meal_windows", on)

    def night_window_at(self, on: date) -> RuleVersion[TimeWindow]:
        return self.in_force("night_window", on)


_RULE_LABELS = {
    "meal_windows": "plages horaires des repas",
    "night_window": "plage horaire de la nuitée",
    "meal_rate": "taux du repas",
    "admin_restaurant_factor": "abattement restaurant administratif",
    "lodging_cap": "plafond d'hébergement",
    "car_km_rate": "indemnités kilométriques",
    "exam_copy_rate": "rémunération par copie",
    "exam_hour_rate": "rémunération horaire d'oral ou de pratique",
    "oral_minutes_per_candidate": "durée d'interrogation par candidat",
    "receipt_kinds": "nature des justificatifs",
    "meal_receipt_required": "justificatifs de repas",
    "meal_receipt_margin": "tolérance sur l'heure des tickets de repas",
    "minimum_time_per_unit": "durée minimale par copie ou par candidat",
}


# --- loading -------------------------------------------------------------------------------------


def default_rules_path() -> Path:
    """``settings.rules_file`` when set, else config/rules.toml of the installed package."""
    from core.settings import get_settings

    configured = getattr(get_settings(), "rules_file", None)
    return Path(configured) if configured else Path(config.__file__).parent / "rules.toml"


def rules_from_toml(text: str, origin: str = "<texte>") -> Rules:
    """Parse and validate rules from TOML text (amounts read as exact decimals)."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"Fichier de règles illisible ({origin}) : {exc}") from exc
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])} : {err['msg']}" for err in exc.errors(include_url=False)[:10]
        )
        raise RulesError(f"Fichier de règles invalide ({origin}) : {problems}") from exc


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int, size: int) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"Fichier de règles illisible ({path}) : {exc}") from exc
    return rules_from_toml(text, origin=str(path))


def load_rules(path: Path | str | None = None) -> Rules:
    """The rules of ``path`` (default: ``default_rules_path()``), cached until the file changes."""
    target = Path(path) if path is not None else default_rules_path()
    try:
        stat = target.stat()
    except OSError as exc:
        raise RulesError(f"Fichier de règles introuvable : {target}") from exc
    return _load_cached(target.resolve(), stat.st_mtime_ns, stat.st_size)


def reset_rules_cache() -> None:
    """Forget loaded rules (tests, reconfiguration)."""
    _load_cached.cache_clear()


# --- meals and nights owed -----------------------------------------------------------------------


def _windows_covered(departure: datetime, return_: datetime, window: TimeWindow) -> int:
    """How many occurrences of the daily ``window`` lie entirely within [departure, return_]."""
    if return_ < departure:
        raise InvalidInput(
            "L'heure de retour est antérieure à l'heure de départ : vérifiez les dates et heures saisies. "
            "Exemple attendu : départ le 02/12/2022 à 07:00, retour le 02/12/2022 à 18:00."
        )
    tz = departure.tzinfo
    if tz is not None and return_.tzinfo is not None:
        return_ = return_.astimezone(tz)
    spill = timedelta(days=1) if window.crosses_midnight else timedelta(0)
    day = departure.date() - spill
    count = 0
    while day <= return_.date():
        start = datetime.combine(day, window.start, tzinfo=tz)
        end = datetime.combine(day + spill, window.end, tzinfo=tz)
        if departure <= start and end <= return_:
            count += 1
        day += timedelta(days=1)
    return count


def meal_windows_covered(
    departure: datetime, return_: datetime, rules: Rules | None = None, *, on: date | None = None
) -> int:
    """Lunch and dinner windows fully covered by the mission (edges included), over every day.

    The windows in force on ``on`` (default: the departure day) are used.
    """
    rules = rules or load_rules()
    windows = rules.meal_windows_at(on or departure.date()).value
    return _windows_covered(departure, return_, windows.lunch) + _windows_covered(departure, return_, windows.dinner)


def nights_covered(
    departure: datetime, return_: datetime, rules: Rules | None = None, *, on: date | None = None
) -> int:
    """Night windows (00:00-05:00 by default) fully covered by the mission."""
    rules = rules or load_rules()
    return _windows_covered(departure, return_, rules.night_window_at(on or departure.date()).value)


# --- estimate ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateInput:
    """What the estimate needs of a mission and its declaration (filled from the ORM by core)."""

    mission_date: date
    mission_type: str  # "correction" | "oral" | "pratique" | "jury"
    rate_group: str | None  # "T1".."T5"; None (or "NR") when the exam is not paid per quantity
    has_pay_part: bool
    has_travel_part: bool
    service_done: bool | None
    copies: int | None = None
    candidates: int | None = None
    practical_minutes: int | None = None
    oral_minutes_per_candidate: int | None = None  # None: the académie default of the rules file
    departure_at: datetime | None = None
    return_at: datetime | None = None
    nights: int = 0  # nights claimed
    lodging_amount: Decimal | None = None  # hotel receipts, all nights together
    lodging_zone: str = "standard"  # "standard" | "grande_ville" | "paris"
    rqth: bool = False
    meals: int | None = None  # meals claimed; None = all owed
    admin_meals: int = 0  # of the meals paid, those taken in an administrative restaurant
    car_km: int = 0
    car_fiscal_hp: int | None = None
    car_yearly_km: int | None = None
    receipts_total: Decimal | None = None  # all receipts: hotel + tickets, tolls, parking
    # The transport receipts that justify a declared trip (core.justification); None: no receipt is in hand,
    # the declared total minus lodging stands for them
    transport_receipts: Decimal | None = None
    transport_receipt_count: int = 0


@dataclass(frozen=True)
class EstimateLine:
    part: Literal["pay", "travel"]
    label_fr: str
    quantity: Decimal
    unit_fr: str
    rate: Decimal
    amount: Decimal
    rule_source: str
    category: str = ""  # pay | meals | lodging | car | transport (CATEGORY_LABELS)


@dataclass(frozen=True)
class Estimate:
    pay: Decimal
    travel: Decimal
    total: Decimal
    lines: list[EstimateLine] = field(default_factory=list)

    def by_category(self) -> dict[str, Decimal]:
        """Amount per category (CATEGORY_LABELS order), the categories with a line only."""
        totals: dict[str, Decimal] = {}
        for key in CATEGORY_LABELS:
            chosen = [ln.amount for ln in self.lines if ln.category == key]
            if chosen:
                totals[key] = _money(sum(chosen, Decimal(0)))
        return totals


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def normalize_rate_group(rate_group: str | None) -> str | None:
    """ "T5", "t5", "Taux 5", "5" -> "T5"; None, "" and "NR" -> None (no pay per quantity)."""
    if rate_group is None:
        return None
    text = re.sub(r"\s+", "", rate_group).upper().removeprefix("TAUX")
    if text in ("", "NR"):
        return None
    match = re.fullmatch(r"T?([1-9])", text)
    if not match:
        raise InvalidInput(f"Groupe de taux inconnu : « {rate_group} ». Exemple attendu : T1 à T5, ou NR.")
    return f"T{match.group(1)}"


def _pay_lines(inp: EstimateInput, rules: Rules) -> list[EstimateLine]:
    group = normalize_rate_group(inp.rate_group)
    if group is None or not inp.has_pay_part or inp.mission_type == "jury":
        return []
    on = inp.mission_date
    if inp.mission_type == "correction":
        if not inp.copies:
            return []
        rule = rules.in_force("exam_copy_rate", on)
        rate = _group_rate(rule, group, on)
        quantity = Decimal(inp.copies)
        label = f"Correction de copies (taux {group[1:]})"
        return [EstimateLine("pay", label, quantity, "copie", rate, _money(quantity * rate), rule.source, "pay")]
    if inp.mission_type == "oral":
        if not inp.candidates:
            return []
        minutes_rule = rules.in_force("oral_minutes_per_candidate", on)
        per_candidate = inp.oral_minutes_per_candidate or minutes_rule.value
        hours = _money(Decimal(inp.candidates * per_candidate) / 60)
        label = f"Interrogation orale : {inp.candidates} candidat(s) × {per_candidate} min"
    else:
        if not inp.practical_minutes:
            return []
        hours = _money(Decimal(inp.practical_minutes) / 60)
        label = f"Épreuve pratique : {inp.practical_minutes} min"
    rule = rules.in_force("exam_hour_rate", on)
    rate = rule.value.get(group)
    if rate is None:
        label = f"{label} (aucun taux horaire pour le taux {group[1:]} : à fixer par la DEC)"
        zero = Decimal("0.00")
        return [EstimateLine("pay", label, hours, "heure", zero, zero, rule.source, "pay")]
    amount = _money(hours * rate)
    return [EstimateLine("pay", f"{label} (taux {group[1:]})", hours, "heure", rate, amount, rule.source, "pay")]


def _group_rate(rule: RuleVersion[dict[str, Decimal]], group: str, on: date) -> Decimal:
    try:
        return rule.value[group]
    except KeyError:
        raise RulesError(f"Aucun taux {group} n'est défini le {format_date(on)} ({rule.source}).") from None


def _travel_lines(inp: EstimateInput, rules: Rules) -> list[EstimateLine]:
    on = inp.mission_date
    lines: list[EstimateLine] = []
    if inp.departure_at is not None and inp.return_at is not None:
        meals_owed = meal_windows_covered(inp.departure_at, inp.return_at, rules, on=on)
        nights_owed = nights_covered(inp.departure_at, inp.return_at, rules, on=on)
    else:
        meals_owed = nights_owed = 0

    claimed = meals_owed if inp.meals is None else max(inp.meals, 0)
    meals_paid = min(claimed, meals_owed)
    if meals_paid:
        rate_rule = rules.in_force("meal_rate", on)
        admin = min(max(inp.admin_meals, 0), meals_paid)
        full = meals_paid - admin
        if full:
            amount = _money(full * rate_rule.value)
            lines.append(
                EstimateLine(
                    "travel", "Repas", Decimal(full), "repas", rate_rule.value, amount, rate_rule.source, "meals"
                )
            )
        if admin:
            factor_rule = rules.in_force("admin_restaurant_factor", on)
            half = _money(rate_rule.value * factor_rule.value)
            source = f"{rate_rule.source} ; {factor_rule.source}"
            label = "Repas pris en restaurant administratif"
            amount = _money(admin * half)
            lines.append(EstimateLine("travel", label, Decimal(admin), "repas", half, amount, source, "meals"))

    nights_paid = min(max(inp.nights, 0), nights_owed)
    if nights_paid:
        if inp.lodging_zone not in LODGING_ZONES:
            raise InvalidInput(
                f"Zone d'hébergement inconnue : « {inp.lodging_zone} ». "
                "Exemple attendu : standard, grande_ville ou paris."
            )
        cap_rule = rules.in_force("lodging_cap", on)
        cap = cap_rule.value.rqth if inp.rqth else getattr(cap_rule.value, inp.lodging_zone)
        ceiling = nights_paid * cap
        amount = _money(min(inp.lodging_amount or Decimal(0), ceiling))
        label = f"Hébergement sur justificatif (plafond {format_amount(cap)} par nuit)"
        lines.append(
            EstimateLine("travel", label, Decimal(nights_paid), "nuit", cap, amount, cap_rule.source, "lodging")
        )

    if inp.car_km > 0:
        car_rule = rules.in_force("car_km_rate", on)
        table: CarRates = car_rule.value
        cls = table.class_index(inp.car_fiscal_hp) if inp.car_fiscal_hp else 0
        band = table.band_index(inp.car_yearly_km)
        rate = table.classes[cls].rates[band]
        hp_note = table.class_label(cls) if inp.car_fiscal_hp else f"puissance non indiquée : {table.class_label(0)}"
        label = f"Indemnités kilométriques ({hp_note}, {table.band_label(band)})"
        km = Decimal(inp.car_km)
        lines.append(EstimateLine("travel", label, km, "km", rate, _money(km * rate), car_rule.source, "car"))

    if inp.transport_receipts is not None:  # each receipt counted for the trip it justifies
        if inp.transport_receipts > 0:
            n = inp.transport_receipt_count
            label = f"Transport sur justificatifs : {n} billet(s) ou reçu(s) de trajets déclarés"
            amount = _money(inp.transport_receipts)
            lines.append(
                EstimateLine("travel", label, Decimal(1), "total", amount, amount, RECEIPTS_SOURCE, "transport")
            )
    elif inp.receipts_total is not None:  # no receipt in hand: the declared total, hotel excluded
        transport = _money(max(Decimal(0), inp.receipts_total - (inp.lodging_amount or Decimal(0))))
        if transport:
            label = "Transport sur justificatifs (billets, péages, stationnement), hors hébergement"
            lines.append(
                EstimateLine("travel", label, Decimal(1), "forfait", transport, transport, RECEIPTS_SOURCE, "transport")
            )
    return lines


def estimate(inp: EstimateInput, rules: Rules | None = None) -> Estimate:
    """What the mission should pay, line by line, with the rules in force on the mission date.

    Nothing is owed unless service_done is True. Pay needs a pay part and a rate group; travel
    needs a travel part. Amounts are Decimal with 2 places, rounded half up.
    """
    if inp.mission_type not in MISSION_TYPES:
        raise InvalidInput(
            f"Type de mission inconnu : « {inp.mission_type} ». Exemple attendu : correction, oral, pratique ou jury."
        )
    if inp.service_done is not True:
        zero = Decimal("0.00")
        return Estimate(pay=zero, travel=zero, total=zero, lines=[])
    rules = rules or load_rules()
    lines = _pay_lines(inp, rules)
    if inp.has_travel_part:
        lines += _travel_lines(inp, rules)
    pay = _money(sum((line.amount for line in lines if line.part == "pay"), Decimal(0)))
    travel = _money(sum((line.amount for line in lines if line.part == "travel"), Decimal(0)))
    return Estimate(pay=pay, travel=travel, total=pay + travel, lines=lines)
