"""Settings: environment variables ``IMAGIN_*`` over a TOML file (``config/imagin.toml``)."""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

import config

DEFAULT_CONFIG_FILE = Path(config.__file__).parent / "imagin.toml"


class Settings(BaseSettings):
    """All runtime settings; one line each. Secrets only from the environment."""

    model_config = SettingsConfigDict(env_prefix="IMAGIN_", extra="ignore")

    data_dir: Path = Path("./var")  # SQLite file, receipts, raw mail
    database_url: str | None = None  # default: SQLite in data_dir
    redis_url: str | None = None  # IMAGIN_REDIS_URL: bot state and task queue at scale
    bot_token: SecretStr | None = None  # IMAGIN_BOT_TOKEN: unset -> local Bot API emulator
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    web_port: int = 8080
    web_host: str = "127.0.0.1"  # DEC console bind address
    web_secret: SecretStr | None = None  # IMAGIN_WEB_SECRET: session key (default: random, kept in data_dir)
    web_https_only: bool = False  # DEC console: session cookie only over HTTPS (behind a TLS proxy)
    web_proxy_ips: str = ""  # DEC console: reverse proxies trusted for X-Forwarded-For (comma-separated)
    emulator_port: int = 8081
    bot_webhook_url: str | None = None  # public HTTPS URL for Telegram webhooks; unset -> long polling
    bot_webhook_port: int = 8443  # local port the webhook server listens on
    bot_webhook_secret: SecretStr | None = None  # IMAGIN_BOT_WEBHOOK_SECRET: checked on every webhook call
    intake_addresses: str = "recus@imagin.localhost"  # comma-separated intake addresses
    intake_domain: str = "imagin.localhost"  # domain of the personal plus-addresses
    relay_host: str | None = None  # outbound SMTP relay for replies; unset: written to <data_dir>/mail-out/
    relay_port: int = 25
    relay_starttls: bool = False  # use STARTTLS with the relay
    relay_user: str | None = None  # relay login (IMAGIN_RELAY_PASSWORD from the environment)
    relay_password: SecretStr | None = None
    smtp_max_message_bytes: int = 30 * 1024 * 1024  # SMTP intake: larger messages get 552
    smtp_timeout_seconds: float = 60.0  # SMTP intake: idle time allowed per command
    smtp_require_auth: bool = False  # SMTP intake: require AUTH before MAIL
    smtp_users: SecretStr | None = None  # SMTP intake: "login:argon2-hash;..." (environment only)
    smtp_tls_cert: Path | None = None  # SMTP intake: certificate for STARTTLS (with smtp_tls_key)
    smtp_tls_key: Path | None = None
    mail_trusted_authserv_ids: str = ""  # comma-separated: only these Authentication-Results count
    mail_replies_per_hour: int = 20  # e-mail answers to one address per hour at most (then kept silent)
    imap_host: str | None = None  # IMAP intake mailbox; unset: no poller
    imap_port: int = 993
    imap_security: str = "ssl"  # ssl | starttls | none
    imap_user: str = ""
    imap_password: SecretStr | None = None  # IMAGIN_IMAP_PASSWORD (environment only)
    imap_folder: str = "INBOX"
    imap_processed_folder: str = "Imagin-traites"  # stored messages go here ('' : flag them instead)
    imap_rejected_folder: str = "Imagin-rejetes"  # messages that cannot be taken (too large)
    imap_poll_seconds: float = 30.0
    receipt_tolerance: Decimal = Decimal("1.00")  # EUR accepted between read and declared totals
    declaration_deadline: str = "08-31"  # MM-DD: yearly deadline for declarations
    academie_name: str = "Académie de Normandie"  # header of the recap PDF and signature of e-mails
    academie_service: str = "Division des examens et concours (DEC)"  # the service that pays the frais
    academie_address: str = ""  # postal address printed under the header (optional)
    chat_link: str = ""  # how intervenants reach the assistant's chat (e.g. https://t.me/ImaginBot)
    throttle_free_failures: int = 3  # failed logins (per chat/address, per identifier) before delays start
    throttle_base_delay_seconds: float = 2.0  # first delay; it doubles with each further failure
    throttle_max_delay_seconds: float = 300.0  # the delay never grows past this (no lock-out)
    throttle_window_seconds: int = 3600  # failed logins older than this are forgotten
    password_hash_time_cost: int = 3  # argon2id (RFC 9106 low-memory profile)
    password_hash_memory_kib: int = 65536
    rules_file: Path | None = None  # rules as data; default config/rules.toml
    retention_days: int = 365  # purge: raw mail and receipts of closed dossiers older than this
    log_format: str = "text"  # text | json (one JSON object per line, for a log collector)
    log_level: str = "INFO"  # root log level of `imagin run`
    backup_dir: Path | None = None  # `imagin backup` target; default data_dir/backups
    ocr_workers: int = 2  # OCR worker processes started by one `worker` role
    ocr_sweep_after_seconds: int = 300  # a receipt still unread this long after upload is queued again
    ops_host: str = "127.0.0.1"  # bind address of the `ops` role
    ops_port: int | None = None  # health/readiness/metrics HTTP port of the `ops` role (unset: no role)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("IMAGIN_CONFIG", DEFAULT_CONFIG_FILE))
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'imagin.sqlite').resolve()}"

    @property
    def intake_address_list(self) -> list[str]:
        return [a.strip().lower() for a in self.intake_addresses.split(",") if a.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached)."""
    return Settings()


def reset_settings() -> None:
    """Forget cached settings and everything built from them (tests, reconfiguration)."""
    get_settings.cache_clear()
    from core import db

    db.reset_engine()
