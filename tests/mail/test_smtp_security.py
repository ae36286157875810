"""SMTP by configuration: STARTTLS and AUTH required, users with argon2 hashes."""

from __future__ import annotations

import shutil
import smtplib
import ssl
import subprocess

import pytest
from argon2 import PasswordHasher

from core.settings import reset_settings
from tests.conftest import service_missing
from tests.mail import factory
from tests.mail.conftest import INTAKE


@pytest.fixture
def secured(mail_env, tmp_path, monkeypatch, start_service):  # type: ignore[no-untyped-def]
    if shutil.which("openssl") is None:
        service_missing("The openssl command (to make a test certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("IMAGIN_SMTP_TLS_CERT", str(cert))
    monkeypatch.setenv("IMAGIN_SMTP_TLS_KEY", str(key))
    monkeypatch.setenv("IMAGIN_SMTP_REQUIRE_AUTH", "true")
    monkeypatch.setenv("IMAGIN_SMTP_USERS", f"relay:{PasswordHasher().hash('bon-mot-de-passe')}")
    reset_settings()
    return start_service()


def tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def test_auth_requires_starttls_and_a_valid_password(secured):
    raw = factory.wire(factory.message())
    with smtplib.SMTP("127.0.0.1", secured.port, timeout=30) as client:
        client.ehlo()
        code, _ = client.mail("ines.leroy@example.org")
        assert code == 530  # STARTTLS first
    with smtplib.SMTP("127.0.0.1", secured.port, timeout=30) as client:
        client.starttls(context=tls())
        client.ehlo()
        assert client.mail("ines.leroy@example.org")[0] == 530  # authentication required
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("relay", "mauvais")
    with smtplib.SMTP("127.0.0.1", secured.port, timeout=30) as client:
        client.starttls(context=tls())
        client.login("relay", "bon-mot-de-passe")
        assert client.sendmail("ines.leroy@example.org", [INTAKE], raw) == {}
