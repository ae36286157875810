"""Alembic migrations, configured in code (no alembic.ini needed)."""

from pathlib import Path

from alembic.config import Config

HERE = Path(__file__).parent


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at this folder; ``url`` defaults to the settings' database."""
    from core.settings import get_settings

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().sqlalchemy_url).replace("%", "%%"))
    return cfg
