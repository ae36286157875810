"""Rules as data (config/rules.toml) and the estimate: worked examples, table-driven."""

import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import config
from core.errors import InvalidInput
from core.french import format_quantity
from core.rules import (
    EstimateInput,
    Rules,
    RulesError,
    default_rules_path,
    estimate,
    load_rules,
    meal_windows_covered,
    nights_covered,
    normalize_rate_group,
    reset_rules_cache,
    rules_from_toml,
)

RULES_FILE = Path(config.__file__).parent / "rules.toml"
RULES_TEXT = RULES_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(RULES_FILE)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def dt(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def travel(**changes) -> EstimateInput:
    """A mission with a travel part only (no pay), service done, on 2024-06-20 unless changed."""
    base = EstimateInput(
        mission_date=date(2024, 6, 20),
        mission_type="correction",
        rate_group=None,
        has_pay_part=False,
        has_travel_part=True,
        service_done=True,
    )
    return replace(base, **changes)


def pay(mission_type: str, rate_group: str | None, **changes) -> EstimateInput:
    """A mission with a pay part only, service done, on 2024-06-20 unless changed."""
    base = EstimateInput(
        mission_date=date(2024, 6, 20),
        mission_type=mission_type,
        rate_group=rate_group,
        has_pay_part=True,
        has_travel_part=False,
        service_done=True,
    )
    return replace(base, **changes)


# --- the rules file ------------------------------------------------------------------------------


def test_every_rule_version_has_value_unit_effective_from_and_source() -> None:
    data = tomllib.loads(RULES_TEXT)
    assert set(data) == set(Rules.model_fields)
    for name, versions in data.items():
        assert isinstance(versions, list) and versions, name
        for version in versions:
            assert set(version) == {"value", "unit", "effective_from", "source"}, (name, version)
            assert isinstance(version["effective_from"], date), name
            assert isinstance(version["unit"], str) and version["unit"].strip(), name
            assert isinstance(version["source"], str) and version["source"].strip(), name


def test_amounts_are_read_as_exact_decimals(rules: Rules) -> None:
    assert rules.in_force("meal_rate", date(2024, 1, 1)).value == Decimal("20.00")
    assert rules.in_force("exam_copy_rate", date(2024, 1, 1)).value["T2"] == Decimal("1.10")
    assert isinstance(rules.in_force("car_km_rate", date(2024, 1, 1)).value.classes[0].rates[0], Decimal)


@pytest.mark.parametrize(
    ("name", "day", "expected"),
    [
        ("meal_rate", date(2006, 7, 4), Decimal("15.25")),
        ("meal_rate", date(2019, 12, 31), Decimal("15.25")),
        ("meal_rate", date(2020, 1, 1), Decimal("17.50")),
        ("meal_rate", date(2023, 9, 21), Decimal("17.50")),
        ("meal_rate", date(2023, 9, 22), Decimal("20.00")),
        ("admin_restaurant_factor", date(2024, 1, 1), Decimal("0.5")),
        ("oral_minutes_per_candidate", date(2024, 1, 1), 30),
    ],
    ids=lambda v: str(v),
)
def test_rule_in_force_on_a_day(rules: Rules, name: str, day: date, expected: object) -> None:
    assert rules.in_force(name, day).value == expected


def test_date_before_first_rule_is_a_clear_error(rules: Rules) -> None:
    with pytest.raises(RulesError) as err:
        rules.in_force("meal_rate", date(2006, 7, 3))
    assert "taux du repas" in err.value.message
    assert "03/07/2006" in err.value.message and "04/07/2006" in err.value.message


def test_estimate_before_every_rule_fails_clearly(rules: Rules) -> None:
    departure, return_ = dt("2005-05-02 08:00"), dt("2005-05-02 18:00")
    inp = travel(mission_date=date(2005, 5, 2), departure_at=departure, return_at=return_)
    with pytest.raises(RulesError):
        estimate(inp, rules)


def _broken(old: str, new: str) -> str:
    assert old in RULES_TEXT
    return RULES_TEXT.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        pytest.param("meal_rate = [", "illisible", id="not-toml"),
        pytest.param(_broken('unit = "EUR par repas"\n', ""), "unit", id="missing-unit"),
        pytest.param(_broken("effective_from = 2020-01-01", "effective_from = 2006-07-04"), "effective_from",
                     id="duplicate-effective-from"),
        pytest.param(_broken("[0.32, 0.40, 0.23]", "[0.32, 0.40]"), "rates", id="car-rates-per-band"),
        pytest.param(_broken("[[meal_rate]]", "[[meal_rates]]"), "meal_rates", id="misspelt-rule"),
        pytest.param(_broken("T5 = 5.00", "T5 = -5.00"), "T5", id="negative-rate"),
        pytest.param(_broken("value = 17.50", "value = 0"), "positive", id="zero-meal-rate"),
        pytest.param(_broken("source = \"Arrêté du 11 octobre 2019", "source = \"\" # "), "source",
                     id="empty-source"),
    ],
)  # fmt: skip
def test_invalid_rules_files_are_rejected(text: str, hint: str) -> None:
    with pytest.raises(RulesError) as err:
        rules_from_toml(text, origin="test.toml")
    assert "test.toml" in err.value.message and hint in err.value.message


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as err:
        load_rules(tmp_path / "absent.toml")
    assert "introuvable" in err.value.message


