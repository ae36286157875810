"""The console's pages: sign-in, queue, dossier and decisions, service fait, dashboard, exports, mail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core import permissions, receipt_lines
from core.accounts import authenticate_staff
from core.dec import queue as dec
from core.dec.accounts import change_own_password
from core.dec.attestations import EXAMPLE as CSV_EXAMPLE
from core.dec.attestations import import_attestations
from core.dec.exports import (
    dossier_zip,
    export_payment,
    payment_export,
    recap_pdf,
    saved_export,
    saved_exports,
    waiting_payment,
)
from core.dec.operators import actor_names
from core.dec.queue import DECISION_LABELS, QueueFilter
from core.dec.worklist import bulk_validable, needs_checking, neighbours, validate_unflagged
from core.declarations import TRIP_MODES, active_parts, part_status
from core.errors import Forbidden, InvalidInput, NotFound, Throttled
from core.estimates import estimate_for
from core.filestore import receipt_store
from core.justification import KIND_LABELS
from core.mail import intake as mail_intake
from core.models import Centre, EtatDeFrais, InboundMail, Receipt
from core.ops.privacy import PURGED
from core.prechecks import FLAG_LABELS
from core.receipts import receipts_of
from core.rules import CATEGORY_LABELS
from core.statuses import Part, PartStatus
from web.charts import bar_chart
from web.framework import Ctx, error_page, page, safe_next, start_session
from web.ops import health_routes

PART_CHOICES = {"pay": [Part.PAY], "travel": [Part.TRAVEL], "both": None}


# ------------------------------------------------------------------------------------------ sign-in


@page(public=True)
def login(ctx: Ctx) -> Response:
    """Sign-in form; throttled per address and per login (core.accounts)."""
    target = safe_next(ctx.query("suivant") or ctx.field("suivant"))
    if ctx.request.method == "GET":
        if ctx.user is not None:
            return ctx.redirect(target)
        return ctx.render("login.html", suivant=target)
    login_name = ctx.field("identifiant").strip()
    origin = f"ip:{ctx.request.client.host if ctx.request.client else 'inconnue'}"
    try:
        user = authenticate_staff(ctx.db, login_name, ctx.field("mot_de_passe"), origin=origin)
    except Throttled as exc:
        return ctx.render("login.html", 429, error=exc.message, suivant=target, identifiant=login_name)
    except Forbidden as exc:
        return ctx.render("login.html", 401, error=exc.message, suivant=target, identifiant=login_name)
    start_session(ctx.request, user)
    return ctx.redirect(target)


@page(password_page=True)
def change_password(ctx: Ctx) -> Response:
    """Change one's password (forced at first sign-in when the account says so)."""
    if ctx.request.method == "GET":
        return ctx.render("password.html", forced=ctx.user.must_change_password)
    user = ctx.user
    change_own_password(ctx.db, user, ctx.field("actuel"), ctx.field("nouveau"), ctx.field("confirmation"))
    start_session(ctx.request, user)
    ctx.flash("Mot de passe changé.")
    return ctx.redirect("/file")


@page(password_page=True)
def logout(ctx: Ctx) -> Response:
    ctx.request.session.clear()
    return ctx.redirect("/connexion")


def home(_request: Request) -> Response:
    return RedirectResponse("/file", status_code=303)


# ------------------------------------------------------------------------------------------ queue


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


QUEUE_FILTERS = ("examen", "session", "centre", "type", "statut", "controle")


def _queue_filter(ctx: Ctx) -> tuple[QueueFilter, dict[str, str]]:
    """The queue's filters from the query string, and those chosen (to carry them from page to page)."""
    chosen = {n: ctx.query(n) for n in QUEUE_FILTERS}
    f = QueueFilter(
        exam_id=_int_or_none(chosen["examen"]),
        session=chosen["session"] or None,
        centre_id=_int_or_none(chosen["centre"]),
        mission_type=chosen["type"] or None,
        status=chosen["statut"] or None,
        flag=chosen["controle"] or None,
    )
    return f, chosen


