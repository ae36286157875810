"""Content-addressed file store (local folder by default): the key is the SHA-256 of the bytes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from core.settings import get_settings


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    """Stores bytes under their SHA-256; writes are atomic and durable (fsync) and idempotent."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"bad storage key {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        """Store ``data`` durably and return its key."""
        key = sha256_hex(data)
        target = self.path(key)
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return key

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def receipt_store() -> FileStore:
    """The store of receipts' bytes."""
    return FileStore(get_settings().data_dir / "receipts")


def mail_store() -> FileStore:
    """The store of raw inbound mail."""
    return FileStore(get_settings().data_dir / "mail")
