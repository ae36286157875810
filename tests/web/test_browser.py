"""Headless Chromium (Debian's, through Playwright) against the real console served by uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from core.models import EtatDeFrais
from core.statuses import PartStatus
from tests.conftest import service_missing

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def served(console) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The console on a loopback port, in a thread of this process (same settings, same database)."""
    from web.app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the console did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    sock.close()


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        service_missing(f"Debian's chromium ({CHROMIUM})")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def test_login_open_flagged_dossier_see_receipt_and_validate(console, served, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{served}/file")
    assert "/connexion" in page.url  # no session: sent to the sign-in page
    page.fill("input[name=identifiant]", "dec.demo")
    page.fill("input[name=mot_de_passe]", console.password("dec.demo"))
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/file")
    row = page.locator("tr", has_text="DEMO-101")
    assert "Total des justificatifs différent" in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_url(f"{served}/dossiers/{console.ids['caen']}")
    receipt = page.locator("figure.receipt").first
    img = receipt.locator("img")
    img.wait_for()
    assert page.evaluate("(el) => el.complete && el.naturalWidth > 0", img.element_handle())
    assert "80,00 €" in receipt.locator(".read-total").inner_text()
    assert "85,00 €" in page.locator("#declared-total").inner_text()
    assert "Service fait non attesté" in page.locator("#controles").inner_text()
    page.click("#service-fait button[value=oui]")
    page.wait_for_selector("text=Service fait enregistré")
    page.click("#valider-pay")
    page.wait_for_selector("[data-part=pay]:has-text('Validé')")
    assert "(rémunération) : validé" in page.locator(".flash").first.inner_text()
    page.click("#valider-travel")
    page.wait_for_selector("[data-part=travel]:has-text('Validé')")
    assert page.locator("[data-part=pay]").inner_text() == "Validé"
    with console.db() as s:
        efm = s.get(EtatDeFrais, console.ids["caen"])
        assert efm.pay_status == PartStatus.VALIDATED and efm.travel_status == PartStatus.VALIDATED
