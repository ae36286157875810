"""What people type where a button or a number is expected: a yes or a no, a button's words, a count with its
unit or « aucune », a city with an emoji."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from core import declarations
from core.errors import InvalidInput
from core.parsing import (
    choice_words,
    parse_count,
    parse_distance,
    parse_duration,
    parse_moment,
    parse_time,
    pick_choice,
)
from core.steps import QUANTITIES

DONE = ["✅ Oui, effectuée", "❌ Non effectuée", "⬅️ Retour", "✖️ Annuler"]


@pytest.mark.parametrize(
    ("typed", "picked"),
    [("oui", 0), ("Oui.", 0), ("OUI !", 0), ("ouais", 0), ("ok", 0), ("non", 1), ("Non merci", 1),
     ("Oui, je l'ai faite", 0), ("non pas encore", 1), ("retour svp", None),
     ("non effectuée", 1), ("NON EFFECTUEE", 1), ("retour", 2), ("effectuée", None), ("peut-être", None),
     ("🙂", None), ("   ", None), ("", None)],
    ids=repr,
)  # fmt: skip
def test_a_typed_answer_names_one_button_or_none(typed: str, picked: int | None) -> None:
    assert pick_choice(typed, DONE) == picked


def test_a_text_naming_several_buttons_names_none() -> None:
    assert pick_choice("1", ["✏️ 1", "🗑 1", "➡️ Continuer"]) is None


def test_whole_labels_only_where_a_typed_answer_is_also_taken() -> None:
    labels = ["Aucun", "1 sur 2", "Tous les 2", "Je ne sais pas"]
    assert pick_choice("aucun", labels, whole=True) == 0
    assert pick_choice("je ne sais pas", labels, whole=True) == 3
    assert pick_choice("1", labels, whole=True) is None  # a count, for the screen's own input
    assert pick_choice("1", labels) == 1
    one_meal = ["Oui, au restaurant administratif", "Non"]
    assert pick_choice("oui", one_meal, whole=True) == 0 and pick_choice("Non.", one_meal, whole=True) == 1


def test_choice_words_fold_yes_and_no() -> None:
    assert choice_words("Oui, bien sûr") == ("oui", "bien", "sur")
    assert choice_words("Bien sûr !") == ("oui",)
    assert choice_words("Pas du tout.") == ("non",)


@pytest.mark.parametrize(
    ("typed", "units", "expected"),
    [("95 copies", QUANTITIES["copies"].units, 95), ("1 copie", QUANTITIES["copies"].units, 1),
     ("12 candidats", QUANTITIES["candidates"].units, 12), ("12 élèves", QUANTITIES["candidates"].units, 12),
     ("2 nuits", declarations.NIGHT_UNITS, 2), ("1 nuitée", declarations.NIGHT_UNITS, 1),
     ("3 repas", declarations.MEAL_UNITS, 3), ("5 CV", declarations.HP_UNITS, 5), ("5cv", declarations.HP_UNITS, 5),
     ("aucune", declarations.NIGHT_UNITS, 0), ("Aucune nuit", declarations.NIGHT_UNITS, 0), ("zéro", (), 0),
     ("aucun", (), 0)],
    ids=repr,
)  # fmt: skip
def test_a_count_with_the_questions_unit_or_a_word_for_none(typed: str, units: tuple[str, ...], expected: int) -> None:
    assert parse_count(typed, units=units) == expected


def test_a_unit_of_another_question_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_count("2 nuits", units=QUANTITIES["copies"].units)
    with pytest.raises(InvalidInput):
        parse_count("95 copiesx", units=QUANTITIES["copies"].units)
    assert parse_distance("62 kilomètres") == 62


@pytest.mark.parametrize(
    ("typed", "city"),
    [("🏠 saint-lô", "SAINT-LÔ"), ("caen 🚆", "CAEN"), ("hérouville-saint-clair", "HÉROUVILLE-SAINT-CLAIR"),
     ("l'Aigle", "L'AIGLE"), ("St. Lô", "ST. LÔ"), ("  Bayeux  ", "BAYEUX")],
    ids=repr,
)  # fmt: skip
def test_a_city_keeps_its_letters_accents_and_hyphens_not_emoji(typed: str, city: str) -> None:
    assert declarations.check_city(typed) == city


def test_a_city_of_emoji_alone_is_asked_again() -> None:
    with pytest.raises(InvalidInput) as err:
        declarations.check_city("🏠🚆")
    assert "nom de la ville" in err.value.message


@pytest.mark.parametrize(
    ("typed", "mode"),
    [("train", "transport_public"), ("En TER", "transport_public"), ("bus", "transport_public"),
     ("en voiture", "voiture"), ("ma voiture perso", "voiture"), ("Véhicule personnel", "voiture"),
     ("taxi", "taxi"), ("covoiturage", "autre"), ("avion", "autre")],
    ids=repr,
)  # fmt: skip
def test_a_trip_mode_typed_in_words(typed: str, mode: str) -> None:
    assert declarations.parse_trip_mode(typed) == mode


def test_a_trip_mode_naming_none_or_several_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput) as err:
        declarations.parse_trip_mode("🚗")
    assert all(label in err.value.message for label in declarations.TRIP_MODES.values())
    with pytest.raises(InvalidInput) as err:
        declarations.parse_trip_mode("voiture puis train")
    assert "un trajet pour chacun" in err.value.message


@pytest.mark.parametrize("typed", ["mer. 25/11 7h", "mer 25 novembre 7h", "le mer. 25/11/2026 à 7h", "Mer. 25 nov. 7h"])
def test_an_abbreviated_weekday_may_precede_the_date(typed: str) -> None:
    assert parse_moment(typed, reference=datetime(2026, 11, 25, 9, 0)) == datetime(2026, 11, 25, 7, 0)


@pytest.mark.parametrize(("typed", "count"), [("120 👍", 120), ("1️⃣2️⃣", 12), ("\u200b95 copies", 95), ("95\u200d", 95)])
def test_emoji_and_invisible_characters_around_a_number_are_ignored(typed: str, count: int) -> None:
    assert parse_count(typed, units=QUANTITIES["copies"].units) == count


@pytest.mark.parametrize("typed", ["👍", "\u200b", "\u200b \ufe0f"])
def test_an_answer_of_emoji_or_invisible_characters_alone_is_missing(typed: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_count(typed)
    assert err.value.message.startswith("Nombre manquant")


def test_minuit_after_a_start_that_day_is_the_end_of_that_day() -> None:
    departure = datetime(2026, 11, 25, 18, 0)
    assert parse_moment("minuit", reference=departure, day=departure) == datetime(2026, 11, 26, 0, 0)
    assert parse_moment("00:00", reference=departure, day=departure) == datetime(2026, 11, 25, 0, 0)  # as typed


def test_words_inside_one_label_name_it() -> None:
    receipts = ["📸 Réunir plusieurs photos en un seul fichier", "📧 Je les enverrai par e-mail", "➡️ Continuer"]
    assert pick_choice("par e-mail", receipts, whole=True) == 1
    listing = ["📝 N° DEMO-101 · 25/11/2026 · Correction de copies", "• N° DEMO-102 · 28/11/2026 · Interrogation orale"]
    assert pick_choice("DEMO-102", listing) == 1
    assert pick_choice("effectuée", DONE) is None  # inside both
    keep = ["0", "1", "➡️ Garder : 25/11/2026 07:00", "➡️ Garder les horaires actuels"]
    assert pick_choice("garder", keep, whole=True) is None  # inside both: for the screen's own input
    assert pick_choice("25/11", keep, whole=True) is None  # a digit typed where answers are typed: the answer


@pytest.mark.parametrize("typed", ["environ 1500", "Environ 1 500 km", "~1500", "≈ 1500 km", "à peu près 1500 km"])
def test_a_distance_may_be_an_estimate(typed: str) -> None:
    assert parse_distance(typed) == 1500
    with pytest.raises(InvalidInput):
        parse_count(typed.replace(" km", ""))  # copies and candidates are counted, not estimated


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("6 heures et demie", 390), ("6h et demi", 390), ("2h et quart", 135), ("1 heure et demie", 90)],
)
def test_a_duration_with_et_demie_or_et_quart(typed: str, minutes: int) -> None:
    assert parse_duration(typed) == minutes


@pytest.mark.parametrize(
    ("typed", "at"),
    [("7h et demie", time(7, 30)), ("midi et demi", time(12, 30)), ("19 heures et quart", time(19, 15))],
)
def test_a_time_with_et_demie_or_et_quart(typed: str, at: time) -> None:
    assert parse_time(typed) == at
    assert parse_moment(f"25/11 {typed}", reference=datetime(2026, 11, 25, 9, 0)) == datetime.combine(
        datetime(2026, 11, 25).date(), at
    )


@pytest.mark.parametrize(
    ("typed", "at"),
    [
        ("hier 18h", datetime(2026, 12, 1, 18, 0)),
        ("Hier à 18h30", datetime(2026, 12, 1, 18, 30)),
        ("aujourd'hui 7h", datetime(2026, 12, 2, 7, 0)),
        ("aujourd’hui, 07:15", datetime(2026, 12, 2, 7, 15)),
        ("avant-hier 6h", datetime(2026, 11, 30, 6, 0)),
        ("la veille 18h", datetime(2026, 11, 24, 18, 0)),  # the day before the reference (the mission's day)
        ("La veille au soir, 20h", None),  # words between the day and the time are not guessed
        ("le jour même 7h", datetime(2026, 11, 25, 7, 0)),
        ("le lendemain 19h", datetime(2026, 11, 26, 19, 0)),
    ],
    ids=repr,
)
def test_a_day_may_be_named_relative_to_today_or_to_the_mission(typed: str, at: datetime | None) -> None:
    reference, today = datetime(2026, 11, 25, 9, 0), datetime(2026, 12, 2).date()
    if at is None:
        with pytest.raises(InvalidInput):
            parse_moment(typed, reference=reference, today=today)
    else:
        assert parse_moment(typed, reference=reference, today=today) == at


def test_a_named_day_without_a_time_asks_for_the_time() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_moment("hier", reference=datetime(2026, 11, 25, 9, 0), today=datetime(2026, 12, 2).date())
    assert err.value.message.startswith("Heure manquante après la date « hier »")


def test_hier_is_not_read_inside_another_word() -> None:
    with pytest.raises(InvalidInput):
        parse_moment("hiere 18h", reference=datetime(2026, 11, 25, 9, 0), today=datetime(2026, 12, 2).date())


@pytest.mark.parametrize(
    ("typed", "at"),
    [
        ("25/11 vers 7h30", datetime(2026, 11, 25, 7, 30)),
        ("25/11/2026 7h30 environ", datetime(2026, 11, 25, 7, 30)),
        ("7h30 le 25/11", datetime(2026, 11, 25, 7, 30)),  # the time typed first
        ("à 7h le 25/11/2026", datetime(2026, 11, 25, 7, 0)),
        ("18h la veille", datetime(2026, 11, 24, 18, 0)),
        ("7 25/11", None),  # a bare number typed first is no time
    ],
    ids=repr,
)
def test_a_moment_typed_as_said(typed: str, at: datetime | None) -> None:
    reference = datetime(2026, 11, 25, 9, 0)
    if at is None:
        with pytest.raises(InvalidInput):
            parse_moment(typed, reference=reference)
    else:
        assert parse_moment(typed, reference=reference) == at


def test_vers_before_a_time_alone() -> None:
    departure = datetime(2026, 11, 25, 9, 0)
    assert parse_moment("vers 18h", reference=departure, day=departure) == datetime(2026, 11, 25, 18, 0)
    with pytest.raises(InvalidInput) as err:
        parse_moment("vers 18h", reference=departure)
    assert err.value.message == "Date manquante avant l'heure « vers 18h ». Exemple attendu : 25/11/2026 18:00"