def test_rules_file_reloads_when_changed(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES_TEXT, encoding="utf-8")
    assert load_rules(path).in_force("meal_rate", date(2024, 1, 1)).value == Decimal("20.00")
    path.write_text(_broken("value = 20.00", "value = 21.000"), encoding="utf-8")
    assert load_rules(path).in_force("meal_rate", date(2024, 1, 1)).value == Decimal("21.00")
    reset_rules_cache()


def test_settings_rules_file_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import reset_settings

    path = tmp_path / "academie.toml"
    path.write_text(_broken("value = 20.00", "value = 19.99"), encoding="utf-8")
    monkeypatch.setenv("IMAGIN_RULES_FILE", str(path))
    reset_settings()
    try:
        assert default_rules_path() == path
        assert load_rules().in_force("meal_rate", date(2024, 1, 1)).value == Decimal("19.99")
    finally:
        monkeypatch.delenv("IMAGIN_RULES_FILE")
        reset_settings()
    assert default_rules_path() == RULES_FILE


# --- meals and nights owed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("departure", "return_", "meals"),
    [
        ("2024-06-20 10:59", "2024-06-20 14:00", 1),
        ("2024-06-20 11:00", "2024-06-20 14:00", 1),
        ("2024-06-20 11:01", "2024-06-20 14:00", 0),
        ("2024-06-20 11:00", "2024-06-20 13:59", 0),
        ("2024-06-20 18:00", "2024-06-20 21:00", 1),
        ("2024-06-20 17:30", "2024-06-20 20:59", 0),
        ("2024-06-20 18:01", "2024-06-20 23:00", 0),
        ("2024-06-20 07:00", "2024-06-20 18:00", 1),
        ("2024-06-20 07:00", "2024-06-20 21:00", 2),
        ("2024-06-20 14:00", "2024-06-20 18:00", 0),
        ("2024-06-20 22:00", "2024-06-21 10:00", 0),
        ("2024-06-20 08:00", "2024-06-22 20:00", 5),
        ("2024-06-20 19:00", "2024-06-22 12:00", 2),
        ("2024-06-20 09:00", "2024-06-20 09:00", 0),
    ],
    ids=lambda v: str(v),
)
def test_meal_windows_covered(rules: Rules, departure: str, return_: str, meals: int) -> None:
    assert meal_windows_covered(dt(departure), dt(return_), rules) == meals


@pytest.mark.parametrize(
    ("departure", "return_", "nights"),
    [
        ("2024-06-20 08:00", "2024-06-21 18:00", 1),
        ("2024-06-20 23:00", "2024-06-21 05:00", 1),
        ("2024-06-20 23:00", "2024-06-21 04:59", 0),
        ("2024-06-21 00:01", "2024-06-21 18:00", 0),
        ("2024-06-21 00:00", "2024-06-21 05:00", 1),
        ("2024-06-20 08:00", "2024-06-20 23:59", 0),
        ("2024-06-20 08:00", "2024-06-23 08:00", 3),
    ],
    ids=lambda v: str(v),
)
def test_nights_covered(rules: Rules, departure: str, return_: str, nights: int) -> None:
    assert nights_covered(dt(departure), dt(return_), rules) == nights


