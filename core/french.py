"""French display of dates, times, amounts, quantities, durations and sizes: the one formatter (babel).

Every user-facing text (chat, e-mail, console, PDF, CSV) formats through these functions. Spaces are plain
spaces (babel's narrow no-break spaces are folded), so texts compare and copy as typed. Timestamps the service
records (``utcnow()``: naive UTC) are shown in the académie's time zone with :func:`format_timestamp`;
mission and trip times are already local and are shown as they are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from math import ceil
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers

LOCALE = "fr_FR"
LOCAL_ZONE = ZoneInfo("Europe/Paris")
CENT = Decimal("0.01")
_PLAIN = str.maketrans({"\u202f": " ", "\xa0": " "})


# babel's date formatting costs tens of microseconds; the same dates recur (every screen shows its mission's)
_DATE_CACHE = lru_cache(maxsize=4096)


def _plain(text: str) -> str:
    return text.translate(_PLAIN)


@lru_cache(maxsize=4096)  # babel's currency formatting costs tens of microseconds; the same amounts recur
def format_amount(amount: Decimal | int | float | str) -> str:
    """``Decimal("1234.56")`` -> ``"1 234,56 €"``."""
    value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    return _plain(babel_numbers.format_currency(value, "EUR", locale=LOCALE))


def format_number(value: Decimal | int | float, decimals: int | None = None) -> str:
    """``Decimal("1.5")`` -> ``"1,5"``; ``decimals`` fixes the number of decimals."""
    number = Decimal(str(value))
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
        return _plain(babel_numbers.format_decimal(number, format=pattern, locale=LOCALE))
    return _plain(babel_numbers.format_decimal(number.normalize(), locale=LOCALE, decimal_quantization=False))


def format_quantity(quantity: Decimal | int, unit: str) -> str:
    """« 95 copies », « 1,5 heure », « 12 km »: French decimal comma, plural from 2 on."""
    number = Decimal(quantity)
    if number >= 2 and unit[-1:] not in ("s", "x", "z") and unit != "km":
        unit += "s"
    return f"{format_number(number)} {unit}"


@_DATE_CACHE
def format_date(value: date) -> str:
    """``date(2022, 12, 2)`` -> ``"02/12/2022"``."""
    return babel_dates.format_date(value, "dd/MM/yyyy", locale=LOCALE)


def format_day_month(value: date) -> str:
    """``date(2022, 12, 2)`` -> ``"02/12"`` (a chart's axis)."""
    return babel_dates.format_date(value, "dd/MM", locale=LOCALE)


def format_long_date(value: date) -> str:
    """``date(2022, 12, 2)`` -> ``"vendredi 2 décembre 2022"``."""
    return babel_dates.format_date(value, "EEEE d MMMM y", locale=LOCALE)


@_DATE_CACHE
def format_weekday_date(value: date) -> str:
    """``date(2022, 12, 2)`` -> ``"vendredi 02/12/2022"``."""
    return babel_dates.format_date(value, "EEEE dd/MM/yyyy", locale=LOCALE)


@_DATE_CACHE
def format_time(value: time | datetime) -> str:
    """``time(8, 30)`` -> ``"08:30"``."""
    return babel_dates.format_time(value, "HH:mm", locale=LOCALE)


@_DATE_CACHE
def format_datetime(value: datetime) -> str:
    """A local (mission, trip) date and time: ``"02/12/2022 08:30"``."""
    return babel_dates.format_datetime(value, "dd/MM/yyyy HH:mm", locale=LOCALE)


def format_at(value: datetime) -> str:
    """A local date and time in a sentence: ``"02/12/2022 à 08:30"``."""
    return f"{format_date(value)} à {format_time(value)}"


def format_moment(value: datetime | None) -> str:
    """Like :func:`format_datetime`, with ``"—"`` for an answer not given yet."""
    return "—" if value is None else format_datetime(value)


def to_local(value: datetime) -> datetime:
    """A recorded timestamp (naive UTC, or aware) in the académie's time zone, naive."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_ZONE).replace(tzinfo=None)


def format_timestamp(value: datetime) -> str:
    """A timestamp the service recorded (naive UTC) shown in local time: ``"02/12/2022 09:30"``."""
    return format_datetime(to_local(value))


def format_duration(minutes: int) -> str:
    """``210`` -> ``"3 h 30"``, ``180`` -> ``"3 h"``, ``45`` -> ``"0 h 45"``."""
    hours, rest = divmod(int(minutes), 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def format_size(size: int) -> str:
    """A file size in French units with a decimal comma: ``"62,2 Ko"``, ``"5,2 Mo"``, ``"5 Mo"``, ``"812 octets"``."""
    if size < 1024:
        return f"{size} octet{'s' if size > 1 else ''}"
    for unit, scale in (("Ko", 1024), ("Mo", 1024**2), ("Go", 1024**3)):
        if size < scale * 1024 or unit == "Go":
            value = Decimal(size) / scale
            return f"{format_number(value, 0 if value == value.to_integral_value() else 1)} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def format_wait(seconds: float) -> str:
    """A wait in words, rounded up to the second: ``45`` -> ``"45 secondes"``, ``250`` -> ``"4 minutes"``."""
    return _plain(babel_dates.format_timedelta(timedelta(seconds=ceil(seconds)), threshold=1, locale=LOCALE))
