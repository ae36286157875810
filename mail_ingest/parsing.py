"""Turn raw RFC 5322 bytes into an IncomingMail: headers, body text, every candidate attachment.

Built on the stdlib ``email`` package with ``policy.default`` (headers cut and 8-bit bytes decoded by
``IntakePolicy``); every header read and every part decode is guarded, and every step is linear in the
input, so a malformed message yields what can be read plus defects, in bounded time.
"""

from __future__ import annotations

import binascii
import html
import io
import math
import re
import time
import zipfile
from dataclasses import replace
from email import errors as email_errors
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import collapse_rfc2231_value, getaddresses
from typing import Any

from asn1crypto import cms
from tnefparse import TNEF

from core.mail.message import IncomingFile, IncomingMail
from core.receipts import sniff_type

MAX_BODY_CHARS = 100_000
MAX_PARTS = 200  # a message with more leaf parts than this is cut (zip-bomb style MIME trees)
MAX_DEPTH = 20
PARSE_SECONDS = 20.0  # a message still not parsed by then is given up (quarantined as unreadable)
MAX_HEADER_CHARS = 4_000  # a header value is cut there before parsing (the parser is quadratic on some input)
MAX_ADDRESS_CHARS = 254
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
SIGNATURE_TYPES = {
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
    "application/pgp-keys",
}
PKCS7_MIME_TYPES = {"application/pkcs7-mime", "application/x-pkcs7-mime"}  # S/MIME, signed as a whole or encrypted
TOO_LARGE = "TooDeepOrTooManyParts"
BROKEN_STRUCTURE_DEFECTS = (
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.MultipartInvariantViolationDefect,
)
_AUTH_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
# A uuencoded file in a text body; its lines use only the characters from space to backquote (one pass).
_UUENCODED = re.compile(
    r"^begin [0-7]{3,4} (?P<name>[^\r\n]{1,255})\r?\n(?P<data>(?:[ -`]{1,100}\r?\n)*)end[ \t]*\r?$", re.M
)
ZIP_MAX_MEMBERS = 20  # an archive of more files is left whole (refused: send the receipts one by one)
ZIP_MAX_MEMBER_BYTES = 20 * 1024 * 1024  # a file larger than this once unpacked: the archive is left whole
ZIP_MAX_TOTAL_BYTES = 50 * 1024 * 1024  # and so is an archive whose files unpack to more than this together
MAX_REFERENCES = 20  # message ids kept from References (the newest), for threading the reply
# Where a reply or a forward starts quoting (Outlook, Gmail, Thunderbird, Apple Mail; French and English).
_QUOTE_START = re.compile(
    r"\s*(?:-{2,}\s*(?:original message|message d'origine|message transféré|forwarded message)"
    r"|_{5,}\s*$|(?:de|from)\s*:\s*\S.*@|le .{4,80} a écrit\s*:|on .{4,80} wrote\s*:)",
    re.IGNORECASE,
)
# One HTML tag or a comment start; a tag never spans a '<', so scanning stays linear on broken markup.
_TAG = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9]*)?[^<>]*>")
_BLOCK_TAGS = {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6"}
_HIDDEN_TAGS = {"script", "style", "title"}
_BLANKS = re.compile(r"[ \t\r\f\v]+")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_ADDRESS = re.compile(r"[^\s@\"<>()\[\],;:\\]+@[^\s@\"<>()\[\],;:\\]+\.[^\s@\"<>()\[\],;:\\.]+")


def _decode_8bit(value: str) -> str:
    """Raw 8-bit header bytes (kept as surrogate escapes by the parser) read as UTF-8, else Windows-1252."""
    if value.isascii():
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


class ParseTimeout(Exception):
    """The message could not be parsed within ``PARSE_SECONDS``."""


class IntakePolicy(EmailPolicy):
    """``policy.default`` reading headers as a lenient mail client does: 8-bit bytes decoded (UTF-8, else
    Windows-1252) rather than shown as U+FFFD, and values cut at ``MAX_HEADER_CHARS`` before parsing.

    Header parsing is where the stdlib parser is slow (thousands of parts with long parameters): past
    ``deadline`` (``time.monotonic()``) every header read raises ``ParseTimeout``, so no message can stall
    the pipeline."""

    deadline: float = math.inf

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if time.monotonic() > self.deadline:
            raise ParseTimeout(f"message not parsed within {PARSE_SECONDS:.0f} s")
        if not hasattr(value, "name"):
            value = _decode_8bit(value[:MAX_HEADER_CHARS])
        return super().header_fetch_parse(name, value)


INTAKE_POLICY = IntakePolicy()


def one_line(text: str) -> str:
    """Header text fit for a database row and a reply: control characters and line breaks made spaces."""
    return _BLANKS.sub(" ", _CONTROLS.sub(" ", text)).strip()


def parse_message(raw: bytes, *, trusted_authserv_ids: frozenset[str] = frozenset()) -> IncomingMail:
    """Parse raw message bytes; malformed MIME gives what can be read (see ``structure_broken``/``defects``).

    Only what the standard e-mail parser cannot read at all (a nesting bomb) or not within
    ``PARSE_SECONDS`` (``ParseTimeout``) raises; the pipeline worker then quarantines the message.

    ``trusted_authserv_ids``: when not empty, only Authentication-Results headers from these
    authserv-ids count (the upstream relay's); otherwise every such header counts.
    """
    policy = INTAKE_POLICY.clone(deadline=time.monotonic() + PARSE_SECONDS)
    msg = BytesParser(policy=policy).parsebytes(raw)
    defects: list[str] = []
    files: list[IncomingFile] = []
    content = _signed_content(msg, defects) or msg  # a message signed as a whole: what it carries
    broken = _walk(content, forwarded=False, files=files, defects=defects, depth=0)
    from_name, from_address = _first_address(msg, "from")
    mail = IncomingMail(
        message_id=one_line(_header(msg, "message-id"))[:255],
        from_address=from_address,
        from_name=from_name,
        recipients=tuple(_addresses(msg, RECIPIENT_HEADERS)),
        subject=one_line(_header(msg, "subject"))[:500],
        body_text=_body_text(content, defects),
        auth_failures=tuple(_auth_failures(msg, trusted_authserv_ids)),
        auth_passes=tuple(_auth_passes(msg, trusted_authserv_ids)),
        references=tuple(_references(msg)),
        automatic=_is_automatic(msg, from_address),
        files=tuple(files),
        defects=tuple(dict.fromkeys(defects)),
        structure_broken=broken,
        incomplete=TOO_LARGE in defects,
    )
    if time.monotonic() > policy.deadline:  # some reads failed on the deadline: what was read is partial
        raise ParseTimeout(f"message not parsed within {PARSE_SECONDS:.0f} s")
    return mail


def _header(msg: Message, name: str) -> str:
    """Header value as text, '' when absent; falls back to the raw value when it cannot be decoded."""
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - malformed header: keep the raw text
        raws = _raw_headers(msg, name)
        return raws[0] if raws else ""


def _raw_headers(msg: Message, name: str) -> list[str]:
    """The unparsed values of a header, 8-bit bytes decoded and cut like parsed ones."""
    raws = msg.raw_items() if isinstance(msg, EmailMessage) else msg.items()
    return [_decode_8bit(str(v)[:MAX_HEADER_CHARS]) for k, v in raws if k.lower() == name]


def _all_headers(msg: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in msg.get_all(name) or []]
    except Exception:  # noqa: BLE001
        return _raw_headers(msg, name)


def _address_pairs(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) of a header's plausible addresses; none when it cannot be read."""
    try:
        pairs = getaddresses(_all_headers(msg, name))
    except Exception:  # noqa: BLE001 - e.g. RecursionError on thousands of nested comments
        return []
    return [(display, address.strip().lower()) for display, address in pairs if _plausible(address.strip())]


def _plausible(address: str) -> bool:
    """An address a reply can go to (not a quoted or garbled string that merely contains an '@')."""
    return len(address) <= MAX_ADDRESS_CHARS and _ADDRESS.fullmatch(address) is not None


def _first_address(msg: Message, name: str) -> tuple[str | None, str | None]:
    for display, address in _address_pairs(msg, name):
        return (one_line(display)[:200] or None), address
    return None, None


def _addresses(msg: Message, names: tuple[str, ...]) -> list[str]:
    found = {address: None for name in names for _, address in _address_pairs(msg, name)}
    return list(found)


def _auth_passes(msg: Message, trusted: frozenset[str]) -> list[str]:
    """'spf=pass' / 'dkim=pass' verdicts of the trusted relay's Authentication-Results. Without
    ``trusted`` none counts: anyone can write such a header, only the relay in front can be believed."""
    passes: list[str] = []
    for value in _all_headers(msg, "authentication-results") if trusted else []:
        authserv_id = value.split(";", 1)[0].strip().split()[0].lower() if value.strip() else ""
        if authserv_id in trusted:
            passes += [
                f"{m.lower()}=pass"
                for m, r in _AUTH_RESULT.findall(value)
                if r.lower() == "pass" and m.lower() != "dmarc"
            ]
    return list(dict.fromkeys(passes))


def _references(msg: Message) -> list[str]:
    """The thread this message belongs to: its References (else In-Reply-To), newest last, bounded."""
    refs = _MESSAGE_ID.findall(_header(msg, "references")) or _MESSAGE_ID.findall(_header(msg, "in-reply-to"))
    return refs[-MAX_REFERENCES:]


def _auth_failures(msg: Message, trusted: frozenset[str]) -> list[str]:
    """'spf=fail' / 'dmarc=fail' verdicts from Authentication-Results and Received-SPF headers."""
    failures: list[str] = []
    for value in _all_headers(msg, "authentication-results"):
        authserv_id = value.split(";", 1)[0].strip().split()[0].lower() if value.strip() else ""
        if trusted and authserv_id not in trusted:
            continue
        for method, result in _AUTH_RESULT.findall(value):
            if result.lower() == "fail" and method.lower() != "dkim":  # DKIM breaks on forwarding: no verdict
                failures.append(f"{method.lower()}=fail")
    if not trusted:
        for value in _all_headers(msg, "received-spf"):
            if value.strip().lower().startswith("fail"):
                failures.append("spf=fail")
    return list(dict.fromkeys(failures))


def _is_automatic(msg: Message, from_address: str | None) -> bool:
    """Bounces, auto-replies, bulk and list mail (RFC 3834 section 2): answering them could start a mail loop."""
    auto = _header(msg, "auto-submitted").strip().lower()
    if auto and auto != "no":
        return True
    if any(name.lower().startswith("list-") for name in msg.keys()):  # List-Id, List-Unsubscribe...
        return True
    if _header(msg, "return-path").strip() == "<>":  # the null sender: a bounce or a report
        return True
    if _header(msg, "precedence").strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return True
    if _header(msg, "x-autoreply") or _header(msg, "x-autorespond"):
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    local = (from_address or "").split("@", 1)[0]
    return local in {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"}


def _walk(part: Message, *, forwarded: bool, files: list[IncomingFile], defects: list[str], depth: int) -> bool:
    """Collect candidate files below ``part``; returns True when the MIME structure was broken."""
    broken = False
    for defect in getattr(part, "defects", []):
        defects.append(type(defect).__name__)
        broken = broken or isinstance(defect, BROKEN_STRUCTURE_DEFECTS)
    if depth > MAX_DEPTH or len(files) >= MAX_PARTS:
        defects.append(TOO_LARGE)
        return broken
    ctype = part.get_content_type()
    if part.get_content_maintype() == "message" and ctype in {"message/rfc822", "message/global"}:
        inner = _forwarded_message(part, defects)
        if inner is not None:
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
    signed = _signed_content(part, defects) if depth else None  # the message itself: unwrapped by the caller
    if signed is not None:
        return _walk(signed, forwarded=forwarded, files=files, defects=defects, depth=depth + 1) or broken
    candidate = _candidate(part, forwarded=forwarded, position=len(files) + 1, defects=defects)
    unpacked = _packed_files(candidate, defects) if candidate is not None else None
    if unpacked is not None:
        files += unpacked[: max(0, MAX_PARTS - len(files))]
    elif candidate is not None:
        files.append(candidate)
    elif part.get_content_type() == "text/plain":
        files += _uuencoded(part, forwarded=forwarded, position=len(files) + 1)
    return broken


def _forwarded_message(part: Message, defects: list[str]) -> Message | None:
    """The message inside a message/rfc822 part, also when the sender base64-encoded it (RFC 2046 forbids
    it, some clients do it: the parser then sees base64 text, which is decoded and parsed here)."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message) or _header(part, "content-transfer-encoding").strip().lower() != "base64":
        return inner if isinstance(inner, Message) else None
    try:
        encoded = inner.get_payload(decode=True) or b""
        return BytesParser(policy=part.policy).parsebytes(binascii.a2b_base64(encoded))
    except (binascii.Error, ValueError, LookupError):
        defects.append("UndecodableForwardedMessage")
        return inner


def _signed_content(part: Message, defects: list[str]) -> Message | None:
    """The MIME entity an opaque S/MIME signature carries (``smime-type=signed-data``: the content is inside
    the signature, where a mail client shows it), parsed as a message; None for any other part, an encrypted
    one included (it stays a file, refused as such). The signature is not checked: the sender is matched as
    for any message."""
    if part.get_content_type() not in PKCS7_MIME_TYPES:
        return None
    try:
        info = cms.ContentInfo.load(part.get_payload(decode=True) or b"")
        if info["content_type"].native != "signed_data":
            return None
        content = info["content"]["encap_content_info"]["content"].native
    except Exception:  # noqa: BLE001 - asn1crypto raises many types on bad DER
        defects.append("UnreadableSignedData")
        return None
    if not isinstance(content, bytes):
        return None
    return BytesParser(policy=part.policy).parsebytes(content)


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
    if data is None or (not data and filename is None and disposition != "attachment"):
        return None  # an empty file sent as one (a failed upload) is kept: the reply says it is empty
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


def _packed_files(candidate: IncomingFile, defects: list[str]) -> list[IncomingFile] | None:
    """The files of a container sent as an attachment (an Outlook winmail.dat, a ZIP archive), in its
    place; None for anything else, or a container left whole (then refused with a way out)."""
    if candidate.is_tnef:
        return _tnef_files(candidate, defects)
    if sniff_type(candidate.data) == "application/zip":
        return _zip_files(candidate, defects)
    return None


def _unpacked(packed: IncomingFile, found: list[tuple[str | None, bytes]]) -> list[IncomingFile]:
    return [
        replace(
            packed,
            position=packed.position + k,
            filename=name,
            declared_type="application/octet-stream",
            disposition="attachment",
            content_id=None,
            data=data,
        )
        for k, (name, data) in enumerate(found)
    ]


def _zip_files(packed: IncomingFile, defects: list[str]) -> list[IncomingFile] | None:
    """The files of a ZIP archive (folders, macOS and hidden files left out), each read no further than
    ``ZIP_MAX_MEMBER_BYTES`` (the sizes an archive states may lie: a bomb stops there); None (the archive left
    whole) when it cannot be read, is locked by a password, holds too many or too large files, or nothing."""
    found: list[tuple[str | None, bytes]] = []
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(packed.data)) as archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir()
                and not m.filename.startswith("__MACOSX/")
                and not m.filename.rsplit("/", 1)[-1].startswith(".")
            ]
            if not members or len(members) > ZIP_MAX_MEMBERS or any(m.flag_bits & 0x1 for m in members):
                return None
            for member in members:
                with archive.open(member) as f:
                    data = f.read(ZIP_MAX_MEMBER_BYTES + 1)
                total += len(data)
                if len(data) > ZIP_MAX_MEMBER_BYTES or total > ZIP_MAX_TOTAL_BYTES:
                    return None
                if data:
                    found.append((_clean_name(member.filename), data))
    except Exception:  # noqa: BLE001 - zipfile raises many types on bad archives
        defects.append("UnreadableZip")
        return None
    return _unpacked(packed, found) or None


def _tnef_files(packed: IncomingFile, defects: list[str]) -> list[IncomingFile] | None:
    """The files Outlook packed into a winmail.dat (TNEF), in its place; None when it cannot be read or holds
    no file (it then stays, refused with a way out: Outlook's HTML format)."""
    try:
        found = [(_tnef_name(att), bytes(att.data or b"")) for att in TNEF(packed.data).attachments]
    except Exception:  # noqa: BLE001 - tnefparse raises many types on bad bytes
        defects.append("UnreadableTnef")
        return None
    return _unpacked(packed, [(name, data) for name, data in found if data]) or None


def _tnef_name(attachment: Any) -> str | None:
    """A packed file's name: its long name, else its short one (None when neither decodes)."""
    try:
        name = attachment.long_filename()
    except UnicodeDecodeError:
        return None
    return _clean_name(str(name)) if name else None


def _uuencoded(part: Message, *, forwarded: bool, position: int) -> list[IncomingFile]:
    """Files uuencoded in a plain text body (``uuencode file | mail``, old clients): ``begin 644 name`` ... ``end``."""
    try:
        payload = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001 - undecodable transfer encoding
        return []
    text = payload.decode("latin-1") if b"begin " in payload else ""
    found: list[IncomingFile] = []
    for block in _UUENCODED.finditer(text):
        data = b"".join(_uu_line(line.encode("latin-1")) for line in block["data"].splitlines())
        name = _decode_8bit(block["name"].encode("latin-1").decode("utf-8", "surrogateescape")).strip()
        found.append(
            IncomingFile(
                position=position + len(found),
                filename=_clean_name(name),
                declared_type="application/octet-stream",
                disposition="attachment",
                content_id=None,
                forwarded=forwarded,
                data=data,
            )
        )
    return found[:MAX_PARTS]


def _uu_line(line: bytes) -> bytes:
    """One uuencoded line; a line some encoder padded badly is read up to the length its first byte gives."""
    line = line.rstrip(b"\r")
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        size = (((line[0] - 32) & 63) * 4 + 5) // 3 if line else 0
        try:
            return binascii.a2b_uu(line[:size])
        except binascii.Error:
            return b""


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
    return _clean_name(str(name)) if name else None


def _clean_name(name: str) -> str | None:
    """A file name as sent, without its folders or unprintable characters; None when nothing is left."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] if name.strip(". ") else None  # "", "." and ".." are no names


def _body_text(msg: Message, defects: list[str]) -> str:
    """The message's own text (plain preferred, HTML stripped), quoted reply lines removed."""
    text = ""
    try:
        body = msg.get_body(preferencelist=("plain", "html")) if isinstance(msg, EmailMessage) else None
        if body is not None:
            text = body.get_content()
            if body.get_content_subtype() == "html":
                text = html_text(text)
    except Exception:  # noqa: BLE001 - unknown charset, broken encoding
        defects.append("UnreadableBody")
        try:
            payload = msg.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        except Exception:  # noqa: BLE001
            text = ""
    lines: list[str] = []
    size = 0
    for line in _UUENCODED.sub("", str(text)).splitlines():  # an uuencoded file is no words of the sender
        if _QUOTE_START.match(line) or size > MAX_BODY_CHARS:
            break  # the rest is a quoted or forwarded message, not the sender's own words
        if not line.lstrip().startswith(">"):
            lines.append(line)
            size += len(line) + 1
    return "\n".join(_BLANKS.sub(" ", line).strip() for line in lines).strip()[:MAX_BODY_CHARS]


def html_text(markup: str) -> str:
    """The visible text of an HTML body: tags dropped (block ends as line breaks), script, style and
    comments skipped, entities decoded. One pass, so broken markup costs no more than clean markup."""
    out: list[str] = []
    pos, hidden = 0, ""
    while (tag := _TAG.search(markup, pos)) is not None:
        if not hidden:
            out.append(markup[pos : tag.start()])
        pos = tag.end()
        if tag.group(0) == "<!--":
            end = markup.find("-->", pos)
            pos = len(markup) if end == -1 else end + 3
            continue
        closing, name = tag.group(1) == "/", (tag.group(2) or "").lower()
        if hidden:
            hidden = "" if closing and name == hidden else hidden
        elif name in _HIDDEN_TAGS and not closing and not tag.group(0).endswith("/>"):
            hidden = name
        else:
            out.append("\n" if name == "br" or (closing and name in _BLOCK_TAGS) else " ")
    if not hidden:
        out.append(markup[pos:])
    return html.unescape("".join(out))