def test_return_before_departure_is_rejected(rules: Rules) -> None:
    with pytest.raises(InvalidInput) as err:
        meal_windows_covered(dt("2024-06-20 18:00"), dt("2024-06-20 07:00"), rules)
    assert "antérieure" in err.value.message


def test_other_meal_windows_are_configurable() -> None:
    text = _broken("lunch = { start = 11:00:00", "lunch = { start = 12:00:00")
    text = text.replace("dinner = { start = 18:00:00", "dinner = { start = 19:00:00", 1)
    custom = rules_from_toml(text)
    assert meal_windows_covered(dt("2024-06-20 11:30"), dt("2024-06-20 14:00"), custom) == 1
    assert meal_windows_covered(dt("2024-06-20 18:30"), dt("2024-06-20 21:00"), custom) == 1
    assert meal_windows_covered(dt("2024-06-20 12:01"), dt("2024-06-20 21:00"), custom) == 1


def test_window_across_midnight() -> None:
    custom = rules_from_toml(_broken("value = { start = 00:00:00, end = 05:00:00 }",
                                     "value = { start = 22:00:00, end = 06:00:00 }"))  # fmt: skip
    assert nights_covered(dt("2024-06-20 21:00"), dt("2024-06-21 06:00"), custom) == 1
    assert nights_covered(dt("2024-06-20 22:30"), dt("2024-06-21 07:00"), custom) == 0
    assert nights_covered(dt("2024-06-19 21:00"), dt("2024-06-21 06:00"), custom) == 2


def test_aware_datetimes_use_local_windows(rules: Rules) -> None:
    paris_summer = timezone(timedelta(hours=2))
    departure = datetime(2024, 6, 20, 11, 0, tzinfo=paris_summer)
    return_utc = datetime(2024, 6, 20, 12, 0, tzinfo=UTC)  # 14:00 in Paris
    assert meal_windows_covered(departure, return_utc, rules) == 1
    assert meal_windows_covered(departure, return_utc - timedelta(minutes=1), rules) == 0


# --- travel estimate -----------------------------------------------------------------------------


def _amounts(inp: EstimateInput, rules: Rules) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(line.unit_fr, line.quantity, line.rate, line.amount) for line in estimate(inp, rules).lines]


@pytest.mark.parametrize(
    ("mission_date", "expected_rate"),
    [(date(2019, 12, 31), "15.25"), (date(2020, 1, 1), "17.50"), (date(2023, 9, 21), "17.50"),
     (date(2023, 9, 22), "20.00")],
    ids=str,
)  # fmt: skip
def test_meal_rate_at_mission_date(rules: Rules, mission_date: date, expected_rate: str) -> None:
    day = mission_date.isoformat()
    inp = travel(mission_date=mission_date, departure_at=dt(f"{day} 07:00"), return_at=dt(f"{day} 21:30"))
    rate = Decimal(expected_rate)
    assert _amounts(inp, rules) == [("repas", Decimal(2), rate, 2 * rate)]
    assert estimate(inp, rules).travel == 2 * rate


@pytest.mark.parametrize(
    ("meals", "admin_meals", "expected"),
    [
        (None, 0, [("repas", 2, "20.00", "40.00")]),
        (1, 0, [("repas", 1, "20.00", "20.00")]),
        (5, 0, [("repas", 2, "20.00", "40.00")]),  # never more than owed
        (0, 0, []),
        (None, 1, [("repas", 1, "20.00", "20.00"), ("repas", 1, "10.00", "10.00")]),
        (None, 2, [("repas", 2, "10.00", "20.00")]),
        (1, 3, [("repas", 1, "10.00", "10.00")]),  # admin meals are among the meals paid
    ],
    ids=["all-owed", "one-claimed", "more-than-owed", "none-claimed", "one-admin", "two-admin", "admin-capped"],
)
def test_meals_claimed_and_admin_restaurant(rules: Rules, meals, admin_meals, expected) -> None:
    inp = travel(departure_at=dt("2024-06-20 07:00"), return_at=dt("2024-06-20 21:00"), meals=meals,
                 admin_meals=admin_meals)  # fmt: skip
    assert _amounts(inp, rules) == [(u, Decimal(q), Decimal(r), Decimal(a)) for u, q, r, a in expected]


