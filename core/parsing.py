"""Parse and format what people type in French: amounts, counts, times, dates, durations.

Every parser is a pure function that returns a typed value or raises ``InvalidInput`` with a
French message quoting the input and giving an example of what is expected. Nothing is repaired
silently: a typo ("12,5O €") is rejected so that the user retypes it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import InvalidInput
from core.french import LOCAL_ZONE, format_amount, format_date, format_duration, format_number

MAX_AMOUNT = Decimal("100000.00")  # EUR: above this an amount is a typo, not an expense
MAX_COUNT = 10_000  # copies or candidates for one mission: the one limit (parsing and core.declarations)
MAX_DURATION_MINUTES = 200 * 60  # a duration line above 200 hours is a typo
MIN_YEAR, MAX_YEAR = 1900, 2100  # four-digit years accepted by parse_date

CENT = Decimal("0.01")
_QUOTED_MAX = 40  # characters of the user's input quoted back in a message

AMOUNT_EXAMPLE = "12,50 ou 12,50 €"
COUNT_EXAMPLE = "25"
TIME_EXAMPLE = "08:30 (ou 8h30)"
DATE_EXAMPLE = "02/12/2022"
DURATION_EXAMPLE = "3h30, 3,5 ou 210 min"
DISTANCE_EXAMPLE = "62"
DISTANCE_UNITS = ("km", "kms", "kilomètre", "kilomètres")
_APPROXIMATELY_RE = re.compile(r"^\s*(?:environ|env\.|à peu près|a peu pres|approx\.?|~|≈)\s*", re.IGNORECASE)
NONE_WORDS = frozenset({"aucun", "aucune", "zero", "rien"})  # a count of none, typed in words (without accents)

_MAX_INPUT = 100  # characters: no legitimate value is longer (and regexes stay cheap)
# Any run of whitespace, including the no-break (U+00A0), narrow no-break (U+202F) and thin (U+2009)
# spaces that word processors put inside numbers, becomes one normal space.
_SPACE_RE = re.compile(r"\s+")
_EURO = r"(?:€|eur(?:os?)?)"  # the currency as typed: €, eur, euro, euros
_EURO_CENTS_RE = re.compile(  # "12€50", "12 euros 50", "12 EUR 50 centimes"
    rf"(?P<units>[0-9][0-9 .]*?)\s*{_EURO}\s*(?:et\s+)?(?P<cents>[0-9]{{2}})(?:\s*(?:centimes?|cts?))?", re.IGNORECASE
)
_CURRENCY_RE = re.compile(rf"^{_EURO}\s*(?P<a>.*?)$|^(?P<b>.*?)\s*(?:€uros?|{_EURO})$", re.IGNORECASE)
# « 12 euros. », « 12,50 € TTC »; applied twice for « 12,50 € TTC. »
_AMOUNT_TAIL_RE = re.compile(r"(?<=[^\s0-9])\s*[.!]+$|\s*\bttc$", re.IGNORECASE)
_SPACED_DECIMALS_RE = re.compile(rf"(?<=[0-9])\s*,\s*(?=[0-9]{{1,2}}(?:\s*{_EURO})?$)", re.IGNORECASE)  # « 12, 50 »
_DIGITS_RE = re.compile(r"[0-9]+")
_DECORATION = frozenset({"So", "Sk", "Cf", "Me"})  # pictographs, modifier symbols, format characters, keycaps

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_WEEKDAY_ABBREVIATIONS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")  # « mer. 25/11 »
_WEEKDAY_PREFIX_RE = re.compile(r"(?:le\s+)?(?:(?P<w>" + "|".join(_WEEKDAYS + _WEEKDAY_ABBREVIATIONS) + r")\.?\s+)?")


def _quote(text: object) -> str:
    """The user's input, cleaned of control characters and shortened, for a message."""
    shown = "".join(" " if unicodedata.category(c).startswith("C") else c for c in str(text)).strip()
    if len(shown) > _QUOTED_MAX:
        shown = shown[: _QUOTED_MAX - 1] + "…"
    return f"« {shown} »"


