"""``first_delivery``: one caller wins per key, across processes (Redis) or in one process."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from core.ops.idempotency import first_delivery


async def test_in_memory_without_redis():
    assert await first_delivery("tg:1:100") is True
    assert await first_delivery("tg:1:100") is False
    assert await first_delivery("tg:1:101") is True
    assert await first_delivery("tg:1:102", ttl_seconds=0) is True
    assert await first_delivery("tg:1:102") is True  # the first mark had already expired


async def test_redis_one_winner_among_concurrent_processes(redis_url, monkeypatch: pytest.MonkeyPatch):
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_REDIS_URL", redis_url)
    reset_settings()
    results = await asyncio.gather(*(first_delivery("tg:7:555") for _ in range(20)))
    assert results.count(True) == 1
    code = "import asyncio; from core.ops.idempotency import first_delivery as f; print(asyncio.run(f('tg:7:555')))"
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"IMAGIN_REDIS_URL": redis_url, "PATH": "/usr/bin:/bin"},
    )
    assert other.stdout.strip() == "False", other.stderr  # another process sees the mark
    assert await first_delivery("tg:7:556") is True