def test_admin_meal_rate_rounds_half_up(rules: Rules) -> None:
    inp = travel(mission_date=date(2015, 3, 10), departure_at=dt("2015-03-10 07:00"),
                 return_at=dt("2015-03-10 15:00"), admin_meals=1)  # fmt: skip
    assert _amounts(inp, rules) == [("repas", Decimal(1), Decimal("7.63"), Decimal("7.63"))]  # 15.25 / 2


@pytest.mark.parametrize(
    ("mission_date", "zone", "rqth", "nights", "lodging", "expected_cap", "expected_amount"),
    [
        (date(2023, 9, 22), "standard", False, 1, "120.00", "90.00", "90.00"),
        (date(2023, 9, 21), "standard", False, 1, "120.00", "70.00", "70.00"),
        (date(2023, 9, 22), "grande_ville", False, 1, "130.00", "120.00", "120.00"),
        (date(2023, 9, 21), "grande_ville", False, 1, "130.00", "90.00", "90.00"),
        (date(2023, 9, 22), "paris", False, 1, "180.00", "140.00", "140.00"),
        (date(2019, 3, 1), "paris", False, 1, "180.00", "110.00", "110.00"),
        (date(2023, 9, 22), "standard", True, 1, "180.00", "150.00", "150.00"),
        (date(2023, 9, 21), "paris", True, 1, "180.00", "120.00", "120.00"),
        (date(2024, 6, 20), "standard", False, 1, "65.40", "90.00", "65.40"),
        (date(2024, 6, 20), "standard", False, 2, "200.00", "90.00", "90.00"),  # one night owed only
        (date(2024, 6, 20), "standard", False, 1, None, "90.00", "0.00"),
    ],
    ids=["2023-std", "2023-eve-std", "2023-big-city", "2023-eve-big-city", "2023-paris", "2019-paris",
         "2023-rqth", "2023-eve-rqth-paris", "below-cap", "nights-capped-by-owed", "no-hotel-amount"],
)  # fmt: skip
def test_lodging_caps(rules, mission_date, zone, rqth, nights, lodging, expected_cap, expected_amount):
    departure = datetime.combine(mission_date, time(15, 0))  # one night: 15:00 -> 07:00 the next day
    inp = travel(mission_date=mission_date, departure_at=departure, return_at=departure + timedelta(hours=16),
                 nights=nights, lodging_amount=_dec(lodging), lodging_zone=zone, rqth=rqth,
                 meals=0)  # fmt: skip
    assert _amounts(inp, rules) == [("nuit", Decimal(1), Decimal(expected_cap), Decimal(expected_amount))]


def test_lodging_before_first_cap_fails_clearly(rules: Rules) -> None:
    inp = travel(mission_date=date(2018, 5, 2), departure_at=dt("2018-05-02 08:00"),
                 return_at=dt("2018-05-03 18:00"), nights=1, lodging_amount=Decimal("60"))  # fmt: skip
    with pytest.raises(RulesError) as err:
        estimate(inp, rules)
    assert "plafond d'hébergement" in err.value.message


def test_unknown_lodging_zone_is_rejected(rules: Rules) -> None:
    inp = travel(departure_at=dt("2024-06-20 08:00"), return_at=dt("2024-06-21 18:00"), nights=1,
                 lodging_amount=Decimal("80"), lodging_zone="lune")  # fmt: skip
    with pytest.raises(InvalidInput):
        estimate(inp, rules)


@pytest.mark.parametrize(
    ("mission_date", "hp", "yearly_km", "km", "rate", "amount"),
    [
        (date(2024, 6, 20), 6, None, 150, "0.41", "61.50"),
        (date(2024, 6, 20), 6, 2000, 150, "0.41", "61.50"),
        (date(2024, 6, 20), 6, 2001, 150, "0.51", "76.50"),
        (date(2024, 6, 20), 7, 10000, 100, "0.51", "51.00"),
        (date(2024, 6, 20), 7, 10001, 100, "0.30", "30.00"),
        (date(2024, 6, 20), 5, None, 100, "0.32", "32.00"),
        (date(2024, 6, 20), 4, 5000, 100, "0.40", "40.00"),
        (date(2024, 6, 20), 5, 12000, 100, "0.23", "23.00"),
        (date(2024, 6, 20), 8, None, 100, "0.45", "45.00"),
        (date(2024, 6, 20), 11, 3000, 100, "0.55", "55.00"),
        (date(2024, 6, 20), 9, 20000, 100, "0.32", "32.00"),
        (date(2024, 6, 20), None, None, 100, "0.32", "32.00"),  # horsepower unknown: lowest class
        (date(2021, 12, 31), 6, None, 150, "0.37", "55.50"),
        (date(2022, 1, 1), 6, None, 150, "0.41", "61.50"),
        (date(2019, 3, 1), 5, 2500, 33, "0.36", "11.88"),
    ],
    ids=lambda v: str(v),
)
def test_car_rates_by_horsepower_and_band(rules, mission_date, hp, yearly_km, km, rate, amount) -> None:
    inp = travel(mission_date=mission_date, car_km=km, car_fiscal_hp=hp, car_yearly_km=yearly_km)
    [line] = estimate(inp, rules).lines
    assert (line.unit_fr, line.quantity, line.rate) == ("km", Decimal(km), Decimal(rate))
    assert line.amount == Decimal(amount)
    assert "kilométriques" in line.rule_source


