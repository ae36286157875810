"""The emulator's web chat page in headless Chromium (Debian's, through Playwright), with the real bot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.bot.conftest import RunningBot
from tests.bot.helpers import person
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


async def test_link_and_open_a_mission_from_the_browser(running: RunningBot, demo: dict[str, Any]) -> None:
    if not CHROMIUM.exists():
        service_missing(f"Debian's chromium ({CHROMIUM})")
    from playwright.async_api import async_playwright

    p = person(demo, 0)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = await browser.new_page()
            await page.goto(running.emulator.url + "/")
            await page.fill("#user", "1234")
            await page.dispatch_event("#user", "change")

            async def say(text: str, expect: str) -> None:
                await page.fill("#text", text)
                await page.click("button[type=submit]")
                await page.locator(".msg.bot", has_text=expect).last.wait_for(timeout=15000)

            await say("/start", "identifiant figurant sur votre convocation")
            await say(p["numero"], "imprimé sur votre convocation")
            await say(p["mot_de_passe"], "choisissez votre code personnel")
            await say("Jury2026bac", "Vos missions")
            assert p["mot_de_passe"] not in await page.inner_text("#chat")  # deleted from the chat
            await page.locator(".kb button", has_text="DEMO-101").last.click()
            await page.locator(".kb button", has_text="Déclarer").last.click()
            await page.locator(".msg.bot", has_text="Étape 1/8").last.wait_for(timeout=15000)
        finally:
            await browser.close()
