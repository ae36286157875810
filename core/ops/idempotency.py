"""Process a delivery once across every process: ``first_delivery(key)`` is True for the first caller only.

For deliveries that may come twice (a Telegram update re-sent after a lost 200, a balancer retrying on
another bot process). With ``IMAGIN_REDIS_URL`` the mark is a Redis ``SET NX`` with an expiry, shared
by all processes; without Redis (embedded default, one process) it is kept in memory.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from core.settings import get_settings

PREFIX = "imagin:seen:"
DEFAULT_TTL = 24 * 3600  # Telegram gives up re-sending an update well within a day

_local: dict[str, float] = {}  # key -> expiry (monotonic), embedded default only
_clients: dict[tuple[str, int], Any] = {}  # (Redis URL, event loop id) -> client (a pool per loop)


def _client(url: str) -> Any:
    import redis.asyncio as aioredis

    key = (url, id(asyncio.get_running_loop()))
    if key not in _clients:
        _clients[key] = aioredis.Redis.from_url(url)
    return _clients[key]


async def first_delivery(key: str, ttl_seconds: int = DEFAULT_TTL) -> bool:
    """Mark ``key`` as seen; True if nobody had marked it within ``ttl_seconds``."""
    url = get_settings().redis_url
    if url:
        return bool(await _client(url).set(PREFIX + key, b"1", nx=True, ex=ttl_seconds))
    now = time.monotonic()
    if len(_local) > 100_000:  # drop expired marks now and then
        for k in [k for k, until in _local.items() if until <= now]:
            del _local[k]
    if _local.get(key, 0.0) > now:
        return False
    _local[key] = now + ttl_seconds
    return True
