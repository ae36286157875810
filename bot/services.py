"""Run core use cases from async handlers: one transaction per call, in a worker thread.

With SQLite every call goes through one thread: SQLite lets one connection write at a time, and
concurrent writers from several threads wait for the lock in SQLite's busy handler, which sleeps
(1, 2, 5, 10 ... 100 ms) instead of taking the lock as soon as it is free. One thread also keeps the
event loop from fighting several workers for the GIL. Other databases use the default executor.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.db import get_engine, session_scope

P = ParamSpec("P")
T = TypeVar("T")

_sqlite_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")


def executor_for(engine: Engine) -> ThreadPoolExecutor | None:
    """The executor for blocking calls on `engine`: one thread for SQLite, else the loop's default."""
    return _sqlite_thread if engine.dialect.name == "sqlite" else None


async def in_db_thread(engine: Engine, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` in the worker thread for `engine` (context variables carried, like to_thread)."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(executor_for(engine), call)


def _in_session(fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    with session_scope() as session:
        return fn(session, *args, **kwargs)


async def run_db(fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call `fn(session, *args, **kwargs)` in a committed transaction without blocking the event loop.

    `fn` must return plain data (not ORM objects bound to the closed session).
    """
    return await in_db_thread(get_engine(), _in_session, fn, *args, **kwargs)
