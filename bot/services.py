"""Run core use cases from async handlers: one transaction per call, never waiting on the event loop.

With SQLite a call runs on the event loop: a thread hand-off per call (and the loop fighting the worker for
the GIL) costs more CPU than most calls, and the bot's writes, all from one thread, never wait for each other.
On the loop a connection does not wait for another's write lock (the mail pipeline, the OCR workers): its busy
timeout is zero there, and the call, rolled back, runs again in the one SQLite worker thread, which waits the
full busy timeout. One thread: concurrent writers from several threads wait for the lock in SQLite's busy
handler, which sleeps (1, 2, 5, 10 ... 100 ms) instead of taking the lock as soon as it is free. Other
databases use the loop's default executor.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from core.db import SQLITE_BUSY_TIMEOUT_MS, get_engine, session_scope

P = ParamSpec("P")
T = TypeVar("T")

_sqlite_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
_on_loop = contextvars.ContextVar("on_loop", default=False)  # this call runs on the event loop
_watched: weakref.WeakSet[Engine] = weakref.WeakSet()  # SQLite engines with the busy timeout set per checkout


def _busy_timeout(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """No waiting for a lock on the event loop (the call goes to the thread instead), the full wait elsewhere."""
    wanted = 0 if _on_loop.get() else SQLITE_BUSY_TIMEOUT_MS
    if record.info.get("busy_timeout", SQLITE_BUSY_TIMEOUT_MS) != wanted:
        dbapi_conn.execute(f"PRAGMA busy_timeout={wanted}")
        record.info["busy_timeout"] = wanted


def _locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


async def call_db(engine: Engine, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)`, one transaction on `engine`: on the loop for SQLite unless it would wait for a
    lock, else in the worker thread for `engine` (context variables carried, like to_thread)."""
    if engine.dialect.name == "sqlite":
        if engine not in _watched:
            event.listen(engine, "checkout", _busy_timeout)
            _watched.add(engine)
        token = _on_loop.set(True)
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if not _locked(exc):
                raise
        finally:
            _on_loop.reset(token)
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(executor_for(engine), call)


def executor_for(engine: Engine) -> ThreadPoolExecutor | None:
    """The executor for blocking calls on `engine`: one thread for SQLite, else the loop's default."""
    return _sqlite_thread if engine.dialect.name == "sqlite" else None


def _in_session(fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    with session_scope() as session:
        return fn(session, *args, **kwargs)


async def run_db(fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call `fn(session, *args, **kwargs)` in a committed transaction without blocking the event loop.

    `fn` must return plain data (not ORM objects bound to the closed session).
    """
    return await call_db(get_engine(), _in_session, fn, *args, **kwargs)
