"""Operations commands plugged into ``imagin`` (entry points ``imagin.commands``):
``imagin backup``, ``imagin purge``, ``imagin export-person``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from core.db import init_db, session_scope
from core.errors import DomainError
from core.french import format_date, format_size
from core.settings import get_settings

console = Console()


def backup_cmd(
    target: Annotated[Path | None, typer.Option("--to", help="target folder (default data_dir/backups)")] = None,
    tar: Annotated[bool, typer.Option("--tar", help="write one .tar.gz instead of a folder")] = False,
) -> None:
    """Back up the database (SQLite online backup; pg_dump command for PostgreSQL) and the file stores."""
    from core.ops.backup import backup

    report = backup(target, as_tar=tar)
    files = ", ".join(f"{n} fichier(s) {store}" for store, n in report.files.items())
    console.print(f"Sauvegarde écrite : {report.path} ({files}, {format_size(report.bytes)})")
    if report.pg_dump:
        console.print("Base PostgreSQL : à sauvegarder avec pg_dump (mot de passe dans ~/.pgpass) :")
        print(report.pg_dump)
    if report.missing:
        console.print(
            f"[yellow]{len(report.missing)} fichier(s) référencé(s) absent(s) (purgés entre-temps ?) : "
            f"voir manifest.json[/yellow]"
        )


def purge_cmd(
    days: Annotated[int | None, typer.Option("--days", help="retention in days (default: the setting)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count only, delete nothing")] = False,
) -> None:
    """Delete raw mail and receipt files past retention whose dossier is closed (rows kept, audited)."""
    from core.ops.privacy import purge

    init_db()
    try:
        report = purge(session_scope, retention_days=days, dry_run=dry_run)
    except ValueError:
        console.print("[red]Durée de conservation invalide : au moins 1 jour (exemple : --days 365).[/red]")
        raise typer.Exit(2) from None
    verb = "seraient purgés" if dry_run else "purgés"
    console.print(
        f"Avant le {format_date(report.cutoff)} : {report.receipts} justificatif(s) et {report.mails} "
        f"courriel(s) {verb}, {report.files_deleted} fichier(s)."
    )


def export_person_cmd(
    ident: Annotated[str, typer.Argument(help="numéro intervenant, identifiant Imag'in, e-mail or Telegram id")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="zip file to write")] = None,
) -> None:
    """Export everything held about one intervenant (JSON + files, in a zip): right of access."""
    from core.ops.privacy import export_person

    init_db()
    target = out or get_settings().data_dir / "exports" / f"personne-{re.sub(r'[^A-Za-z0-9_.-]', '_', ident)}.zip"
    try:
        with session_scope() as session:
            export = export_person(session, ident, target)
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Export écrit : {target} ({len(export.files)} fichier(s) joint(s)).")