def _without_decoration(text: str) -> str:
    """``text`` without emoji and other pictographs, their variation selectors and keycaps, and invisible format
    characters (zero-width space, joiners): « 120 👍 » is « 120 », « 1️⃣2️⃣ » is « 12 »."""
    return "".join(c for c in text if unicodedata.category(c) not in _DECORATION and not "\ufe00" <= c <= "\ufe0f")


def _require_text(text: object, missing: str, example: str) -> str:
    """The text without decoration (emoji, invisible characters) and with every kind of space made a single
    normal space; ``missing`` when blank."""
    plain = _SPACE_RE.sub(" ", _without_decoration(text)).strip() if isinstance(text, str) else ""
    if not plain:
        raise InvalidInput(f"{missing}. Exemple attendu : {example}")
    if len(str(text)) > _MAX_INPUT:
        raise InvalidInput(f"Saisie trop longue : {_quote(text)}. Exemple attendu : {example}")
    return plain


# --- amounts -------------------------------------------------------------------------------------


def parse_amount(text: str) -> Decimal:
    """Parse a euro amount ("12,50", "1 234,56 €", "€12.50", "1,234.56", "12€50", "12 euros 50") into a Decimal.

    A single separator is the decimal separator; with both "." and ",", the last one is.
    Rejects negatives, letters, more than 2 decimals and amounts above ``MAX_AMOUNT``.
    """
    s = _require_text(text, "Montant manquant", AMOUNT_EXAMPLE)
    invalid = f"Montant invalide : {_quote(text)}. Exemple attendu : {AMOUNT_EXAMPLE}"
    s = _SPACED_DECIMALS_RE.sub(",", _AMOUNT_TAIL_RE.sub("", _AMOUNT_TAIL_RE.sub("", s)))
    if match := _EURO_CENTS_RE.fullmatch(s):
        s = f"{match.group('units')},{match.group('cents')}"
    elif match := _CURRENCY_RE.match(s):
        s = (match.group("a") if match.group("a") is not None else match.group("b")).strip()
    if s.startswith("-"):
        raise InvalidInput(
            f"Montant invalide : {_quote(text)}. Un montant ne peut pas être négatif. "
            f"Exemple attendu : {AMOUNT_EXAMPLE}"
        )
    value = _parse_decimal_number(s)
    if value is None:
        _letter_for_digit(s, text, "Montant invalide", AMOUNT_EXAMPLE)
        raise InvalidInput(invalid)
    exponent = value.as_tuple().exponent  # an int for a finite number
    if not isinstance(exponent, int) or exponent < -2:
        raise InvalidInput(
            f"Montant invalide : {_quote(text)}. Indiquez au plus deux chiffres après la virgule "
            f"(centimes). Exemple attendu : {AMOUNT_EXAMPLE}"
        )
    if value > MAX_AMOUNT:
        raise InvalidInput(
            f"Montant trop élevé : {_quote(text)}. Le maximum accepté est {format_amount(MAX_AMOUNT)} ; "
            f"vérifiez la saisie. Exemple attendu : {AMOUNT_EXAMPLE}"
        )
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _parse_decimal_number(s: str) -> Decimal | None:
    """Digits with optional thousands grouping and decimal separator; None when malformed."""
    if not s or not s[0].isascii() or not s[0].isdigit():
        return None
    has_dot, has_comma = "." in s, "," in s
    if has_dot and has_comma:
        decimal_sep = "." if s.rfind(".") > s.rfind(",") else ","
        group_seps = " " + ("," if decimal_sep == "." else ".")
    elif has_dot or has_comma:
        sep = "." if has_dot else ","
        if s.count(sep) == 1:
            decimal_sep, group_seps = sep, " "
        else:  # "1.234.567": the separator repeats, so it groups thousands
            decimal_sep, group_seps = "", " " + sep
    else:
        decimal_sep, group_seps = "", " "
    if decimal_sep:
        int_part, _, frac = s.rpartition(decimal_sep)
        if not frac or not frac.isascii() or not frac.isdigit():
            return None
    else:
        int_part, frac = s, ""
    digits = _ungroup(int_part, group_seps)
    if digits is None:
        return None
    try:
        return Decimal(f"{digits}.{frac}" if frac else digits)
    except InvalidOperation:  # pragma: no cover - the checks above leave only ASCII digits
        return None


