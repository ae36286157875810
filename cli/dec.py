"""``imagin dec``: the DEC queue and decisions for scripts (acts with a gestionnaire's rights)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from core.db import init_db, session_scope
from core.dec import queue as dec
from core.dec.exports import dossier_data, dossier_zip, payment_export, save_export
from core.dec.queue import Operator, QueueFilter
from core.errors import DomainError
from core.french import format_amount
from core.models import StaffUser
from core.statuses import Part, PartStatus

app = typer.Typer(help="File de la DEC : dossiers, décisions, exports.", no_args_is_help=True)
console = Console()
PartOpt = Annotated[str, typer.Option("--part", "-p", help="pay, travel ou both")]
ReasonOpt = Annotated[str, typer.Option("--reason", "-m", help="motif (obligatoire pour un rejet)")]


def _operator() -> Operator:
    return Operator.cli(f"cli:{getpass.getuser()}")


def _parts(value: str) -> list[Part] | None:
    value = value.strip().lower()
    if value in ("both", "all", "les deux"):
        return None
    try:
        return [Part(value)]
    except ValueError:
        raise typer.BadParameter("attendu : pay, travel ou both") from None


def _fail(exc: DomainError) -> typer.Exit:
    console.print(f"[red]{exc.message}[/red]")
    return typer.Exit(1)


def _summary(efm) -> dict[str, object]:  # type: ignore[no-untyped-def]
    mission, person = efm.convocation.mission, efm.convocation.intervenant
    return {
        "id": efm.id,
        "dossier": efm.dossier_number,
        "soumis_le": efm.submitted_at.isoformat(),
        "intervenant": f"{person.last_name} {person.first_name}".strip(),
        "numero_intervenant": person.numero,
        "mission": mission.number,
        "type": str(mission.mission_type),
        "examen": mission.exam.name,
        "session": mission.exam.session,
        "centre": mission.centre.code,
        "remuneration": efm.pay_status,
        "deplacement": efm.travel_status,
        "controles": sorted({f.code for f in efm.flags if f.severity != "info"}),
    }


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="une ligne JSON par dossier")] = False,
    status: Annotated[str | None, typer.Option(help="statut (a_valider par défaut, all : tous)")] = None,
    flag: Annotated[str | None, typer.Option(help="code de contrôle, ex. service_fait_missing")] = None,
    centre: Annotated[str | None, typer.Option(help="code du centre")] = None,
    mission_type: Annotated[str | None, typer.Option("--type", help="correction, oral, pratique, jury")] = None,
    session_name: Annotated[str | None, typer.Option("--session", help="session d'examen")] = None,
    limit: Annotated[int, typer.Option(help="nombre maximal de dossiers")] = 500,
) -> None:
    """The queue, oldest first (dossiers waiting for a decision by default)."""
    from core.models import Centre

    init_db()
    try:
        with session_scope() as s:
            centre_id = None
            if centre:
                centre_id = s.scalar(select(Centre.id).where(Centre.code == centre))
                if centre_id is None:
                    raise DomainError(f"Centre « {centre} » inconnu.")
            f = QueueFilter(
                status=status, flag=flag, centre_id=centre_id, mission_type=mission_type, session=session_name
            )
            rows, total = dec.queue(s, _operator(), f, page_size=limit)
            items = [_summary(e) for e in rows]
    except DomainError as exc:
        raise _fail(exc) from None
    if as_json:
        for item in items:
            print(json.dumps(item, ensure_ascii=False))
        return
    table = Table(title=f"{total} dossier(s)")
    for col in ("dossier", "soumis_le", "intervenant", "mission", "centre", "remuneration", "deplacement", "controles"):
        table.add_column(col)
    for item in items:
        table.add_row(
            *(
                ", ".join(v) if isinstance(v := item[c], list) else str(v)
                for c in (
                    "dossier",
                    "soumis_le",
                    "intervenant",
                    "mission",
                    "centre",
                    "remuneration",
                    "deplacement",
                    "controles",
                )
            )
        )
    console.print(table)


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="numéro de dossier (ex. 2026-000012) ou identifiant")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Everything about one dossier."""
    init_db()
    try:
        with session_scope() as s:
            efm = dec.find_dossier(s, _operator(), ref)
            data = dossier_data(s, _operator(), efm.id)
    except DomainError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    console.print(
        f"[bold]Dossier {data['dossier']}[/bold] — mission {data['mission']['numero']} "
        f"({data['mission']['examen']}), {data['intervenant']['nom']} {data['intervenant']['prenom']}"
    )
    console.print(
        f"Rémunération : {PartStatus(data['statuts']['remuneration']).label} ; "
        f"déplacement : {PartStatus(data['statuts']['deplacement']).label}"
    )
    sf = data["service_fait"]
    console.print(
        "Service fait : " + ("non attesté" if sf is None else ("effectué" if sf["effectue"] else "non effectué"))
    )
    est = data["estimation"]
    console.print(f"Estimation : rémunération {est['remuneration']} €, déplacement {est['deplacement']} €")
    for c in data["controles"]:
        console.print(f"  ⚠ {c['message']}")
    for r in data["justificatifs"]:
        console.print(f"  📎 {r['nom']} : total lu {r['lecture']['total'] or '—'}")


