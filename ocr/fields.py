"""Everything a receipt states beyond its total: date, currency, merchant, kind, and a ticket's trip."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ocr.dates import best_date, find_dates, normalize
from ocr.kinds import guess_kind
from ocr.merchant import find_merchant

TICKET_KINDS = ("train", "coach", "plane")

# Currency marks beyond the symbols the total extraction knows, then the country a receipt shows.
_CURRENCY_MARKS = {
    "EUR": r"\d\s?€|€\s?\d|\bEUR(?:OS?)?\b|\bEURO\b",
    "GBP": r"£\s?\d|\bGBP\b|\bPOUNDS?\s+STERLING\b",
    "CHF": r"\bCHF\b|\bSFR\.?\s?\d|\bFR\.\s?\d",
    "USD": r"\bUSD\b|\bUS\s?\$",
    "MYR": r"\bRM\s?\d|\bMYR\b|\bRINGGIT\b",
    "SGD": r"\bSGD\b|\bS\$",
}
_COUNTRY_HINTS = {
    "EUR": r"\bSIRET\b|\bSIREN\b|\bTVA\b|\bMWST\b|\bUST\b|\bTTC\b|\bRCS\b|\bSUMME\b|\bZU ZAHLEN\b|\bIVA\b|\bBTW\b",
    "MYR": r"\bSDN\.?\s?BHD\b|\bMALAYSIA\b|\bJALAN\b|\bJLN\b|\bSELANGOR\b|\bJOHOR\b|\bKUALA LUMPUR\b",
    "GBP": r"\bVAT REG\b|\bLONDON\b|\bUNITED KINGDOM\b",
    "CHF": r"\bSUISSE\b|\bSCHWEIZ\b|\bMWST-NR\b|\bCHE-\d",
}

_TIME = r"(?:\d{1,2}\s?[H:]\s?\d{2})"
_ARROW = r"(?:->|→|—>|=>|>|»|⇒|\bA\b|\bTO\b|\bNACH\b|\bVERS\b)"
_FROM_TO = re.compile(
    rf"(?:^|\b)(?:DE|FROM|VON|DEPART|ABFAHRT|TRAJET|ALLER|RETOUR|STRECKE|ROUTE|HINFAHRT|RUCKFAHRT|FAHRT|OUTWARD|RETURN|JOURNEY)\s*:?\s+(?:{_TIME}\s+)?"
    rf"(?P<a>[A-Z][A-Z'() .\-]{{1,40}}?)\s*{_ARROW}\s*:?\s*(?:{_TIME}\s+)?(?P<b>[A-Z][A-Z'() .\-]{{1,40}})$"
)
_STATION_ARROW = re.compile(r"^(?P<a>[A-Z][A-Z' .\-]{1,40}?)\s*(?:->|→|—>|=>|>|»|⇒)\s*(?P<b>[A-Z][A-Z' .\-]{1,40})$")
_DEPART = re.compile(
    rf"^(?:DEPART|DEPARTURE|ABFAHRT|DE|FROM|VON|AB)\b\s*:?\s*(?:LE\s+\S+\s+)?(?:A\s+)?(?:{_TIME}\s*)?(?P<c>[A-Z].*)$"
)
_ARRIVE = re.compile(
    rf"^(?:ARRIVEE|ARRIVAL|ANKUNFT|A|TO|NACH|AN)\b\s*:?\s*(?:LE\s+\S+\s+)?(?:A\s+)?(?:{_TIME}\s*)?(?P<c>[A-Z].*)$"
)
_TIMED_STATION = re.compile(rf"^{_TIME}\s+(?P<c>[A-Z][A-Z' .\-]{{2,40}})$")
_TRAVEL_WORDS = re.compile(
    r"ALLER|RETOUR|DEPART|VOYAGE|TRAVEL|HINFAHRT|RUCKFAHRT|FAHRT|GULTIG AM|TRAJET|JOURNEY|OUTWARD"
)
_NOT_CITY = re.compile(r"\b(LE|DU|AM|ON)\s+\d|\d{1,2}[/.]\d{1,2}|\bVOITURE\b|\bPLACE\b|\bCLASSE\b|\bCOACH\b|\bWAGEN\b")


@dataclass(frozen=True)
class TicketTrip:
    """Where a ticket goes from and to, as printed (a station name often begins with its city), and when."""

    from_city: str | None = None
    to_city: str | None = None
    travel_date: date | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: the travel date ISO."""
        return {
            "from_city": self.from_city,
            "to_city": self.to_city,
            "travel_date": None if self.travel_date is None else self.travel_date.isoformat(),
        }