def _ungroup(int_part: str, group_seps: str) -> str | None:
    """ "1 234" / "1.234" -> "1234"; None unless groups of three follow a 1-3 digit head."""
    if _DIGITS_RE.fullmatch(int_part):
        return int_part
    used = {c for c in int_part if not (c.isascii() and c.isdigit())}
    if len(used) != 1 or not used <= set(group_seps):
        return None
    groups = int_part.split(used.pop())
    if not (1 <= len(groups[0]) <= 3) or not all(_DIGITS_RE.fullmatch(g) for g in groups):
        return None
    if any(len(g) != 3 for g in groups[1:]):
        return None
    return "".join(groups)


_LETTER_DIGITS = {"o": "0", "O": "0"}  # letters typed for the digit they look like
_LETTER_NEXT_TO_DIGIT_RE = re.compile(r"(?<=[0-9.,])[oO]|[oO](?=[0-9.,])")


def _letter_for_digit(s: str, text: str, what: str, example: str) -> None:
    """Raise a message naming the letter O typed where a 0 (zero) should be ("12,5O"), if that is the typo."""
    if not _LETTER_NEXT_TO_DIGIT_RE.search(s):
        return
    fixed = "".join(_LETTER_DIGITS.get(c, c) for c in s)
    if _parse_decimal_number(fixed) is None:
        return
    letters = sorted({c for c in s if c in _LETTER_DIGITS})
    raise InvalidInput(
        f"{what} : {_quote(text)}. Il y a la lettre {' ou '.join(letters)} à la place du chiffre 0 (zéro) : "
        f"tapez {_quote(fixed)}. Exemple attendu : {example}"
    )


# --- counts --------------------------------------------------------------------------------------


def parse_count(text: str, *, units: tuple[str, ...] = (), example: str = COUNT_EXAMPLE) -> int:
    """Parse a whole number of copies or candidates ("25", "1 200"), 0 to ``MAX_COUNT``.

    One of the question's ``units`` ("copies", "km") may follow the number ("95 copies"); a word for none
    ("aucune", "zéro") is 0. ``example`` is the one shown in messages (the question's own).
    """
    s = _require_text(text, "Nombre manquant", example)
    s = _without_unit(s, units)
    if _strip_accents(s).lower() in NONE_WORDS:
        return 0
    if s.startswith("-"):
        raise InvalidInput(
            f"Nombre invalide : {_quote(text)}. Un nombre ne peut pas être négatif. Exemple attendu : {example}"
        )
    digits = _ungroup(s, " ")
    if digits is None:
        if re.fullmatch(r"[0-9 ]+[.,][0-9]+", s):
            raise InvalidInput(
                f"Nombre invalide : {_quote(text)}. Indiquez un nombre entier, sans virgule. "
                f"Exemple attendu : {example}"
            )
        raise InvalidInput(
            f"Nombre invalide : {_quote(text)}. Indiquez un nombre entier en chiffres. Exemple attendu : {example}"
        )
    value = int(digits)
    if value > MAX_COUNT:
        raise InvalidInput(
            f"Nombre trop élevé : {_quote(text)}. Le maximum accepté est {format_number(MAX_COUNT)} ; "
            f"vérifiez la saisie. Exemple attendu : {example}"
        )
    return value


def parse_distance(text: str, *, example: str = DISTANCE_EXAMPLE) -> int:
    """A distance in whole kilometres, "62" or "62 km"; an estimate ("environ 1500 km", "~60") is that number."""
    return parse_count(_APPROXIMATELY_RE.sub("", text, count=1), units=DISTANCE_UNITS, example=example)


def _without_unit(s: str, units: tuple[str, ...]) -> str:
    """``s`` without one of ``units`` after its number ("95 copies", "62km"), compared without case or accents."""
    plain = _strip_accents(s).lower()
    for unit in sorted(units, key=len, reverse=True):
        word = _strip_accents(unit).lower()
        if plain.endswith(word) and len(plain) > len(word) and not plain[-len(word) - 1].isalpha():
            return s[: -len(word)].strip()
    return s