def test_car_line_labels_the_class_and_band(rules: Rules) -> None:
    [line] = estimate(travel(car_km=150, car_fiscal_hp=6, car_yearly_km=2500), rules).lines
    assert line.label_fr == "Indemnités kilométriques (6 à 7 CV, 2 001 à 10 000 km par an)"
    [line] = estimate(travel(car_km=10, car_fiscal_hp=12, car_yearly_km=12000), rules).lines
    assert line.label_fr == "Indemnités kilométriques (8 CV et plus, plus de 10 000 km par an)"


@pytest.mark.parametrize(
    ("receipts", "lodging", "transport"),
    [("150.00", "90.00", "60.00"), ("50.00", "90.00", None), ("42.30", None, "42.30"), ("0", None, None)],
    ids=["hotel-and-train", "hotel-only", "train-only", "zero"],
)
def test_transport_on_receipts_excludes_lodging(rules, receipts, lodging, transport) -> None:
    inp = travel(receipts_total=Decimal(receipts), lodging_amount=_dec(lodging))
    lines = estimate(inp, rules).lines
    if transport is None:
        assert lines == []
    else:
        assert [(ln.unit_fr, ln.amount) for ln in lines] == [("forfait", Decimal(transport))]


def test_full_travel_example(rules: Rules) -> None:
    """Two days in Paris: 3 meals (one in an administrative restaurant), 1 night, car, train receipts."""
    inp = travel(
        mission_date=date(2023, 9, 22),
        departure_at=dt("2023-09-22 06:30"),
        return_at=dt("2023-09-23 15:10"),
        nights=1,
        lodging_amount=Decimal("163.20"),
        lodging_zone="paris",
        admin_meals=1,
        car_km=42,
        car_fiscal_hp=5,
        receipts_total=Decimal("251.70"),
    )
    result = estimate(inp, rules)
    # meals 2 x 20.00 + 1 x 10.00; night min(163.20, 140.00); car 42 x 0.32 = 13.44; transport 251.70 - 163.20
    assert [line.amount for line in result.lines] == [
        Decimal("40.00"), Decimal("10.00"), Decimal("140.00"), Decimal("13.44"), Decimal("88.50"),
    ]  # fmt: skip
    assert (result.pay, result.travel, result.total) == (Decimal(0), Decimal("291.94"), Decimal("291.94"))
    assert all(line.part == "travel" and line.rule_source for line in result.lines)


def test_no_travel_part_means_no_travel_lines(rules: Rules) -> None:
    inp = travel(has_travel_part=False, departure_at=dt("2024-06-20 07:00"), return_at=dt("2024-06-20 21:00"),
                 car_km=100, receipts_total=Decimal("30"))  # fmt: skip
    assert estimate(inp, rules).lines == []


