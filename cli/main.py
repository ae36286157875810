"""The ``imagin`` command line: init, import-missions, demo, run, and the commands other parts add.

Other packages plug in through entry points (so core imports none of them):
``imagin.commands`` (a typer command or sub-app, by name) and ``imagin.roles`` (an
``async def role(stop: asyncio.Event)`` started by ``imagin run``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
import uvloop
from rich.console import Console
from rich.progress import track
from rich.table import Table

from core.db import init_db, session_scope
from core.errors import DomainError
from core.settings import get_settings

app = typer.Typer(help="Imag'in intake assistant", no_args_is_help=True, add_completion=False)
console = Console()
log = logging.getLogger("imagin")


@app.command()
def init() -> None:
    """Create or migrate the database (and the data directory)."""
    s = get_settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    init_db()
    console.print(f"Base prête : {s.sqlalchemy_url.split('@')[-1]}")


@app.command("import-missions")
def import_missions_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="convocation export (CSV)")],
) -> None:
    """Import the convocation export; bad rows are reported with their line number, good ones imported."""
    from core.imports import import_missions

    init_db()
    try:
        with session_scope() as session:
            report = import_missions(session, file, progress=lambda rows: track(rows, description="Import"))
    except DomainError as exc:
        console.print(f"[red]Fichier refusé : {exc.message}[/red]")
        raise typer.Exit(2) from None
    for line, reason in report.errors:
        console.print(f"[red]ligne {line} : {reason}[/red]")
    console.print(
        f"{report.imported} ligne(s) importée(s), {report.unchanged} inchangée(s), {len(report.errors)} en erreur."
    )
    if report.errors:
        raise typer.Exit(1)


@app.command()
def demo(as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False) -> None:
    """Seed demo data covering every mission type and print the login codes."""
    from core.demo import seed_demo

    init_db()
    with session_scope() as session:
        codes = seed_demo(session)
    if as_json:
        print(json.dumps(codes, ensure_ascii=False))
        return
    wide = console if console.is_terminal else Console(width=200)  # piped to a log: no narrow default
    for title, key, cols in [
        (
            "Intervenants",
            "intervenants",
            ["numero", "identifiant_imagin", "nom", "email", "mot_de_passe", "adresse_depot"],
        ),
        ("Chefs de centre", "chefs_de_centre", ["login", "nom", "mot_de_passe"]),
        ("DEC", "dec", ["login", "nom", "mot_de_passe"]),
    ]:
        table = Table(title=title)
        for c in cols:
            table.add_column(c, overflow="fold")  # codes and addresses never cut, whatever the width
        for row in codes[key]:
            table.add_row(*(str(row.get(c, "")) for c in cols))
        wide.print(table)


def _roles() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group="imagin.roles")}


@app.command()
def run(
    role: Annotated[list[str] | None, typer.Option("--role", "-r", help="start only this role (repeatable)")] = None,
) -> None:
    """Run the service: every role in one process by default, or only the ``--role`` ones."""
    from core.ops.logs import configure_logging

    available = _roles()
    wanted = role or sorted(available)
    unknown = [r for r in wanted if r not in available]
    if unknown:
        console.print(f"[red]Rôle inconnu : {', '.join(unknown)} (disponibles : {', '.join(sorted(available))})")
        raise typer.Exit(2)
    configure_logging(",".join(wanted) if role else "all")
    get_settings().data_dir.mkdir(parents=True, exist_ok=True)
    init_db()
    uvloop.run(_run_roles({name: available[name].load() for name in wanted}))  # type: ignore[attr-defined]


async def _run_roles(roles: dict[str, object]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("starting roles: %s", ", ".join(roles))
    tasks = [asyncio.create_task(fn(stop), name=name) for name, fn in roles.items()]  # type: ignore[operator]
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not stopper and task.exception() is not None:
            log.error("role %s failed", task.get_name(), exc_info=task.exception())
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    log.info("stopped")


def _plug_commands() -> None:
    for ep in entry_points(group="imagin.commands"):
        obj = ep.load()
        if isinstance(obj, typer.Typer):
            app.add_typer(obj, name=ep.name)
        else:
            app.command(ep.name)(obj)


_plug_commands()