# --- times ---------------------------------------------------------------------------------------

_TIME_RE = re.compile(
    r"(?P<h>[0-9]{1,2})\s*(?::|h|heures?)\s*(?:(?P<m>[0-9]{2})\s*(?:min|mn)?)?"
    r"|(?P<hh>[0-9]{1,2})(?P<mm>[0-9]{2})"
    r"|(?P<bare>[0-9]{1,2})",
    re.IGNORECASE,
)


_FRACTION_RE = re.compile(r"^(?P<head>.*?(?:h|heures?|midi|minuit))\s+et\s+(?P<part>demie?|quart)$", re.IGNORECASE)
_HOURS_OF = {"midi": "12h", "minuit": "0h"}


def _with_fraction(s: str) -> str:
    """« 6 heures et demie » -> « 6 heures 30 », « 7h et quart » -> « 7h 15 », « midi et demi » -> « 12h 30 »."""
    match = _FRACTION_RE.fullmatch(s)
    if match is None:
        return s
    head = match.group("head")
    minutes = "15" if match.group("part").lower() == "quart" else "30"
    return f"{_HOURS_OF.get(head.lower(), head)} {minutes}"


_AROUND_RE = re.compile(r"^(?:à|a|vers)\s+|\s+environ$", re.IGNORECASE)  # « vers 18h », « à 7h », « 18h environ »


def parse_time(text: str) -> time:
    """Parse a time of day: "8h", "08:30", "8h30", "8 h 30", "0830", "midi", "minuit", "vers 18h"."""
    s = _with_fraction(_AROUND_RE.sub("", _require_text(text, "Heure manquante", TIME_EXAMPLE).lower()))
    if s == "midi":
        return time(12, 0)
    if s == "minuit":
        return time(0, 0)
    match = _TIME_RE.fullmatch(s)
    if not match:
        raise InvalidInput(f"Heure invalide : {_quote(text)}. Exemple attendu : {TIME_EXAMPLE}")
    hour = int(match.group("h") or match.group("hh") or match.group("bare"))
    minute = int(match.group("m") or match.group("mm") or 0)
    if hour == 24 and minute == 0:
        raise InvalidInput(f"Heure invalide : {_quote(text)}. Minuit s'écrit 00:00. Exemple attendu : {TIME_EXAMPLE}")
    if hour > 23 or minute > 59:
        raise InvalidInput(
            f"Heure invalide : {_quote(text)}. Les heures vont de 0 à 23 et les minutes de 00 à 59. "
            f"Exemple attendu : {TIME_EXAMPLE}"
        )
    return time(hour, minute)


# --- dates ---------------------------------------------------------------------------------------

