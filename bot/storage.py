"""FSM storage for aiogram and aiogram-dialog that survives restarts.

`SqlStorage` keeps every key in the `bot_state` table on core's engine. A process keeps a copy of
what it read or wrote; writes made while handling one update are saved together, in one
transaction, when the update is done (`StorageFlushMiddleware`, before the answer is acknowledged)
and on close. Run one bot process per database, or use Redis (`make_storage`) to scale out.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from aiogram import BaseMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from aiogram.types import TelegramObject
from sqlalchemy import Engine, Insert, Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.services import call_db
from core.models import utcnow
from core.models.bot_state import BotState
from core.settings import get_settings

Entry = tuple[str | None, dict[str, Any]]

# built once: a statement built for every call costs more than running it
_TABLE = cast(Table, BotState.__table__)
_SELECT = select(_TABLE.c.state, _TABLE.c.data).where(_TABLE.c.key == bindparam("b_key"))
_DELETE = _TABLE.delete().where(_TABLE.c.key == bindparam("b_key"))


def _upsert(dialect: str) -> Insert:
    """INSERT … ON CONFLICT (key) DO UPDATE for SQLite or PostgreSQL: every changed key in one statement."""
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    stmt = insert(_TABLE)
    return stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={"state": stmt.excluded.state, "data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
    )


_ATOMS = (str, int, float, type(None))


def _copy(value: Any) -> Any:
    """A deep copy of plain data (what the table's JSON column holds), several times cheaper than
    `copy.deepcopy` on the dialogs' nested dicts; anything else goes through `copy.deepcopy`."""
    if isinstance(value, _ATOMS):
        return value
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return copy.deepcopy(value)


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class SqlStorage(BaseStorage):
    """aiogram storage on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, key_builder: KeyBuilder | None = None) -> None:
        self.engine = engine
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._cache: dict[str, Entry] = {}
        self._dirty: set[str] = set()
        self._flush_lock = asyncio.Lock()
        self._upsert = _upsert(engine.dialect.name)

    def _load(self, key: str) -> Entry:
        with self.engine.connect() as conn:
            row = conn.execute(_SELECT, {"b_key": key}).first()
        return (row.state, dict(row.data or {})) if row else (None, {})

    def _store(self, entries: dict[str, Entry]) -> None:
        gone = [{"b_key": key} for key, (state, data) in entries.items() if state is None and not data]
        now = utcnow()
        kept = [
            {"key": key, "state": state, "data": data, "updated_at": now}
            for key, (state, data) in entries.items()
            if state is not None or data
        ]
        with self.engine.begin() as conn:
            if gone:
                conn.execute(_DELETE, gone)
            if kept:
                conn.execute(self._upsert, kept)

    async def _get(self, key: StorageKey) -> tuple[str, Entry]:
        name = self.key_builder.build(key)
        entry = self._cache.get(name)
        if entry is None:
            loaded = await call_db(self.engine, self._load, name)
            # a write to this key made while it was being read wins over what was read
            entry = self._cache.setdefault(name, loaded)
        return name, entry

    def _put(self, name: str, state: str | None, data: dict[str, Any]) -> None:
        if self._cache.get(name) == (state, data):
            return  # unchanged: nothing to save
        self._cache[name] = (state, data)
        self._dirty.add(name)

    async def flush(self) -> None:
        """Save every change not saved yet, in one transaction."""
        async with self._flush_lock:
            if not self._dirty:
                return
            names, self._dirty = self._dirty, set()
            # entries are replaced, never changed in place (set_data stores a copy, get_data hands out
            # copies): the ones taken here stay as they are while they are saved
            entries = {name: self._cache[name] for name in names}
            try:
                await call_db(self.engine, self._store, entries)
            except BaseException:
                self._dirty |= names
                raise

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name, (_, data) = await self._get(key)
        self._put(name, _state_name(state), data)

    async def get_state(self, key: StorageKey) -> str | None:
        _, (state, _) = await self._get(key)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        name, (state, _) = await self._get(key)
        self._put(name, state, _copy(dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, (_, data) = await self._get(key)
        return _copy(data)

    async def close(self) -> None:
        await self.flush()
        self._cache.clear()


class StorageFlushMiddleware(BaseMiddleware):
    """Outer update middleware: save the storage's changes once the update is handled."""

    def __init__(self, storage: SqlStorage) -> None:
        self.storage = storage

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            await self.storage.flush()


def make_storage() -> BaseStorage:
    """Redis storage when `redis_url` is set, else SQL storage on core's engine."""
    key_builder = DefaultKeyBuilder(with_destiny=True)
    url = get_settings().redis_url
    if url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(url, key_builder=key_builder)
    from core.db import get_engine

    return SqlStorage(get_engine(), key_builder)
