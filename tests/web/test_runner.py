"""``run_web``: the console served on IMAGIN_WEB_PORT and stopped when the event is set."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_run_web_serves_until_stopped(db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from core.settings import reset_settings
    from web.runner import run_web

    port = _free_port()
    monkeypatch.setenv("IMAGIN_WEB_PORT", str(port))
    reset_settings()
    stop = asyncio.Event()
    task = asyncio.create_task(run_web(stop))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(100):
            try:
                r = await client.get("/readyz")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert (await client.get("/file")).status_code == 303
    stop.set()
    await asyncio.wait_for(task, 20)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
