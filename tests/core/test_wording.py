"""Issue 15's wording points in core: each message says precisely what is wrong, in French."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.estimates import line_quantity, line_rate
from core.parsing import parse_amount, parse_count, parse_distance, parse_moment
from core.rules import RECEIPTS_SOURCE, EstimateLine

MISSION_DAY = datetime(2026, 2, 20, 8, 0)


def _moment_error(text: str, day: datetime | None = None) -> str:
    with pytest.raises(InvalidInput) as err:
        parse_moment(text, reference=MISSION_DAY, day=day)
    return err.value.message


@pytest.mark.parametrize("day", [None, MISSION_DAY])
def test_minutes_over_59_are_named_not_a_generic_date_error(day: datetime | None) -> None:
    message = _moment_error("25h70", day)
    assert message.startswith("Heure invalide : « 25h70 »")
    assert "les minutes de 00 à 59" in message and "Date et heure invalides" not in message
    assert message.endswith("Exemple attendu : 20/02/2026 07:30")


def test_a_day_that_does_not_exist_is_named() -> None:
    message = _moment_error("31/02/2026 08:00")
    assert message == ("Date invalide : « 31/02/2026 ». Le 31/02/2026 n'existe pas. Exemple attendu : 20/02/2026 07:30")


def test_a_date_without_time_asks_for_the_time_and_gibberish_stays_generic() -> None:
    assert _moment_error("20/02/2026").startswith("Heure manquante après la date « 20/02/2026 »")
    assert _moment_error("un de ces jours").startswith("Date et heure invalides : « un de ces jours »")
    assert _moment_error("demain matin").startswith("Heure invalide : « matin »")  # the day is read, not the time


def test_a_time_without_date_asks_for_the_date_with_that_time_in_the_example() -> None:
    assert _moment_error("7h") == "Date manquante avant l'heure « 7h ». Exemple attendu : 20/02/2026 07:00"
    assert _moment_error("18 h 45").endswith("Exemple attendu : 20/02/2026 18:45")
    assert _moment_error("25h").startswith("Heure invalide : « 25h »")  # a wrong time is still named as such


def test_a_weekday_that_contradicts_the_date_is_named() -> None:
    """« lundi 25/11 » when the 25th is a Wednesday: one of the two is a typo, the user says which."""
    message = _moment_error("lundi 25/11/2026 07:00")
    assert message.startswith("Date incohérente : « lundi 25/11/2026 ». Le 25/11/2026 est un mercredi, pas un lundi")
    assert "pas un samedi" in _moment_error("sam. 25/11/2026 7h")
    assert parse_moment("mer. 25/11/2026 7h", reference=MISSION_DAY) == datetime(2026, 11, 25, 7, 0)


def test_moments_still_parse() -> None:
    assert parse_moment("02/12 7h30", reference=MISSION_DAY) == datetime(2026, 12, 2, 7, 30)
    assert parse_moment("19:00", reference=MISSION_DAY, day=MISSION_DAY) == datetime(2026, 2, 20, 19, 0)
    assert parse_moment("21/02/2026 à 18h15", reference=MISSION_DAY) == datetime(2026, 2, 21, 18, 15)


@pytest.mark.parametrize(
    "typed", ["21/02/2026, 18h15", "21/02,18:15", "21/02 - 18h15", "21 février ; 18h15", "21/02 À 18h15"]
)
def test_a_comma_or_dash_between_the_date_and_the_time_is_read(typed: str) -> None:
    assert parse_moment(typed, reference=MISSION_DAY) == datetime(2026, 2, 21, 18, 15)


@pytest.mark.parametrize(("typed", "fixed"), [("12,5O €", "12,50"), ("1O,00", "10,00"), ("o,50", "0,50")])
def test_letter_o_for_zero_is_told(typed: str, fixed: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount(typed)
    assert f"la lettre {typed.strip('€ ,.0123456789')[0]} à la place du chiffre 0 (zéro)" in err.value.message
    assert f"tapez « {fixed} »" in err.value.message


def test_a_word_is_not_taken_for_a_zero() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount("zéro")
    assert "lettre" not in err.value.message


def test_distance_accepts_km_and_quotes_the_question_example() -> None:
    assert parse_distance("62 km") == 62
    assert parse_distance("62km") == 62
    assert parse_distance("1 200 KM") == 1200
    with pytest.raises(InvalidInput) as err:
        parse_distance("soixante")
    assert err.value.message.endswith("Exemple attendu : 62")
    with pytest.raises(InvalidInput) as err:
        parse_count("62 km")  # copies are not kilometres
    assert err.value.message.endswith("Exemple attendu : 25")


def test_receipts_total_is_not_one_forfait() -> None:
    receipts = EstimateLine(
        "travel", "Transport", Decimal(1), "forfait", Decimal("32.40"), Decimal("32.40"), RECEIPTS_SOURCE
    )
    assert line_quantity(receipts) == "sur justificatifs"
    assert line_rate(receipts) == "montant réel"
    km = EstimateLine("travel", "IK", Decimal(62), "km", Decimal("0.32"), Decimal("19.84"), "arrêté")
    assert (line_quantity(km), line_rate(km)) == ("62 km", "0,32 €")


def test_out_of_window_message_agrees_with_its_subject() -> None:
    from core.declarations import set_times
    from core.models import Convocation, EtatDeFrais, Mission

    mission = Mission(number="BAC-1", start_at=MISSION_DAY, duration_days=1, mission_type="correction")
    efm = EtatDeFrais(convocation=Convocation(mission=mission))
    with pytest.raises(InvalidInput) as err:
        set_times(None, efm, MISSION_DAY, datetime(2026, 3, 9, 18, 0), "test")  # type: ignore[arg-type]
    assert err.value.message.startswith("Le retour (09/03/2026 18:00) est en dehors des dates de la mission : ")
    assert "elle doit" not in err.value.message and "indiquez une date et une heure entre le" in err.value.message
