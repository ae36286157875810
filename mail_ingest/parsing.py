"""Turn raw RFC 5322 bytes into an IncomingMail: headers, body text, every candidate attachment.

Built on the stdlib ``email`` package with ``policy.default``; every header read and every part
decode is guarded so a malformed message yields what can be read plus defects.
"""

from __future__ import annotations

import html
import re
from email import errors as email_errors
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value, getaddresses

from core.mail_message import IncomingFile, IncomingMail

MAX_BODY_CHARS = 100_000
MAX_PARTS = 200  # a message with more leaf parts than this is cut (zip-bomb style MIME trees)
MAX_DEPTH = 20
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
SIGNATURE_TYPES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
    "application/pgp-keys",
}
BROKEN_STRUCTURE_DEFECTS = (
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.MultipartInvariantViolationDefect,
)
_AUTH_RESULT = re.compile(r"\b(spf|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
# Where a reply or a forward starts quoting (Outlook, Gmail, Thunderbird, Apple Mail; French and English).
_QUOTE_START = re.compile(
    r"\s*(?:-{2,}\s*(?:original message|message d'origine|message transféré|forwarded message)"
    r"|_{5,}\s*$|(?:de|from)\s*:\s*\S.*@|le .{4,80} a écrit\s*:|on .{4,80} wrote\s*:)",
    re.IGNORECASE,
)
_BLOCK_END = re.compile(r"<(?:br|/p|/div|/tr|/li|/h\d)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_BLANKS = re.compile(r"[ \t\r\f\v]+")


def parse_message(raw: bytes, *, trusted_authserv_ids: frozenset[str] = frozenset()) -> IncomingMail:
    """Parse raw message bytes; malformed MIME gives what can be read (see ``structure_broken``/``defects``).

    Only what the standard e-mail parser cannot read at all (a nesting bomb) raises; the pipeline
    worker then quarantines the message.

    ``trusted_authserv_ids``: when not empty, only Authentication-Results headers from these
    authserv-ids count (the upstream relay's); otherwise every such header counts.
    """
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    defects: list[str] = []
    files: list[IncomingFile] = []
    broken = _walk(msg, forwarded=False, files=files, defects=defects, depth=0)
    from_name, from_address = _first_address(msg, "from")
    return IncomingMail(
        message_id=_header(msg, "message-id").strip(),
        from_address=from_address,
        from_name=from_name,
        recipients=tuple(_addresses(msg, RECIPIENT_HEADERS)),
        subject=_BLANKS.sub(" ", _header(msg, "subject")).strip()[:500],
        body_text=_body_text(msg, defects),
        auth_failures=tuple(_auth_failures(msg, trusted_authserv_ids)),
        automatic=_is_automatic(msg, from_address),
        files=tuple(files),
        defects=tuple(dict.fromkeys(defects)),
        structure_broken=broken,
    )


def _header(msg: Message, name: str) -> str:
    """Header value as text, '' when absent; falls back to the raw value when it cannot be decoded."""
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - malformed header: keep the raw text
        for key, raw in msg.raw_items() if isinstance(msg, EmailMessage) else msg.items():
            if key.lower() == name:
                return str(raw)
        return ""


def _all_headers(msg: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in msg.get_all(name) or []]
    except Exception:  # noqa: BLE001
        raws = msg.raw_items() if isinstance(msg, EmailMessage) else msg.items()
        return [str(v) for k, v in raws if k.lower() == name]


def _first_address(msg: Message, name: str) -> tuple[str | None, str | None]:
    for display, address in getaddresses(_all_headers(msg, name)):
        address = address.strip().lower()
        if "@" in address:
            return (display.strip() or None), address
    return None, None


def _addresses(msg: Message, names: tuple[str, ...]) -> list[str]:
    found: dict[str, None] = {}
    for name in names:
        for _, address in getaddresses(_all_headers(msg, name)):
            address = address.strip().lower()
            if "@" in address:
                found[address] = None
    return list(found)


def _auth_failures(msg: Message, trusted: frozenset[str]) -> list[str]:
    """'spf=fail' / 'dmarc=fail' verdicts from Authentication-Results and Received-SPF headers."""
    failures: list[str] = []
    for value in _all_headers(msg, "authentication-results"):
        authserv_id = value.split(";", 1)[0].strip().split()[0].lower() if value.strip() else ""
        if trusted and authserv_id not in trusted:
            continue
        for method, result in _AUTH_RESULT.findall(value):
            if result.lower() == "fail":
                failures.append(f"{method.lower()}=fail")
    if not trusted:
        for value in _all_headers(msg, "received-spf"):
            if value.strip().lower().startswith("fail"):
                failures.append("spf=fail")
    return list(dict.fromkeys(failures))


def _is_automatic(msg: Message, from_address: str | None) -> bool:
    """Bounces, auto-replies and bulk mail: answering them could start a mail loop."""
    auto = _header(msg, "auto-submitted").strip().lower()
    if auto and auto != "no":
        return True
    if _header(msg, "precedence").strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return True
    if _header(msg, "x-autoreply") or _header(msg, "x-autorespond"):
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    local = (from_address or "").split("@", 1)[0]
    return local in {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"}


def _walk(
    part: Message, *, forwarded: bool, files: list[IncomingFile], defects: list[str], depth: int
) -> bool:
    """Collect candidate files below ``part``; returns True when the MIME structure was broken."""
    broken = False
    for defect in getattr(part, "defects", []):
        defects.append(type(defect).__name__)
        broken = broken or isinstance(defect, BROKEN_STRUCTURE_DEFECTS)
    if depth > MAX_DEPTH or len(files) >= MAX_PARTS:
        defects.append("TooDeepOrTooManyParts")
        return broken
    ctype = part.get_content_type()
    if part.get_content_maintype() == "message" and ctype in {"message/rfc822", "message/global"}:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(inner, Message):
            return _walk(inner, forwarded=True, files=files, defects=defects, depth=depth + 1) or broken
        return broken
    if part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                sub_broken = _walk(sub, forwarded=forwarded, files=files, defects=defects, depth=depth + 1)
                broken = sub_broken or broken
        return broken
    if depth == 0 and part.get_content_maintype() == "multipart":
        return True  # declared multipart but no part could be found
    candidate = _candidate(part, forwarded=forwarded, position=len(files) + 1, defects=defects)
    if candidate is not None:
        files.append(candidate)
    return broken


def _candidate(part: Message, *, forwarded: bool, position: int, defects: list[str]) -> IncomingFile | None:
    ctype = part.get_content_type()
    if ctype in SIGNATURE_TYPES:
        return None
    disposition = _disposition(part)
    filename = _filename(part)
    if part.get_content_maintype() == "text" and filename is None and disposition != "attachment":
        return None  # a body part (plain text, HTML, calendar invitation text)
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable transfer encoding
        defects.append("UndecodablePart")
        data = None
    if not data:
        return None
    content_id = _header(part, "content-id").strip() or None
    return IncomingFile(
        position=position,
        filename=filename,
        declared_type=ctype,
        disposition=disposition,
        content_id=content_id,
        forwarded=forwarded,
        data=bytes(data),
    )


def _disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
    except Exception:  # noqa: BLE001
        return None
    return value.lower() if value else None


def _filename(part: Message) -> str | None:
    """File name from Content-Disposition or Content-Type ``name`` (RFC 2231 and RFC 2047 decoded)."""
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    if not name:
        try:
            name = part.get_param("name", header="content-type")
            if isinstance(name, tuple):  # RFC 2231 triple under some policies
                name = collapse_rfc2231_value(name)
        except Exception:  # noqa: BLE001
            name = None
    if not name:
        return None
    name = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or None


def _body_text(msg: Message, defects: list[str]) -> str:
    """The message's own text (plain preferred, HTML stripped), quoted reply lines removed."""
    text = ""
    try:
        body = msg.get_body(preferencelist=("plain", "html")) if isinstance(msg, EmailMessage) else None
        if body is not None:
            text = body.get_content()
            if body.get_content_subtype() == "html":
                text = html.unescape(_TAG.sub(" ", _BLOCK_END.sub("\n", text)))
    except Exception:  # noqa: BLE001 - unknown charset, broken encoding
        defects.append("UnreadableBody")
        try:
            payload = msg.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        except Exception:  # noqa: BLE001
            text = ""
    lines: list[str] = []
    for line in str(text).splitlines():
        if _QUOTE_START.match(line):
            break  # the rest is a quoted or forwarded message, not the sender's own words
        if not line.lstrip().startswith(">"):
            lines.append(line)
    return "\n".join(_BLANKS.sub(" ", line).strip() for line in lines).strip()[:MAX_BODY_CHARS]
