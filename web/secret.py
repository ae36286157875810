"""The session signing key: IMAGIN_WEB_SECRET, else a random key kept in the data directory."""

from __future__ import annotations

import os
import secrets

from core.settings import get_settings

MIN_LENGTH = 32


def web_secret() -> str:
    """The key; created (mode 0600) on first start when the environment gives none."""
    s = get_settings()
    if s.web_secret is not None and s.web_secret.get_secret_value():
        return s.web_secret.get_secret_value()
    path = s.data_dir / "web_secret"
    if path.exists():
        key = path.read_text().strip()
        if len(key) >= MIN_LENGTH:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