@page()
def queue_page(ctx: Ctx) -> Response:
    """The queue, oldest first, with its filters; dossiers with nothing to check can be validated together."""
    f, chosen = _queue_filter(ctx)
    page_no = max(_int_or_none(ctx.query("page")) or 1, 1)
    rows, total = dec.queue(ctx.db, ctx.op, f, page=page_no)
    pages = max((total + dec.PAGE_SIZE - 1) // dec.PAGE_SIZE, 1)
    keep = {k: v for k, v in chosen.items() if v}
    return ctx.render(
        "queue.html",
        rows=rows,
        total=total,
        chosen=chosen,
        choices=dec.filter_choices(ctx.db, ctx.op),
        page=page_no,
        pages=pages,
        query=lambda p: urlencode({**keep, "page": p}),
        filters=urlencode(keep),
        validable={e.id for e in rows if bulk_validable(e)} if ctx.op.is_gestionnaire else set(),
        needs_checking=needs_checking,
        is_gestionnaire=ctx.op.is_gestionnaire,
    )


@page(gestionnaire=True)
def queue_validate(ctx: Ctx) -> Response:
    """Validate the dossiers ticked in the queue (only those with nothing to check are validated)."""
    ids = [int(v) for v in ctx.fields("dossier") if v.isdigit()]
    if not ids:
        raise InvalidInput("Cochez au moins un dossier sans point à vérifier, puis validez.")
    report = validate_unflagged(ctx.db, ctx.op, ids)
    if report.validated:
        ctx.flash(f"{len(report.validated)} dossier(s) validé(s) : {', '.join(report.validated)}.")
    if report.refused:
        ctx.flash("Non validés : " + " ; ".join(f"{number} ({reason})" for number, reason in report.refused), "error")
    return ctx.redirect(safe_next(ctx.field("retour") or "/file"))


# ------------------------------------------------------------------------------------------ dossier


@page()
def dossier_page(ctx: Ctx, efm_id: int) -> Response:
    """The declaration, trips, estimate, receipts beside their read totals, flags and decisions."""
    efm = dec.get_dossier(ctx.db, ctx.op, efm_id)
    parts = active_parts(efm)
    receipts = receipts_of(ctx.db, efm.id)
    read_total = sum((r.ocr_total for r in receipts if r.ocr_total is not None), Decimal("0.00"))
    estimate = estimate_for(ctx.db, efm)
    return ctx.render(
        "dossier.html",
        efm=efm,
        mission=efm.convocation.mission,
        person=efm.convocation.intervenant,
        parts=[(p, part_status(efm, p), permissions.allowed_actions(efm, ctx.user, p)) for p in parts],
        can_request_info=permissions.REQUEST_INFO in permissions.allowed_actions(efm, ctx.user),
        estimate=estimate,
        categories=[(CATEGORY_LABELS[k], v) for k, v in estimate.by_category().items()],
        lines=receipt_lines.line_views(ctx.db, efm),
        kind_labels=KIND_LABELS,
        receipts=receipts,
        read_total=read_total if receipts else None,
        flags=sorted(efm.flags, key=lambda f: {"blocking": 0, "warning": 1}.get(f.severity, 2)),
        decisions=dec.decisions_of(ctx.db, efm.id),
        labels=DECISION_LABELS,
        trip_modes=TRIP_MODES,
        is_gestionnaire=ctx.op.is_gestionnaire,
        **_dossier_extras(ctx, efm),
    )


def _dossier_extras(ctx: Ctx, efm: EtatDeFrais) -> dict[str, object]:
    """What the dossier page shows besides the dossier: who acted (names), and the way back and on in the queue."""
    f, chosen = _queue_filter(ctx)
    filters = urlencode({k: v for k, v in chosen.items() if v})
    actors = [d.actor for d in dec.decisions_of(ctx.db, efm.id)]
    if efm.service_fait is not None:
        actors.append(efm.service_fait.attested_by)
    return {
        "names": actor_names(ctx.db, actors),
        "around": neighbours(ctx.db, ctx.op, f, efm.id),
        "filters": filters,
        "here": f"/dossiers/{efm.id}" + (f"?{filters}" if filters else ""),
    }


@page(gestionnaire=True)
def decide(ctx: Ctx, efm_id: int) -> Response:
    """One decision from the dossier page."""
    action = ctx.field("action")
    part = ctx.field("partie", "both")
    if part not in PART_CHOICES:
        raise InvalidInput("Partie inconnue : choisissez rémunération, déplacement ou les deux.")
    efm = dec.get_dossier(ctx.db, ctx.op, efm_id)
    dec.decide(ctx.db, ctx.op, efm.id, action, PART_CHOICES[part], ctx.field("motif"))
    which = {"pay": "rémunération", "travel": "déplacement", "both": "dossier"}[part]
    ctx.flash(f"Dossier {efm.dossier_number} ({which}) : {DECISION_LABELS.get(action, action)}.")
    return ctx.redirect(safe_next(ctx.field("retour") or f"/dossiers/{efm.id}"))


@page()
def attest_one(ctx: Ctx, efm_id: int) -> Response:
    """Service fait for one mission (gestionnaire, or the chef of its centre)."""
    done = ctx.field("effectue")
    if done not in ("oui", "non"):
        raise InvalidInput("Indiquez si la mission a été effectuée : oui ou non.")
    dec.attest(ctx.db, ctx.op, efm_id, done == "oui")
    ctx.flash("Service fait enregistré : mission " + ("effectuée." if done == "oui" else "non effectuée."))
    return ctx.redirect(safe_next(ctx.field("retour") or f"/dossiers/{efm_id}"))


@page()
def recap(ctx: Ctx, efm_id: int) -> Response:
    data = recap_pdf(ctx.db, ctx.op, efm_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="recapitulatif-{efm_id}.pdf"'},
    )


@page()
def dossier_archive(ctx: Ctx, efm_id: int) -> Response:
    name, data = dossier_zip(ctx.db, ctx.op, efm_id)
    return Response(
        data, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@page()
def receipt_file(ctx: Ctx, receipt_id: int) -> Response:
    """A receipt's bytes, only for staff who may see its dossier."""
    receipt = ctx.db.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound("Justificatif introuvable.")
    dec.get_dossier(ctx.db, ctx.op, receipt.efm_id)
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "application/pdf": "pdf"}
    if receipt.detected_type not in ext:
        raise NotFound("Justificatif introuvable.")
    if receipt.storage_key == PURGED:
        raise NotFound("Ce justificatif a été supprimé : sa durée de conservation est dépassée.")
    return Response(
        receipt_store().get(receipt.storage_key),
        media_type=receipt.detected_type,
        headers={
            "Content-Disposition": f'inline; filename="justificatif-{receipt.id}.{ext[receipt.detected_type]}"',
            "Cache-Control": "private, no-store",
        },
    )


# ------------------------------------------------------------------------------------------ service fait


@page()
def service_fait_page(ctx: Ctx) -> Response:
    """Missions of a centre with their attestation; bulk attestation and CSV import."""
    op = ctx.op
    centres = list(ctx.db.scalars(select(Centre).order_by(Centre.name))) if op.is_gestionnaire else []
    centre_id = _int_or_none(ctx.query("centre")) if op.is_gestionnaire else op.centre_id
    day = None
    if ctx.query("jour"):
        try:
            day = date.fromisoformat(ctx.query("jour"))
        except ValueError:
            raise InvalidInput("Date invalide. Exemple : 2026-06-15") from None
    rows = dec.attestation_list(ctx.db, op, centre_id, day)
    centre = ctx.db.get(Centre, centre_id) if centre_id else None
    return ctx.render(
        "service_fait.html",
        rows=rows,
        centres=centres,
        centre=centre,
        jour=ctx.query("jour"),
        example=CSV_EXAMPLE,
        report=ctx.request.session.pop("import_report", None),
    )


@page()
def service_fait_bulk(ctx: Ctx) -> Response:
    done = ctx.field("effectue")
    ids = [int(v) for v in ctx.fields("efm") if v.isdigit()]
    if done not in ("oui", "non") or not ids:
        raise InvalidInput("Cochez au moins une mission, puis choisissez « effectuée » ou « non effectuée ».")
    for efm_id in ids:
        dec.attest(ctx.db, ctx.op, efm_id, done == "oui")
    ctx.flash(f"{len(ids)} attestation(s) enregistrée(s).")
    return ctx.redirect(safe_next(ctx.field("retour") or "/service-fait"))


@page()
def service_fait_import(ctx: Ctx) -> Response:
    upload = ctx.files.get("fichier")
    if upload is None:
        raise InvalidInput("Choisissez le fichier CSV du centre.")
    report = import_attestations(ctx.db, ctx.op, upload[1])
    ctx.request.session["import_report"] = {
        "recorded": report.recorded,
        "errors": report.errors[:200],
        "more": max(len(report.errors) - 200, 0),
    }
    return ctx.redirect(safe_next(ctx.field("retour") or "/service-fait"))


# ------------------------------------------------------------------------------------------ dashboard


@page()
def dashboard_page(ctx: Ctx) -> Response:
    board = dec.dashboard(ctx.db, ctx.op)
    statuses = [(s, board.by_status[s.value]) for s in PartStatus if s.value in board.by_status]
    return ctx.render(
        "dashboard.html", board=board, statuses=statuses, flag_labels=FLAG_LABELS, chart=bar_chart(board.per_day)
    )


# ------------------------------------------------------------------------------------------ exports


@page(gestionnaire=True)
def exports_page(ctx: Ctx) -> Response:
    return ctx.render("exports.html", waiting=waiting_payment(ctx.db, ctx.op), saved=saved_exports())


@page(gestionnaire=True)
def saved_export_file(ctx: Ctx, name: str) -> Response:
    """A kept payment export, downloaded again."""
    return Response(
        saved_export(name),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@page(gestionnaire=True)
def payment_csv(ctx: Ctx) -> Response:
    """Confirm, then download the payment CSV of one part; the exported parts go to « Transmis à la liquidation »."""
    part = ctx.field("partie")
    if part not in ("pay", "travel"):
        raise InvalidInput("Choisissez l'export de la rémunération ou des déplacements.")
    if ctx.field("confirme") != "oui":
        preview = payment_export(ctx.db, ctx.op, Part(part), mark_sent=False)
        return ctx.render("export_confirm.html", part=part, preview=preview)
    result = export_payment(ctx.db, ctx.op, Part(part))  # the file is kept once the parts are marked sent
    if not result.rows:
        detail = (" Écartés : " + " ; ".join(result.skipped)) if result.skipped else ""
        raise InvalidInput("Aucun dossier validé à exporter pour cette partie." + detail)
    return Response(
        result.csv_text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
    )


# ------------------------------------------------------------------------------------------ quarantined mail


@page(gestionnaire=True)
def mail_page(ctx: Ctx) -> Response:
    return ctx.render("mail.html", mails=mail_intake.quarantined(ctx.db))


@page(gestionnaire=True)
def mail_reassign(ctx: Ctx, mail_id: int) -> Response:
    ref = ctx.field("dossier").strip()
    if not ref:
        raise InvalidInput("Indiquez le numéro du dossier. Exemple : 2026-000012")
    try:
        efm = dec.find_dossier(ctx.db, ctx.op, ref)
    except NotFound as exc:  # a typo in the form: say so on the page
        raise InvalidInput(exc.message) from None
    mail = ctx.db.get(InboundMail, mail_id)
    if mail is None:
        raise NotFound("Message introuvable.")
    mail_intake.reassign(ctx.db, mail_id, efm.id, ctx.op.actor)
    ctx.flash(f"Message rattaché au dossier {efm.dossier_number}.")
    return ctx.redirect("/courriels")


def not_found(request: Request, _exc: Exception) -> Response:
    return error_page(request, 404, "Page introuvable.")


ROUTES = [
    *health_routes(),
    Route("/", home),
    Route("/connexion", login, methods=["GET", "POST"]),
    Route("/deconnexion", logout, methods=["POST"]),
    Route("/mot-de-passe", change_password, methods=["GET", "POST"]),
    Route("/file", queue_page),
    Route("/file/valider", queue_validate, methods=["POST"]),
    Route("/dossiers/{efm_id:int}", dossier_page),
    Route("/dossiers/{efm_id:int}/decision", decide, methods=["POST"]),
    Route("/dossiers/{efm_id:int}/service-fait", attest_one, methods=["POST"]),
    Route("/dossiers/{efm_id:int}/recapitulatif.pdf", recap),
    Route("/dossiers/{efm_id:int}/dossier.zip", dossier_archive),
    Route("/justificatifs/{receipt_id:int}", receipt_file),
    Route("/service-fait", service_fait_page),
    Route("/service-fait/attester", service_fait_bulk, methods=["POST"]),
    Route("/service-fait/import", service_fait_import, methods=["POST"]),
    Route("/tableau-de-bord", dashboard_page),
    Route("/exports", exports_page),
    Route("/exports/paiement", payment_csv, methods=["POST"]),
    Route("/exports/fichiers/{name:str}", saved_export_file),
    Route("/courriels", mail_page),
    Route("/courriels/{mail_id:int}/rattacher", mail_reassign, methods=["POST"]),
]
