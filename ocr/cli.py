"""`imagin ocr FILE... [--json]`: print the reading of each receipt file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ocr.kinds import labels as kind_labels
from ocr.reading import read


def ocr_command(
    files: Annotated[list[Path], typer.Argument(help="Justificatifs à lire (PDF, JPEG, PNG, GIF).")],
    json_: Annotated[bool, typer.Option("--json", help="Une ligne JSON par fichier.")] = False,
) -> None:
    """Lire le total, la devise, la date, le commerçant et la nature de chaque justificatif."""
    failed = False
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            failed = True
            message = f"Fichier introuvable ou illisible : {path} ({exc.strerror})."
            if json_:
                typer.echo(json.dumps({"file": str(path), "error": message}, ensure_ascii=False))
            else:
                typer.echo(f"{path}: {message}", err=True)
            continue
        reading = read(data, path.name)
        if json_:
            out = {"file": str(path)} | reading.to_dict()
            out.pop("text")
            typer.echo(json.dumps(out, ensure_ascii=False))
            continue
        total = f"{reading.total} {reading.currency or ''}".strip() if reading.total is not None else "-"
        when = reading.date.isoformat() if reading.date else "-"
        typer.echo(
            f"{path}: total {total}; date {when}; confiance {reading.confidence:.2f}; moteur "
            f"{reading.engine or '-'}; pages {reading.pages}; {reading.seconds:.2f} s"
        )
        if reading.kind:
            what = f"{kind_labels().get(reading.kind, reading.kind)} (confiance {reading.kind_confidence:.2f})"
            typer.echo(f"  nature : {what} ; commerçant : {reading.merchant or '-'}")
        if reading.trip:
            trip = reading.trip
            when = trip.travel_date.isoformat() if trip.travel_date else "-"
            typer.echo(f"  trajet : {trip.from_city or '?'} → {trip.to_city or '?'}, le {when}")
        if reading.error:
            typer.echo(f"  {reading.error}")
    if failed:
        raise typer.Exit(1)
