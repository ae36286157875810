"""French input parsing: worked examples, rejections with French messages, property round trips."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.french import format_amount, format_date, format_duration, format_time
from core.parsing import (
    MAX_AMOUNT,
    MAX_DURATION_MINUTES,
    parse_amount,
    parse_count,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_time,
)

untimed = settings(deadline=None)  # no timing in tests: the machine is shared and noisy

# --- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,50", "12.50"),
        ("12,50 €", "12.50"),
        ("12,50€", "12.50"),
        ("€12.50", "12.50"),
        ("12.50 EUR", "12.50"),
        ("EUR 12,50", "12.50"),
        ("12 euros", "12.00"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),
        ("1\u202f234,56 €", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("12", "12.00"),
        ("12.5", "12.50"),
        ("12 €", "12.00"),
        ("12€50", "12.50"),
        ("1 234 € 05", "1234.05"),
        ("12 EUR 50", "12.50"),
        ("12 euros 50", "12.50"),
        ("12 euros et 50 centimes", "12.50"),
        ("12€50 cts", "12.50"),
        ("12,50 € TTC", "12.50"),
        ("12,50 euros.", "12.50"),
        ("12,50 €uros", "12.50"),
        ("12, 50", "12.50"),  # a phone keyboard's space after the comma
        ("1 234 ,50 €", "1234.50"),
        ("  7,05  ", "7.05"),
        ("0", "0.00"),
        ("100000", "100000.00"),
        ("100 000,00 €", "100000.00"),
    ],
    ids=lambda v: repr(v) if isinstance(v, str) else None,
)
def test_parse_amount_accepts(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("12,5O €", "Exemple attendu : 12,50"),  # letter O typed for a zero: rejected, never repaired
        ("-12,50", "négatif"),
        ("12,505", "deux chiffres"),
        ("1.234", "deux chiffres"),  # a lone separator is decimal: three decimals, ambiguous
        ("100000,01", "maximum"),
        ("1 000 000", "maximum"),
        ("douze", "Exemple attendu"),
        ("12,50 € €", "Exemple attendu"),
        ("12 34,50", "Exemple attendu"),  # a group of two digits is not thousands grouping
        ("1,2,3", "Exemple attendu"),
        ("12€5", "Exemple attendu"),
        ("12 euros 5", "Exemple attendu"),
        ("12 euros 50 dollars", "Exemple attendu"),
        ("12 , 505", "Exemple attendu"),
        ("12,50 HT", "Exemple attendu"),  # the receipts' total is what was paid, taxes included
        ("12,30€50", "Exemple attendu"),
        ("€", "Exemple attendu"),
        ("", "manquant"),
        ("   ", "manquant"),
        ("\u0661\u0662", "Exemple attendu"),  # Arabic-Indic digits are not accepted
    ],
    ids=repr,
)
def test_parse_amount_rejects_with_french_message(text: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount(text)
    assert hint in err.value.message


def test_amount_message_quotes_input_and_example() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount("12,5O €")
    assert err.value.message == (
        "Montant invalide : « 12,5O € ». Il y a la lettre O à la place du chiffre 0 (zéro) : tapez « 12,50 ». "
        "Exemple attendu : 12,50 ou 12,50 €"
    )


def test_long_input_is_shortened_in_message() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount("x" * 500)
    assert len(err.value.message) < 150


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("1234.56", "1 234,56 €"), ("0.5", "0,50 €"), ("12", "12,00 €"), ("100000", "100 000,00 €"),
     ("1234567.891", "1 234 567,89 €"), ("-3.5", "-3,50 €"), ("999.995", "1 000,00 €")],
)  # fmt: skip
def test_format_amount(amount: str, shown: str) -> None:
    assert format_amount(Decimal(amount)) == shown


@untimed
@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False))
def test_amount_round_trip(value: Decimal) -> None:
    assert parse_amount(format_amount(value)) == value


# --- counts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("25", 25), ("0", 0), (" 7 ", 7), ("1 200", 1200), ("10000", 10000)])
def test_parse_count_accepts(text: str, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [("-3", "négatif"), ("3,5", "entier"), ("3.0", "entier"), ("12a", "chiffres"), ("douze", "chiffres"),
     ("10001", "maximum"), ("", "manquant")],
    ids=repr,
)  # fmt: skip
def test_parse_count_rejects(text: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_count(text)
    assert hint in err.value.message


# --- times ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8h", time(8, 0)), ("08:30", time(8, 30)), ("8h30", time(8, 30)), ("8 h 30", time(8, 30)),
     ("8H30", time(8, 30)), ("0830", time(8, 30)), ("830", time(8, 30)), ("8", time(8, 0)),
     ("23:59", time(23, 59)), ("00:00", time(0, 0)), ("midi", time(12, 0)), ("Minuit", time(0, 0)),
     ("18 heures 15", time(18, 15)), ("7h05min", time(7, 5))],
    ids=lambda v: repr(v) if isinstance(v, str) else None,
)  # fmt: skip
def test_parse_time_accepts(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [("25h70", "de 0 à 23"), ("24:00", "Minuit s'écrit 00:00"), ("12:60", "de 00 à 59"), ("8:5", "08:30"),
     ("8h3", "08:30"), ("huit heures", "08:30"), ("8.30", "08:30"), ("", "manquante"), ("-8h", "08:30")],
    ids=repr,
)  # fmt: skip
def test_parse_time_rejects(text: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_time(text)
    assert hint in err.value.message


@untimed
@given(st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_time_round_trip(value: time) -> None:
    assert parse_time(format_time(value)) == value


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("02/12/2022", date(2022, 12, 2)), ("2/12/22", date(2022, 12, 2)), ("02-12-2022", date(2022, 12, 2)),
     ("02.12.2022", date(2022, 12, 2)), ("2022-12-02", date(2022, 12, 2)), ("02/12", date(2024, 12, 2)),
     ("Le vendredi 02/12/2022", date(2022, 12, 2)), ("2 décembre 2022", date(2022, 12, 2)),
     ("1er déc. 2022", date(2022, 12, 1)), ("29/02/2024", date(2024, 2, 29)), ("15 aout", date(2024, 8, 15))],
    ids=lambda v: repr(v) if isinstance(v, str) else None,
)  # fmt: skip
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text, default_year=2024) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [("31/02/2023", "Le 31/02/2023 n'existe pas"), ("29/02/2023", "n'existe pas"),
     ("13/13/2022", "n'existe pas"), ("02/12-2022", "02/12/2022"), ("2/12/202", "02/12/2022"),
     ("02/12/1800", "l'année"),
     ("demain", "02/12/2022"), ("", "manquante")],
    ids=repr,
)  # fmt: skip
def test_parse_date_rejects(text: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_date(text, default_year=2024)
    assert hint in err.value.message


def test_date_without_year_needs_default_year() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_date("02/12")
    assert "Précisez l'année" in err.value.message


def test_parse_datetime_combines() -> None:
    assert parse_datetime("02/12/2022", "7h") == datetime(2022, 12, 2, 7, 0)


@untimed
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_date_round_trip(value: date) -> None:
    assert parse_date(format_date(value)) == value


# --- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("3", 180), ("3h", 180), ("3h30", 210), ("3 h 30", 210), ("3,5", 210), ("3.5 h", 210), ("210 min", 210),
     ("45 min", 45), ("0 h 45", 45), ("1h05", 65), ("3,25 heures", 195), ("2 heures 30", 150),
     ("1 h 30 min", 90), ("200h", 12000), ("0", 0), ("3:30", 210)],
    ids=lambda v: repr(v) if isinstance(v, str) else None,
)  # fmt: skip
def test_parse_duration_accepts(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("text", "hint"),
    [("25h70", "de 00 à 59"), ("-3", "négative"), ("201h", "maximum"), ("12001 min", "maximum"),
     ("3h5", "3h30"), ("3:", "3h30"), ("3:5", "3h30"), ("3,333", "3h30"), ("trois heures", "3h30"),
     ("", "manquante")],
    ids=repr,
)  # fmt: skip
def test_parse_duration_rejects(text: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_duration(text)
    assert hint in err.value.message


@pytest.mark.parametrize(("minutes", "shown"), [(210, "3 h 30"), (180, "3 h"), (45, "0 h 45"), (65, "1 h 05")])
def test_format_duration(minutes: int, shown: str) -> None:
    assert format_duration(minutes) == shown


@untimed
@given(st.integers(min_value=0, max_value=MAX_DURATION_MINUTES))
def test_duration_round_trip(minutes: int) -> None:
    assert parse_duration(format_duration(minutes)) == minutes


# --- robustness ----------------------------------------------------------------------------------

PARSERS = [parse_amount, parse_count, parse_time, parse_date, parse_duration]

# Text that looks like input: digits, separators, units and letters, plus arbitrary Unicode.
_INPUTISH = st.text(alphabet="0123456789 ,.:/-€hHeEuURrminO\u00a0\u202f", max_size=20)


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=40), _INPUTISH))
def test_parsers_raise_only_invalid_input(parser, text: str) -> None:
    try:
        parser(text)
    except InvalidInput as err:  # any other exception fails the test
        assert "Exemple attendu" in err.message


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
def test_parsers_reject_non_text(parser) -> None:
    with pytest.raises(InvalidInput):
        parser(None)