# --- pay estimate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inp", "quantity", "rate", "amount"),
    [
        (pay("correction", "T1", copies=80), "80", "0.75", "60.00"),
        (pay("correction", "T2", copies=33), "33", "1.10", "36.30"),
        (pay("correction", "T3", copies=10), "10", "1.73", "17.30"),
        (pay("correction", "T4", copies=7), "7", "2.47", "17.29"),
        (pay("correction", "T5", copies=40), "40", "5.00", "200.00"),
        (pay("correction", "t5", copies=1), "1", "5.00", "5.00"),
        (pay("oral", "T3", candidates=8), "4.00", "9.60", "38.40"),  # 8 x 30 min (académie default)
        (pay("oral", "T1", candidates=7, oral_minutes_per_candidate=20), "2.33", "4.11", "9.58"),
        (pay("oral", "T2", candidates=1), "0.50", "5.49", "2.75"),
        (pay("pratique", "T4", practical_minutes=210), "3.50", "13.72", "48.02"),
        (pay("pratique", "T2", practical_minutes=100), "1.67", "5.49", "9.17"),
    ],
    ids=["T1-copies", "T2-copies", "T3-copies", "T4-copies", "T5-copies", "lowercase-group",
         "oral-default-30min", "oral-20min", "oral-one-candidate", "practical-3h30", "practical-100min"],
)  # fmt: skip
def test_pay_per_group(rules: Rules, inp: EstimateInput, quantity: str, rate: str, amount: str) -> None:
    result = estimate(inp, rules)
    [line] = result.lines
    assert (line.part, line.quantity, line.rate, line.amount) == ("pay", Decimal(quantity), Decimal(rate),
                                                                  Decimal(amount))  # fmt: skip
    assert result.pay == Decimal(amount) == result.total and result.travel == Decimal("0.00")
    assert "13 avril 2012" in line.rule_source


@pytest.mark.parametrize(
    "inp",
    [
        pay("correction", None, copies=50),
        pay("correction", "NR", copies=50),
        pay("correction", "T5", copies=50, has_pay_part=False),
        pay("correction", "T5", copies=0),
        pay("correction", "T5", copies=None),
        pay("jury", "T5"),
        pay("oral", "T3", candidates=0),
        pay("correction", "T5", copies=50, service_done=None),
        pay("correction", "T5", copies=50, service_done=False),
    ],
    ids=["no-group", "NR", "no-pay-part", "zero-copies", "copies-unknown", "jury", "no-candidates",
         "service-not-attested", "service-not-done"],
)  # fmt: skip
def test_no_pay(rules: Rules, inp: EstimateInput) -> None:
    result = estimate(inp, rules)
    assert result.lines == [] and result.total == Decimal("0.00")


def test_service_not_done_pays_nothing_at_all(rules: Rules) -> None:
    inp = replace(pay("correction", "T5", copies=50), has_travel_part=True, service_done=False, car_km=100,
                  departure_at=dt("2024-06-20 07:00"), return_at=dt("2024-06-20 21:00"))  # fmt: skip
    assert estimate(inp, rules).total == Decimal("0.00")
    assert estimate(replace(inp, service_done=True), rules).total == Decimal("322.00")  # 250 + 40 + 32


def test_oral_in_a_group_without_hourly_rate(rules: Rules) -> None:
    [line] = estimate(pay("oral", "T5", candidates=4), rules).lines
    assert line.quantity == Decimal("2.00") and line.amount == Decimal("0.00") and "DEC" in line.label_fr


@pytest.mark.parametrize(("text", "group"), [("T3", "T3"), ("t 3", "T3"), ("Taux 4", "T4"), ("5", "T5"),
                                             (None, None), ("", None), ("nr", None)])  # fmt: skip
def test_normalize_rate_group(text: str | None, group: str | None) -> None:
    assert normalize_rate_group(text) == group


def test_unknown_rate_group_and_mission_type_are_rejected(rules: Rules) -> None:
    with pytest.raises(InvalidInput):
        estimate(pay("correction", "T12", copies=3), rules)
    with pytest.raises(RulesError):
        estimate(pay("correction", "T7", copies=3), rules)
    with pytest.raises(InvalidInput):
        estimate(pay("surveillance", "T1"), rules)


def test_default_rules_are_used_when_none_given() -> None:
    assert estimate(pay("correction", "T5", copies=2)).pay == Decimal("10.00")


@pytest.mark.parametrize(
    ("quantity", "unit", "text"),
    [
        ("95", "copie", "95 copies"),
        ("1", "copie", "1 copie"),
        ("1.5", "heure", "1,5 heure"),
        ("2", "repas", "2 repas"),
        ("124", "km", "124 km"),
        ("3", "nuit", "3 nuits"),
        ("2.50", "heure", "2,5 heures"),
    ],
)
def test_estimate_quantities_read_as_french(quantity: str, unit: str, text: str) -> None:
    assert format_quantity(Decimal(quantity), unit) == text