@dataclass(frozen=True)
class Fields:
    """What a receipt states besides its total."""

    date: date | None = None
    currency: str | None = None
    merchant: str | None = None
    kind: str | None = None
    kind_confidence: float = 0.0
    trip: TicketTrip | None = None


def find_currency(text: str) -> str | None:
    """The currency from its marks (€, £, CHF, RM...), else from the country the receipt shows (SIRET, MwSt:
    euros; SDN BHD: ringgit); None if nothing tells."""
    upper = normalize(text)
    for table in (_CURRENCY_MARKS, _COUNTRY_HINTS):
        counts = {
            cur: len(re.findall(pattern, upper if table is _COUNTRY_HINTS else text.upper()))
            for cur, pattern in table.items()
        }
        best = max(counts, key=lambda k: counts[k])
        if counts[best]:
            return best
    return None


def settle_currency(read_with_total: str | None, found: str | None) -> str | None:
    """The currency read with the total, unless there is none or it is a bare dollar sign ($ is also the
    Singapore, Canadian... dollar, and some Malaysian tills print it) and the receipt shows another currency."""
    if read_with_total in (None, "USD") and found is not None:
        return found
    return read_with_total


def _city(raw: str) -> str | None:
    city = re.sub(rf"\s*{_TIME}.*$", "", raw)  # "LYON PART DIEU 10H14 VOITURE 3" -> "LYON PART DIEU"
    city = re.split(r"\s{2,}|\s[-|:]\s|\s\(", city)[0].strip(" .-:'")
    if _NOT_CITY.search(city) or sum(ch.isalpha() for ch in city) < 3:
        return None
    return city


def find_trip(text: str, travel_date: date | None = None) -> TicketTrip | None:
    """Departure and arrival of a ticket: "PARIS > LYON", "De PARIS à LYON", "Départ 08h12 PARIS" then "Arrivée
    10h14 LYON", or two lines beginning with times; the date printed on a travel line ("Aller le ...")."""
    lines = [(raw.strip(), normalize(raw.strip())) for raw in text.splitlines() if raw.strip()]
    start: str | None = None
    end: str | None = None
    for i, (raw, upper) in enumerate(lines):
        if m := _FROM_TO.search(upper) or _STATION_ARROW.search(upper):
            a, b = _city(raw[m.start("a") : m.end("a")]), _city(raw[m.start("b") : m.end("b")])
            if a and b:
                start, end = a, b
                break
        if start is None and (m := _DEPART.match(upper)):
            start = _city(raw[m.start("c") :])
        elif start is not None and end is None and (m := _ARRIVE.match(upper)):
            end = _city(raw[m.start("c") :])
        if start is None and (m := _TIMED_STATION.match(upper)) and i + 1 < len(lines):
            if n := _TIMED_STATION.match(lines[i + 1][1]):
                start = _city(raw[m.start("c") :])
                end = _city(lines[i + 1][0][n.start("c") :])
        if start and end:
            break
    travel = [f for f in find_dates(text) if _TRAVEL_WORDS.search(normalize(f.line))]
    when = best_date(travel) or travel_date
    if start is None and end is None and when is None:
        return None
    return TicketTrip(start, end, when)


def read_fields(text: str, today: date | None = None) -> Fields:
    """Date, currency, merchant, kind (with a confidence) and, for a ticket, its trip."""
    when = best_date(find_dates(text, today))
    guess = guess_kind(text)
    trip = find_trip(text, when) if guess.kind in TICKET_KINDS else None
    if trip is not None and trip.travel_date is not None:
        when = trip.travel_date
    return Fields(
        date=when,
        currency=find_currency(text),
        merchant=find_merchant(text),
        kind=guess.kind,
        kind_confidence=guess.confidence,
        trip=trip,
    )
