"""The merchant of a receipt: the business name among its first lines, skipping addresses, phone numbers,
greetings and document titles."""

from __future__ import annotations

import re

from ocr.dates import normalize

_TOP_LINES = 12  # the merchant is printed among the first lines
_LEGAL_LOOKAHEAD = 5  # a line with a legal form (SARL, GmbH, SDN BHD) among the first candidates wins
_LEGAL = re.compile(
    r"\b(SDN\.?\s?BHD|BHD|S\.?A\.?R\.?L|SAS|SASU|EURL|S\.?A\.?|SNC|GMBH|AG|KG|OHG|E\.?K|LTD|LIMITED|LLC|INC|PLC|"
    r"PTE|B\.?V|S\.?R\.?L|S\.?P\.?A|S\.?L)\b\.?"
)
_SKIP = re.compile(
    r"\b(TEL|TELEPHONE|PHONE|FAX|MOBILE|HP|E-?MAIL|WWW|HTTPS?|SIRET|SIREN|RCS|APE|NAF|TVA|VAT|GST|UST|MWST|"
    r"STEUER|STEUERNR|CO\.?\s?NO|CO\.?\s?REG|ROC|TICKET|BIENVENUE|WELCOME|WILLKOMMEN|HERZLICH|FACTURE|FACTURETTE|INVOICE|"
    r"RECEIPT|RECU|QUITTUNG|BELEG|KASSENBON|RECHNUNG|DUPLICATA|COPY|COPIE|KOPIE|CAISSE|KASSE|CASHIER|"
    r"MERCI|THANK|DANKE|CASH|DATE|DATUM|HEURE|TIME|CLIENT|CUSTOMER|SIMPLIFIED|ORIGINAL|ADDITION|COMMANDE|ORDER|"
    r"N°|NO\.|OUVERT|HORAIRES|OPEN|OPENING|HOURS|QTY|PRIX|PREIS|PRICE)\b"
)
_ADDRESS = re.compile(
    r"\b(RUE|AVENUE|BOULEVARD|BD|BLVD|CHEMIN|ALLEE|IMPASSE|FAUBOURG|QUAI|STRASSE|STRAßE|GASSE|JALAN|JLN|LORONG|TAMAN|"
    r"PERSIARAN|KAMPUNG|KAWASAN|PERINDUSTRIAN|SEKSYEN|TMN|DARUL|ROAD|STREET|CEDEX|CENTRE COMMERCIAL|"
    r"ZONE ARTISANALE|ZONE INDUSTRIELLE)\b|\w(STR|STRASSE)\b|"
    r"^\d+[A-Z]?\s*(BIS|TER)?[,\s]+\S|^(NO|LOT)\b|^[^\d\s]+\s+\d{1,4}[A-Z]?$"  # "Hauptstr. 12" (misread or not)
)
_POSTCODE_CITY = re.compile(r"(^|\s)\d{4,5}\s+[A-Z]")
_PHONE = re.compile(r"(\+\d{2}|\b0\d)([\s.\-]?\d{2}){4}\b|\d{3}[\s\-]\d{3,4}[\s\-]?\d{3,4}")
_LEGAL_ONLY = re.compile(r"^\W*(\(?[A-Z0-9\-]{0,12}\)?\s*)?(SDN\.?\s?BHD|GMBH|SARL|SAS|LTD|LIMITED|INC)\W*$")


def _letters(line: str) -> int:
    return sum(ch.isalpha() for ch in line)


def _clean(line: str) -> str:
    line = re.sub(r"(?<=[A-Za-z.])[\[|](?=[A-Za-z.])", "I", line)  # D.[.Y. -> D.I.Y.
    line = re.sub(r"\bS[O0Q]N\b(?=\W{0,2}BHD)", "SDN", line, flags=re.IGNORECASE)  # SON BHD -> SDN BHD
    return re.sub(r"\s{2,}", " ", line.strip(" \t*=_-~:.|#'\"“”‘’©®")).strip()


def _looks_like_words(line: str) -> bool:
    """Not OCR noise: some word of four letters or more, words of three letters on average, capital letters."""
    words = re.findall(r"[^\W\d_]+", line)
    if not words or max(len(w) for w in words) < 4 or sum(map(len, words)) / len(words) < 3:
        return False
    return any(ch.isupper() for ch in line)  # a printed name has capitals; a lower-case line is handwriting


def find_merchant(text: str) -> str | None:
    """The business name printed at the top of a receipt, as printed; None when no line looks like one."""
    candidates: list[str] = []
    for raw in text.splitlines()[:_TOP_LINES]:
        line = _clean(raw)
        upper = normalize(line)
        letters = _letters(line)
        legal = _LEGAL.search(upper) is not None  # "BOOK TA.K (TAMAN DAYA) SDN BHD" is a name, not an address
        if letters < 3 or letters < 0.5 * len(line.replace(" ", "")) or not (legal or _looks_like_words(line)):
            continue
        if _LEGAL_ONLY.match(upper) and candidates:
            candidates[-1] = f"{candidates[-1]} {line}"  # "MR D.I.Y. (JOHOR)" / "SDN BHD"
            continue
        if _PHONE.search(upper):
            continue
        if not legal and (_SKIP.search(upper) or _ADDRESS.search(upper) or _POSTCODE_CITY.search(upper)):
            continue
        if re.search(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{1,2}[:H]\d{2}|\d[.,]\d{2}\b", upper):
            continue  # a date, a time or an amount: an item line, not a name
        candidates.append(line)
    if not candidates:
        return None
    for line in candidates[:_LEGAL_LOOKAHEAD]:
        if _LEGAL.search(normalize(line)):
            return line
    return candidates[0]
