"""Request plumbing of the console: the signed-in staff member, CSRF, flash messages, rendering.

A handler is a plain function ``fn(ctx, **path_params) -> Response`` decorated with ``@page``: it
runs in a worker thread inside one database transaction (committed when it returns, rolled back
when it raises). Every POST must carry the session's CSRF token; every page but the public ones
needs a signed-in, active staff account whose password has not changed since sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from core.db import session_scope
from core.dec.queue import Operator
from core.errors import DomainError, Forbidden, NotFound
from core.french import format_size
from core.models import StaffUser
from web import filters

SESSION_MAX_AGE = 8 * 3600  # seconds a sign-in lasts
MAX_BODY = 6 * 1024 * 1024  # largest form accepted (a CSV list of the centre)
Handler = Callable[..., Response]

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
filters.install(templates.env)


def password_fingerprint(user: StaffUser) -> str:
    """Changes when the password changes, so older sessions end."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def start_session(request: Request, user: StaffUser) -> None:
    """A fresh session for a signed-in user (new CSRF token: no fixation)."""
    request.session.clear()
    request.session.update(
        {"uid": user.id, "pwf": password_fingerprint(user), "at": int(time.time()), "csrf": secrets.token_urlsafe(32)}
    )


def current_user(request: Request, db: Session) -> StaffUser | None:
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = db.get(StaffUser, uid)
    fresh = int(time.time()) - int(request.session.get("at", 0)) < SESSION_MAX_AGE
    if user is None or not user.active or not fresh or request.session.get("pwf") != password_fingerprint(user):
        request.session.clear()
        return None
    return user


@dataclass
class Ctx:
    """What a handler gets: the request, the transaction, who acts, and the posted form."""

    request: Request
    db: Session
    user: StaffUser | None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def op(self) -> Operator:
        if self.user is None:
            raise Forbidden("Connectez-vous pour continuer.")
        return Operator.of(self.user)

    def field(self, name: str, default: str = "") -> str:
        values = self.form.get(name)
        return values[0] if values else default

    def fields(self, name: str) -> list[str]:
        return self.form.get(name, [])

    def query(self, name: str) -> str:
        return self.request.query_params.get(name, "").strip()

    def flash(self, text: str, kind: str = "ok") -> None:
        flash(self.request, text, kind)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def render(self, name: str, status_code: int = 200, **context: Any) -> Response:
        return render(self.request, name, status_code, user=self.user, **context)


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """A message for the next page (assigned, not mutated, so the session cookie is rewritten)."""
    request.session["flash"] = [*request.session.get("flash", []), {"text": text, "kind": kind}]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    flashes = request.session.pop("flash", [])
    context.setdefault("user", None)
    return templates.TemplateResponse(
        request, name, {"csrf": csrf_token(request), "flashes": flashes, **context}, status_code=status_code
    )


def error_page(request: Request, status: int, message: str, user: dict[str, str] | None = None) -> Response:
    return render(request, "error.html", status, message=message, status=status, user=user)


def safe_next(url: str | None) -> str:
    """A local path to go back to (never another site)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/"


def _back(request: Request, form: dict[str, list[str]]) -> str:
    """Where to show an error after a refused POST: the form's page."""
    if form.get("retour"):
        return safe_next(form["retour"][0])
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path:
        return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
    parent = request.url.path.rsplit("/", 1)[0]
    return safe_next(parent or request.url.path)


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/connexion?suivant={quote(target)}", status_code=303)


def _run(
    fn: Handler,
    request: Request,
    form: dict[str, list[str]],
    files: dict[str, tuple[str, bytes]],
    public: bool,
    gestionnaire: bool,
    password_page: bool,
    params: dict[str, Any],
) -> Response:
    posting = request.method == "POST"
    user: dict[str, str] | None = None  # what error pages show, usable after a rollback
    try:
        with session_scope() as db:
            staff = current_user(request, db)
            if staff is not None:
                user = {"full_name": staff.full_name, "role": str(staff.role)}
            if not public and staff is None:
                if posting:
                    return error_page(request, 401, "Votre session a expiré : reconnectez-vous.")
                return _login_redirect(request)
            if posting:
                sent = (form.get("csrf") or [""])[0]
                expected = request.session.get("csrf", "")
                if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
                    return error_page(
                        request, 403, "Jeton de sécurité invalide ou expiré : rechargez la page et recommencez.", user
                    )
            if staff is not None and staff.must_change_password and not (public or password_page):
                return RedirectResponse("/mot-de-passe", status_code=303)
            if gestionnaire and staff is not None:
                Operator.of(staff).require_gestionnaire()
            return fn(Ctx(request, db, staff, form, files), **params)
    except NotFound as exc:
        return error_page(request, 404, exc.message, user)
    except Forbidden as exc:
        return error_page(request, 403, exc.message, user)
    except DomainError as exc:
        if not posting:
            return error_page(request, 400, exc.message, user)
        flash(request, exc.message, "error")
        return RedirectResponse(_back(request, form), status_code=303)


def page(
    *, public: bool = False, gestionnaire: bool = False, password_page: bool = False
) -> Callable[[Handler], Callable[..., Any]]:
    """Make a handler a Starlette endpoint (see the module docstring).

    ``public``: no sign-in needed; ``gestionnaire``: DEC only; ``password_page``: reachable while a
    password change is pending (every other page redirects there until it is done).
    """

    def deco(fn: Handler) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            form: dict[str, list[str]] = {}
            files: dict[str, tuple[str, bytes]] = {}
            if request.method == "POST":
                if int(request.headers.get("content-length") or 0) > MAX_BODY:
                    return HTMLResponse(f"Envoi trop volumineux ({format_size(MAX_BODY)} au plus).", status_code=413)
                async with request.form(max_part_size=MAX_BODY) as data:
                    for key, value in data.multi_items():
                        if isinstance(value, UploadFile):
                            if value.filename:
                                files[key] = (value.filename, await value.read(MAX_BODY + 1))
                        else:
                            form.setdefault(key, []).append(value)
            return await run_in_threadpool(
                _run, fn, request, form, files, public, gestionnaire, password_page, dict(request.path_params)
            )

        endpoint.__name__ = fn.__name__
        endpoint.__doc__ = fn.__doc__
        return endpoint

    return deco