_NUMERIC_DATE_RE = re.compile(r"(?P<d>[0-9]{1,2})\s*([/.-])\s*(?P<m>[0-9]{1,2})(?:\s*\2\s*(?P<y>[0-9]{2}|[0-9]{4}))?")
_ISO_DATE_RE = re.compile(r"(?P<y>[0-9]{4})([/.-])(?P<m>[0-9]{1,2})\2(?P<d>[0-9]{1,2})")
_WORDS_DATE_RE = re.compile(r"(?P<d>[0-9]{1,2})(?:er)?\s+(?P<month>[a-z]+)\.?(?:\s+(?P<y>[0-9]{4}))?")


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def parse_date(text: str, *, default_year: int | None = None) -> date:
    """Parse a French date: "02/12/2022", "2/12/22", "02-12-2022", "2022-12-02", "2 décembre 2022",
    "le vendredi 02/12/2022"; "02/12" takes ``default_year`` (the year is asked for otherwise)."""
    s = _strip_accents(_require_text(text, "Date manquante", DATE_EXAMPLE)).lower()
    named = _WEEKDAY_PREFIX_RE.match(s)  # every part optional: it always matches
    assert named is not None
    weekday, s = named["w"], s[named.end() :].strip()
    invalid = f"Date invalide : {_quote(text)}. Exemple attendu : {DATE_EXAMPLE}"
    if match := _ISO_DATE_RE.fullmatch(s):
        year_text, month = match.group("y"), int(match.group("m"))
    elif match := _NUMERIC_DATE_RE.fullmatch(s):
        year_text, month = match.group("y"), int(match.group("m"))
    elif (match := _WORDS_DATE_RE.fullmatch(s)) and match.group("month") in _MONTHS:
        year_text, month = match.group("y"), _MONTHS[match.group("month")]
    else:
        raise InvalidInput(invalid)
    day = int(match.group("d"))
    if year_text is None:
        if default_year is None:
            raise InvalidInput(f"Date incomplète : {_quote(text)}. Précisez l'année. Exemple attendu : {DATE_EXAMPLE}")
        year = default_year
    elif len(year_text) == 2:
        year = 2000 + int(year_text)
    else:
        year = int(year_text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(f"Date invalide : {_quote(text)}. Vérifiez l'année. Exemple attendu : {DATE_EXAMPLE}")
    try:
        found = date(year, month, day)
    except ValueError:
        raise InvalidInput(
            f"Date invalide : {_quote(text)}. Le {day:02d}/{month:02d}/{year} n'existe pas. "
            f"Exemple attendu : {DATE_EXAMPLE}"
        ) from None
    if weekday is not None and _weekday_index(weekday) != found.weekday():
        raise InvalidInput(
            f"Date incohérente : {_quote(text)}. Le {format_date(found)} est un {_WEEKDAYS[found.weekday()]}, "
            f"pas un {_WEEKDAYS[_weekday_index(weekday)]} : vérifiez le jour. Exemple attendu : {DATE_EXAMPLE}"
        )
    return found


def _weekday_index(word: str) -> int:
    """Monday 0 to Sunday 6, from a weekday's name or abbreviation (accents off, lower case)."""
    return _WEEKDAYS.index(word) if word in _WEEKDAYS else _WEEKDAY_ABBREVIATIONS.index(word)


def parse_datetime(date_text: str, time_text: str, *, default_year: int | None = None) -> datetime:
    """A date and a time typed separately, combined into a naive local datetime."""
    return datetime.combine(parse_date(date_text, default_year=default_year), parse_time(time_text))


def moment_example(day: datetime) -> str:
    """An example of a date and time to type, on ``day`` (the mission's, so it reads as a likely answer)."""
    return f"{format_date(day)} 07:30"


_MOMENT_SEP_RE = re.compile(r"\s*[,;]\s*|\s+(?:à|vers|[-–—])\s+", re.IGNORECASE)  # between the date and the time
# a day named relative to today ("hier 18h") or to the reference ("la veille 18h": the day before the mission)
_RELATIVE_DAY_RE = re.compile(
    r"^(?P<word>aujourd['’ ]?hui|avant[- ]hier|hier|demain|la veille|le lendemain|le jour m[eê]me|le m[eê]me jour)\b",
    re.IGNORECASE,
)
_RELATIVE_DAYS = {  # the phrase without accents, spaces or punctuation: (counted from today?, days)
    "aujourdhui": (True, 0), "hier": (True, -1), "avanthier": (True, -2), "demain": (True, 1),
    "laveille": (False, -1), "lelendemain": (False, 1), "lejourmeme": (False, 0), "lememejour": (False, 0),
}  # fmt: skip


def _relative_day(s: str, reference: datetime, today: date | None) -> str:
    """``s`` with a leading relative day ("hier", "la veille", "le lendemain") replaced by its date."""
    match = _RELATIVE_DAY_RE.match(s)
    if match is None:
        return s
    from_today, offset = _RELATIVE_DAYS[re.sub(r"[^a-z]", "", _strip_accents(match["word"].lower()))]
    base = (today or datetime.now(LOCAL_ZONE).date()) if from_today else reference.date()
    day = base + timedelta(days=offset)
    return f"{format_date(day)}{s[match.end() :]}"


def parse_moment(text: str, *, reference: datetime, day: datetime | None = None, today: date | None = None) -> datetime:
    """A date and time typed together ("02/12/2022 07:30", "2 décembre 7h30", "02/12/2022, 7h30", "2/12 à 7h"), in
    the year of ``reference`` unless typed; a time alone takes the date of ``day``. The day may be named: "hier",
    "aujourd'hui" (from ``today``, the local date by default), "la veille", "le lendemain", "le jour même" (from
    ``reference``: the mission's start for a departure, the departure for a return or an arrival).

    When it fails, the message names what is wrong ("25h70": the minutes; "31/02/2026": that day does not
    exist) rather than the whole answer.
    """
    example = moment_example(day or reference)
    s = _relative_day(_require_text(text, "Date et heure manquantes", example), reference, today)
    words = _MOMENT_SEP_RE.sub(" ", s).split()
    precise: InvalidInput | None = None
    if day is not None or len(words) == 1:
        try:
            moment_time = parse_time(" ".join(words))
            if day is not None:
                moment = datetime.combine(day.date(), moment_time)
                if " ".join(words).lower() == "minuit" and moment < day:  # after a start that day: its end
                    moment += timedelta(days=1)
                return moment
        except InvalidInput as exc:
            if not any(c in s for c in "/-.") and any(c.isdigit() for c in s):
                precise = exc  # a time alone ("25h70"): say what is wrong with it
    for cut in range(len(words) - 1, 0, -1):
        date_text, time_text = " ".join(words[:cut]), " ".join(words[cut:])
        try:
            moment_date = parse_date(date_text, default_year=reference.year)
        except InvalidInput as exc:
            if precise is None and _is_time(time_text) and any(c.isdigit() for c in date_text):
                precise = exc  # the time reads well: the date is what is wrong ("31/02/2026")
            continue
        try:
            return datetime.combine(moment_date, parse_time(time_text))
        except InvalidInput as exc:
            precise = precise or exc  # the date reads well: the time is what is wrong
    if (reversed_moment := _time_then_date(words, reference, today)) is not None:
        return reversed_moment
    if precise is None and len(words) == 1:
        try:
            parse_date(words[0], default_year=reference.year)
        except InvalidInput as exc:
            precise = exc if any(c in s for c in "/-.") else None
        else:
            raise InvalidInput(f"Heure manquante après la date {_quote(text)}. Exemple attendu : {example}")
    if precise is not None:
        raise InvalidInput(f"{precise.message.rsplit(' Exemple attendu', 1)[0]} Exemple attendu : {example}")
    if _is_time(" ".join(words)):  # a time alone where no day is implied: the example takes that time
        typed = parse_time(" ".join(words))
        raise InvalidInput(
            f"Date manquante avant l'heure {_quote(text)}. Exemple attendu : {format_date(reference)} {typed:%H:%M}"
        )
    raise InvalidInput(
        f"Date et heure invalides : {_quote(text)}. Indiquez la date puis l'heure. Exemple attendu : {example}"
    )


def _time_then_date(words: list[str], reference: datetime, today: date | None) -> datetime | None:
    """The moment when the time is typed before the date (« 7h30 le 25/11 », « 18h la veille »); None otherwise."""
    for cut in range(1, len(words)):
        if words[cut - 1].isdigit():  # a bare number is no time here (« 7 25/11 »)
            continue
        try:
            at = parse_time(" ".join(words[:cut]))
            day_text = _relative_day(" ".join(words[cut:]), reference, today)
            return datetime.combine(parse_date(day_text, default_year=reference.year), at)
        except InvalidInput:
            continue
    return None


def _is_time(text: str) -> bool:
    try:
        parse_time(text)
    except InvalidInput:
        return False
    return True


# --- durations -----------------------------------------------------------------------------------

_DURATION_HM_RE = re.compile(
    r"(?P<h>[0-9]{1,4})\s*(?:h|heures?|:(?=\s*[0-9]))\s*(?:(?P<m>[0-9]{2})\s*(?:min|mn|minutes?)?)?",
    re.IGNORECASE,
)
_DURATION_MIN_RE = re.compile(r"(?P<m>[0-9]{1,6})\s*(?:min|mn|minutes?)", re.IGNORECASE)
_DURATION_DECIMAL_RE = re.compile(r"(?P<h>[0-9]{1,4})(?:[.,](?P<f>[0-9]{1,2}))?\s*(?:h|heures?)?", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """Parse a duration in hours into minutes: "3", "3h", "3h30", "3:30", "3,5", "3.5 h", "210 min".

    Decimal hours are rounded to the minute. Rejects minutes above 59 ("25h70"), negatives and
    durations above ``MAX_DURATION_MINUTES``.
    """
    s = _with_fraction(_require_text(text, "Durée manquante", DURATION_EXAMPLE))
    if s.startswith("-"):
        raise InvalidInput(
            f"Durée invalide : {_quote(text)}. Une durée ne peut pas être négative. "
            f"Exemple attendu : {DURATION_EXAMPLE}"
        )
    if match := _DURATION_MIN_RE.fullmatch(s):
        minutes = int(match.group("m"))
    elif match := _DURATION_HM_RE.fullmatch(s):
        extra = int(match.group("m") or 0)
        if extra > 59:
            raise InvalidInput(
                f"Durée invalide : {_quote(text)}. Les minutes vont de 00 à 59. Exemple attendu : {DURATION_EXAMPLE}"
            )
        minutes = int(match.group("h")) * 60 + extra
    elif match := _DURATION_DECIMAL_RE.fullmatch(s):
        hours = Decimal(f"{match.group('h')}.{match.group('f') or '0'}")
        minutes = int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        raise InvalidInput(f"Durée invalide : {_quote(text)}. Exemple attendu : {DURATION_EXAMPLE}")
    if minutes > MAX_DURATION_MINUTES:
        raise InvalidInput(
            f"Durée trop longue : {_quote(text)}. Le maximum accepté est "
            f"{format_duration(MAX_DURATION_MINUTES)} ; vérifiez la saisie. "
            f"Exemple attendu : {DURATION_EXAMPLE}"
        )
    return minutes


# --- choices typed instead of tapped -------------------------------------------------------------

YES_WORDS = frozenset(
    {"oui", "ouais", "yes", "ok", "okay", "exact", "bien sur", "tout a fait", "absolument", "oui oui"}
)
NO_WORDS = frozenset({"non", "no", "nan", "non non", "pas du tout"})
_WORD_RE = re.compile(r"[0-9a-z]+")


def choice_words(text: str) -> tuple[str, ...]:
    """The words of a typed answer or of a button's label, without case, accents, punctuation or emoji; a yes or
    a no in any of its usual forms ("Oui.", "ouais", "Non !") is the single word "oui" or "non"."""
    words = tuple(_WORD_RE.findall(_strip_accents(text[:_MAX_INPUT]).lower()))
    phrase = " ".join(words)
    if phrase in YES_WORDS:
        return ("oui",)
    if phrase in NO_WORDS:
        return ("non",)
    return words


def pick_choice(text: str, labels: list[str], *, whole: bool = False) -> int | None:
    """The index of the one label that ``text`` names, None when it names none or several.

    Tried in turn, the first that names any label deciding: the label's very words; their beginning (« oui »
    names « ✅ Oui, effectuée », « train » « Train, car ou transport en commun »); words inside it (« par e-mail »
    names « 📧 Je les enverrai par e-mail », « DEMO-101 » a mission's line); a yes or a no beginning the answer
    (« Oui, je l'ai faite »). ``whole``: the screen also takes a typed answer, so only the very words, words
    inside a label when no digit is typed (« sais pas »), and a yes or a no count."""
    typed = choice_words(text)
    if not typed:
        return None
    first = choice_words(typed[0])
    known = [choice_words(label) for label in labels]
    tiers = [lambda w: w == typed]
    if not whole:
        tiers.append(lambda w: w[: len(typed)] == typed)
    if not whole or not any(c.isdigit() for c in text):
        tiers.append(lambda w: _contains(w, typed))
    if first in (("oui",), ("non",)):
        tiers.append(lambda w: w[:1] == first)
    for names in tiers:
        named = [i for i, words in enumerate(known) if words and names(words)]
        if named:
            return named[0] if len(named) == 1 else None
    return None


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """``part`` appears in ``words``, its words together and in order."""
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))
