"""Run core use cases from async handlers: one transaction per call, in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from core.db import session_scope

P = ParamSpec("P")
T = TypeVar("T")


def _in_session(fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    with session_scope() as session:
        return fn(session, *args, **kwargs)


async def run_db(fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call `fn(session, *args, **kwargs)` in a committed transaction without blocking the event loop.

    `fn` must return plain data (not ORM objects bound to the closed session).
    """
    return await asyncio.to_thread(_in_session, fn, *args, **kwargs)
