"""Receipt files made acceptable (HEIC, large photos, several photos in one PDF) and receipts removed, replaced,
moved; the converted files are still read by the real OCR."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

import ocr
from core import receipt_lines, receipts
from core.errors import IllegalTransition, InvalidInput
from core.filestore import receipt_store
from core.models import AuditEntry, LineState, Receipt
from tests.core.helpers import efm_by_mission
from tests.fixtures.photos import HOTEL, RECEIPTS_FR, RESTAURANT, big_photo, heic_of

ACTOR = "intervenant:test"
FIXTURES = RECEIPTS_FR


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with db() as s:
        seed_demo(s)
    return db


def test_a_heic_photo_is_stored_as_jpeg_keeping_the_original_and_read(seeded) -> None:  # type: ignore[no-untyped-def]
    data = heic_of(RESTAURANT)
    assert receipts.sniff_type(data) == "image/heic"
    assert receipts.check_receipt_file(data, "IMG_0042.HEIC") == "image/jpeg"
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        receipt, created = receipts.add_receipt(s, efm, data, "IMG_0042.HEIC", source="chat", actor=ACTOR)
        assert created and receipt.detected_type == "image/jpeg" and receipt.original_name == "IMG_0042.jpg"
        assert receipt.original_type == "image/heic" and receipt_store().get(receipt.original_key) == data
        stored = receipt_store().get(receipt.storage_key)
        assert receipts.sniff_type(stored) == "image/jpeg"
        assert receipts.add_receipt(s, efm, data, "IMG_0042.HEIC", source="chat", actor=ACTOR) == (receipt, False)
    assert ocr.read(stored, "IMG_0042.jpg").total == Decimal("93.00")


def test_a_broken_heic_is_still_refused_with_advice() -> None:
    fake = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(InvalidInput, match="photo HEIC d'iPhone"):
        receipts.check_receipt_file(fake, "IMG.HEIC")


def test_an_8_mb_photo_is_made_smaller_and_still_read(seeded) -> None:  # type: ignore[no-untyped-def]
    data = big_photo(HOTEL)
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        receipt, _ = receipts.add_receipt(s, efm, data, "photo.jpg", source="email", actor=ACTOR)
        stored = receipt_store().get(receipt.storage_key)
        assert len(stored) <= receipts.MAX_RECEIPT_BYTES < len(data) and receipt.size == len(stored)
        assert receipt_store().get(receipt.original_key) == data
        with Image.open(BytesIO(stored)) as img:
            assert max(img.size) >= receipts.MIN_LEGIBLE_SIDE
    assert ocr.read(stored, "photo.jpg").total == Decimal("217.05")


def test_a_photo_that_would_become_illegible_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 255, (3000, 3000, 3), dtype=np.uint8))  # over 5 MB even as a JPEG
    out = BytesIO()
    noise.save(out, "PNG")
    monkeypatch.setattr(receipts, "MIN_LEGIBLE_SIDE", 2500)  # one step smaller (2 400 px) would be too small
    assert len(out.getvalue()) > receipts.MAX_RECEIPT_BYTES
    with pytest.raises(InvalidInput, match="reste trop volumineux une fois réduit"):
        receipts.prepare_file(out.getvalue(), "bruit.png")


def test_three_photos_are_joined_into_one_pdf_read_page_by_page(seeded) -> None:  # type: ignore[no-untyped-def]
    photos = [RESTAURANT.read_bytes(), heic_of(HOTEL), (FIXTURES / "fr_03_train_none.jpg").read_bytes()]
    pdf = receipts.join_photos(photos)
    assert receipts.check_receipt_file(pdf, "ticket.pdf") == "application/pdf"
    reading = ocr.read(pdf, "ticket.pdf")
    assert reading.pages == 3 and reading.engine == "ocr"
    with seeded() as s:
        receipt, _ = receipts.add_receipt(
            s, efm_by_mission(s, "DEMO-101"), pdf, "ticket.pdf", source="chat", actor=ACTOR
        )
        assert receipt.detected_type == "application/pdf"
    with pytest.raises(InvalidInput, match="de 2 à 10 photos"):
        receipts.join_photos(photos[:1])
    with pytest.raises(InvalidInput, match="n'est pas une photo"):
        receipts.join_photos([photos[0], pdf])


def _add(s, efm, path: Path):  # type: ignore[no-untyped-def]
    receipt, _ = receipts.add_receipt(s, efm, path.read_bytes(), path.name, source="chat", actor=ACTOR)
    return receipt


def test_remove_replace_and_move_a_receipt(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        efm, other = efm_by_mission(s, "DEMO-101"), efm_by_mission(s, "DEMO-102")  # same person
        kept, wrong, blurred = (
            _add(s, efm, RESTAURANT),
            _add(s, efm, HOTEL),
            _add(s, efm, FIXTURES / "fr_07_restaurant_blur.jpg"),
        )
        receipts.record_reading(s, kept.id, {"total": "93.00", "confidence": 0.9, "kind": "meal"})
        receipt_lines.confirm(s, efm, kept.id, ACTOR)
        # remove: the row, its line and its file go
        key = blurred.storage_key
        receipts.remove_receipt(s, efm, blurred.id, ACTOR)
        assert s.get(Receipt, blurred.id) is None and not receipt_store().exists(key)
        assert efm.receipts_total is None  # the hotel's line is not confirmed yet
        receipts.record_reading(s, wrong.id, {"total": "217.05", "confidence": 0.9, "kind": "hotel"})
        receipt_lines.confirm(s, efm, wrong.id, ACTOR)
        assert efm.receipts_total == Decimal("310.05")  # both remaining lines confirmed
        # replace: a new file, read again from scratch
        replaced = receipts.replace_receipt_file(s, efm, kept.id, heic_of(RESTAURANT), "IMG_1.HEIC", ACTOR)
        assert replaced.id == kept.id and replaced.ocr_status == "pending" and replaced.detected_type == "image/jpeg"
        assert receipt_lines.line_of(s, replaced).state is LineState.PENDING
        with pytest.raises(InvalidInput, match="déjà le justificatif « fr_02_hotel_none.jpg »"):
            receipts.replace_receipt_file(s, efm, kept.id, HOTEL.read_bytes(), "x.jpg", ACTOR)
        # move: to another mission of the same person, never to someone else's
        moved = receipts.move_receipt(s, efm, wrong.id, other.id, ACTOR)
        assert moved.efm_id == other.id and [r.id for r in receipts.receipts_of(s, other.id)] == [wrong.id]
        stranger = efm_by_mission(s, "DEMO-201")
        with pytest.raises(Exception, match="introuvable"):
            receipts.move_receipt(s, other, wrong.id, stranger.id, ACTOR)
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "receipt")))
        assert {"receipt_removed", "receipt_replaced", "receipt_moved"} <= actions


def test_a_submitted_dossier_keeps_its_receipts(seeded) -> None:  # type: ignore[no-untyped-def]
    from core import declarations as d

    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-103")  # a jury: nothing to count
        receipt = _add(s, efm, RESTAURANT)
        d.set_service_done(s, efm, True, ACTOR)
        start = efm.convocation.mission.start_at
        d.set_times(s, efm, start, start.replace(hour=18), ACTOR)
        d.submit(s, efm, ACTOR)
        with pytest.raises(IllegalTransition):
            receipts.remove_receipt(s, efm, receipt.id, ACTOR)
