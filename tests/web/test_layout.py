"""Every console page in real headless Chromium at a phone's width (390 px) and a laptop's (1366 px):
nothing wider than the window, so nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.models import Centre
from tests.web.test_browser import browser, served  # noqa: F401 - fixtures
from tests.web.test_mail_quarantine import _quarantined_mail

WIDTHS = [390, 1366]
# The widest elements, to say what overflows when something does.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .map(el => [el.getBoundingClientRect().right, el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className])
  .filter(([right]) => right > window.innerWidth + 0.5).sort((a, b) => b[0] - a[0]).slice(0, 5)"""


def _check(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    _fits(page, url)


def _fits(page: Any, what: str) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{what}: {width} px wide in a {inner} px window; widest: {page.evaluate(WIDEST)}"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_window(console, served, browser, width: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _quarantined_mail()
    with console.db() as s:
        centre = s.scalar(select(Centre.id).where(Centre.code == "0141274A"))
    page = browser.new_page(viewport={"width": width, "height": 900})
    _check(page, f"{served}/connexion")
    page.fill("input[name=identifiant]", "dec.demo")
    page.fill("input[name=mot_de_passe]", console.password("dec.demo"))
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/file")
    _fits(page, "/file")
    for path in [
        "/file?statut=all",
        f"/dossiers/{console.ids['caen']}",
        f"/dossiers/{console.ids['alencon']}",
        f"/service-fait?centre={centre}",
        "/tableau-de-bord",
        "/exports",
        "/courriels",
        "/mot-de-passe",
        "/page-inconnue",
    ]:
        _check(page, served + path)
    # the export's confirmation page, reached as a gestionnaire does: attest, validate, export
    page.goto(f"{served}/dossiers/{console.ids['caen']}")
    page.click("#service-fait button[value=oui]")
    page.wait_for_selector("text=Service fait enregistré")
    page.click("#valider-pay")
    page.wait_for_selector("[data-part=pay]:has-text('Validé')")
    page.goto(f"{served}/exports")
    page.click("button[value=pay]")
    page.wait_for_selector("#confirmation")
    assert "Exporter la rémunération pour paiement ?" in page.inner_text("h1")
    _fits(page, "export confirmation")
    # a chef de centre's pages
    chef = browser.new_page(viewport={"width": width, "height": 900})
    chef.goto(f"{served}/connexion")
    chef.fill("input[name=identifiant]", "chef.0141274a")
    chef.fill("input[name=mot_de_passe]", console.password("chef.0141274a"))
    chef.click("button[type=submit]")
    chef.wait_for_url(f"{served}/file")
    _fits(chef, "/file (chef de centre)")
    _check(chef, f"{served}/service-fait")


def test_keyboard_moves_from_dossier_to_dossier(console, served, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{served}/connexion")
    page.fill("input[name=identifiant]", "dec.demo")
    page.fill("input[name=mot_de_passe]", console.password("dec.demo"))
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/file")
    page.keyboard.press("f")
    assert page.evaluate("document.activeElement.name") == "examen"  # f: to the filters
    page.goto(f"{served}/dossiers/{console.ids['caen']}?statut=all")
    page.keyboard.press("n")
    page.wait_for_url(f"{served}/dossiers/{console.ids['alencon']}?statut=all")
    page.keyboard.press("p")
    page.wait_for_url(f"{served}/dossiers/{console.ids['caen']}?statut=all")
    page.keyboard.press("v")
    assert page.evaluate("document.activeElement.id") == "valider-pay"
