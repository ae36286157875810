"""Shared steps of the bot's end-to-end tests."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

import pdfplumber
from fpdf import FPDF
from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Mission


async def link(chat: ChatClient, user_id: int, identifier: str, password: str, new_code: str = "Jury2026bac") -> None:
    """Link `user_id` through the chat (first link: a new personal code is chosen)."""
    await chat.send(user_id, "/start")
    await chat.send(user_id, identifier)
    await chat.send(user_id, password)
    if "code personnel" in await chat.last_bot_text(user_id):
        await chat.send(user_id, new_code)
    assert any("maintenant relié" in m["text"] for m in await chat.messages(user_id))


async def up_to_the_trips(chat: ChatClient, user_id: int, someone: dict[str, Any], number: str, copies: str) -> str:
    """Link ``someone``, open mission ``number`` and answer done, the copies and the times (07:00 to 19:00 on
    the mission's first day): the trips screen is next. Returns that day as typed (dd/mm/yyyy)."""
    await link(chat, user_id, someone["numero"], someone["mot_de_passe"])
    day = f"{mission_start(number):%d/%m/%Y}"
    await chat.press(user_id, number)
    await chat.press(user_id, "Déclarer")
    await chat.press(user_id, "Oui, effectuée")
    for typed in (copies, f"{day} 07:00", "19:00"):
        await chat.send(user_id, typed)
    return day


def mission_start(number: str) -> datetime:
    with session_scope() as session:
        return session.scalar(select(Mission.start_at).where(Mission.number == number))


def receipt_pdf(text: str = "Billet SNCF - Total TTC : 32,40 EUR") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=text)
    return bytes(pdf.output())


def pdf_text(data: bytes) -> str:
    """A PDF's text, spaces collapsed, without the time it was made (« Édité le … à 17:29 »)."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = " ".join(" ".join(page.extract_text() or "" for page in pdf.pages).split())
    return re.sub(r"Édité le \S+ à \S+", "Édité le", text)


def png_bytes(size: int = 0) -> bytes:
    """A real PNG; padded with an ancillary chunk to reach `size` bytes when asked."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buf, format="PNG")
    data = buf.getvalue()
    if size > len(data):
        import struct
        import zlib

        pad = b"\0" * (size - len(data) - 12)
        chunk = struct.pack(">I", len(pad)) + b"teXt" + pad
        chunk += struct.pack(">I", zlib.crc32(b"teXt" + pad) & 0xFFFFFFFF)
        data = data[:-12] + chunk + data[-12:]
    return data


def person(demo: dict[str, Any], index: int) -> dict[str, Any]:
    return demo["intervenants"][index]