def _decide(ref: str, action: str, part: str, reason: str) -> None:
    init_db()
    try:
        with session_scope() as s:
            efm = dec.find_dossier(s, _operator(), ref)
            statuses = dec.decide(s, _operator(), efm.id, action, _parts(part), reason)
            number = efm.dossier_number
    except DomainError as exc:
        raise _fail(exc) from None
    console.print(f"Dossier {number} : " + ", ".join(st.label for st in statuses))


@app.command()
def validate(ref: str, part: PartOpt = "both") -> None:
    """Validate a dossier (both parts, or --part pay|travel); needs service fait."""
    _decide(ref, "validate", part, "")


@app.command()
def reject(ref: str, reason: ReasonOpt = "", part: PartOpt = "both") -> None:
    """Reject a dossier part with a reason (the intervenant is told)."""
    _decide(ref, "reject", part, reason)


@app.command("request-info")
def request_info(ref: str, reason: ReasonOpt = "") -> None:
    """Ask the intervenant for something: the dossier reopens for them and comes back when resubmitted."""
    _decide(ref, "request_info", "both", reason)


@app.command()
def reopen(ref: str, part: PartOpt = "both") -> None:
    """Put a validated or rejected part back in the queue."""
    _decide(ref, "reopen", part, "")


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="dossier de sortie")] = Path("."),
    part: PartOpt = "both",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="sans marquer « transmis à la liquidation »")] = False,
    dossier: Annotated[str | None, typer.Option(help="exporter ce dossier en zip au lieu des paiements")] = None,
) -> None:
    """Write the payment CSVs (pay and travel apart), or one dossier's zip with --dossier."""
    init_db()
    out.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        with session_scope() as s:
            if dossier:
                name, data = dossier_zip(s, _operator(), dec.find_dossier(s, _operator(), dossier).id)
                (out / name).write_bytes(data)
                console.print(f"{out / name}")
                return
            for p in _parts(part) or list(Part):
                results.append(payment_export(s, _operator(), p, mark_sent=not dry_run))
    except DomainError as exc:
        raise _fail(exc) from None
    for result in results:  # written once the parts are marked sent (committed)
        if not dry_run and result.rows:
            save_export(result)
        target = out / result.filename
        target.write_text(result.csv_text, encoding="utf-8", newline="")
        console.print(f"{target} : {result.rows} ligne(s), {format_amount(result.total)}")
        for why in result.skipped:
            console.print(f"[yellow]écarté : {why}[/yellow]")


@app.command("attest-import")
def attest_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="liste CSV du centre")],
    login: Annotated[str, typer.Option("--as", help="compte qui atteste (chef de centre ou gestionnaire)")],
) -> None:
    """Import a centre's service fait list (mission;numero_intervenant;service_fait)."""
    from core.dec.attestations import import_attestations

    init_db()
    try:
        with session_scope() as s:
            user = s.scalar(select(StaffUser).where(StaffUser.login == login))
            if user is None:
                raise DomainError(f"Compte « {login} » inconnu.")
            report = import_attestations(s, Operator.of(user), file.read_bytes())
    except DomainError as exc:
        raise _fail(exc) from None
    for line, reason in report.errors:
        console.print(f"[red]ligne {line} : {reason}[/red]")
    console.print(f"{report.recorded} attestation(s) enregistrée(s), {len(report.errors)} ligne(s) en erreur.")
    if report.errors:
        raise typer.Exit(1)


@app.command("add-user")
def add_user(
    login: Annotated[str, typer.Argument(help="identifiant, ex. j.dupont")],
    name: Annotated[str, typer.Option("--name", help="nom complet")],
    role: Annotated[str, typer.Option("--role", help="gestionnaire ou chef_centre")] = "gestionnaire",
    centre: Annotated[str | None, typer.Option("--centre", help="code du centre (chef de centre)")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
) -> None:
    """Create a console account; prints its one-time password (to change at first sign-in)."""
    from core.dec.accounts import create_staff

    init_db()
    try:
        with session_scope() as s:
            _, password = create_staff(s, login, name, role, centre_code=centre, email=email, actor=_operator().actor)
    except DomainError as exc:
        raise _fail(exc) from None
    console.print(f"Compte {login.strip().lower()} créé. Mot de passe provisoire : {password}")


@app.command("reset-password")
def reset_password(login: str) -> None:
    """Give an account a new one-time password (its sessions end)."""
    from core.dec.accounts import reset_staff_password

    init_db()
    try:
        with session_scope() as s:
            password = reset_staff_password(s, login, actor=_operator().actor)
    except DomainError as exc:
        raise _fail(exc) from None
    console.print(f"Nouveau mot de passe provisoire : {password}")


@app.command("disable-user")
def disable_user(login: str, enable: Annotated[bool, typer.Option("--enable", help="réactiver")] = False) -> None:
    """Disable (or --enable) a console account."""
    from core.dec.accounts import set_staff_active

    init_db()
    try:
        with session_scope() as s:
            set_staff_active(s, login, enable, actor=_operator().actor)
    except DomainError as exc:
        raise _fail(exc) from None
    console.print(f"Compte {login} {'réactivé' if enable else 'désactivé'}.")
