"""Benchmark: the DEC console's queue, dossier and dashboard pages on a large queue vs a small one.

Both databases (SQLite, in temporary folders) are filled the same way in this run: submitted dossiers
with flags across centres and exams. The small one (--small dossiers) is the baseline; the ratio
large / small of each page's median time shows whether a page grows with the queue (paging and
eager loading should keep the queue and dossier pages near 1; the dashboard counts grow slowly).

Usage: .venv/bin/python bench/dec_console.py [--small 100] [--large 5000] [--requests 40]
Loopback only (in-process ASGI client), about a minute.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def seed(n: int) -> None:
    """``n`` submitted dossiers, three flags each, spread over 20 centres and 5 exams."""
    from core import accounts
    from core.db import init_db, session_scope
    from core.models import (
        Centre,
        Convocation,
        EtatDeFrais,
        Exam,
        Flag,
        Intervenant,
        Mission,
        StaffRole,
        StaffUser,
    )

    init_db()
    now = datetime.now().replace(microsecond=0)
    with session_scope() as s:
        centres = [Centre(code=f"C{i:05d}", name=f"LYCEE {i}", commune="CAEN") for i in range(20)]
        exams = [Exam(code=f"E{i}", name=f"EXAMEN {i}", session="Session 06/2026", rate_group="T3") for i in range(5)]
        s.add_all(centres + exams)
        s.add(
            StaffUser(
                login="bench",
                full_name="Bench",
                role=StaffRole.GESTIONNAIRE,
                password_hash=accounts.hash_password("Bench2026dec"),
            )
        )
        s.flush()
        for i in range(n):
            person = Intervenant(
                numero=f"B{i:06d}",
                last_name=f"NOM{i}",
                first_name="Prénom",
                password_hash="x",
                intake_token=f"t{i:09d}",
            )
            mission = Mission(
                number=f"M{i:06d}",
                exam_id=exams[i % 5].id,
                centre_id=centres[i % 20].id,
                mission_type="correction",
                start_at=now - timedelta(days=i % 30),
            )
            s.add_all([person, mission])
            s.flush()
            conv = Convocation(intervenant_id=person.id, mission_id=mission.id, expected_quantity=50)
            s.add(conv)
            s.flush()
            efm = EtatDeFrais(
                convocation_id=conv.id,
                pay_status="a_valider",
                travel_status="a_valider",
                service_done=True,
                copies=40,
                dossier_number=f"2026-{i + 1:06d}",
                submitted_at=now - timedelta(days=i % 30, minutes=i),
            )
            s.add(efm)
            s.flush()
            for code in ("service_fait_missing", "receipts_missing", "times_outside_mission"):
                s.add(Flag(efm_id=efm.id, code=code, severity="warning", message="bench"))
            if i % 500 == 499:
                s.flush()


def measure(n: int, requests: int) -> dict[str, list[float]]:
    """Median-able timings (ms) of each page on a fresh database of ``n`` dossiers."""
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

    from core.settings import reset_settings

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMAGIN_DATA_DIR"] = tmp
        reset_settings()
        seed(n)
        from web.app import create_app

        client = TestClient(create_app(), follow_redirects=False)
        page = client.get("/connexion").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        client.post("/connexion", data={"csrf": token, "identifiant": "bench", "mot_de_passe": "Bench2026dec"})
        pages = {
            "file": "/file",
            "file (filtre)": "/file?controle=receipts_missing&type=correction",
            "dossier": f"/dossiers/{max(n // 2, 1)}",
            "tableau de bord": "/tableau-de-bord",
        }
        out: dict[str, list[float]] = {name: [] for name in pages}
        for name, url in pages.items():
            assert client.get(url).status_code == 200, url  # warm-up, and a check that it works
            for _ in range(requests):
                start = time.perf_counter()
                r = client.get(url)
                out[name].append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200
        client.close()
        reset_settings()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    small = measure(args.small, args.requests)
    large = measure(args.large, args.requests)
    print(f"{'page':<18}{args.small:>8} doss. p50{args.large:>8} doss. p50{'p95':>10}{'ratio':>8}")
    for name in small:
        a, b = statistics.median(small[name]), statistics.median(large[name])
        p95 = statistics.quantiles(large[name], n=20)[-1]
        print(f"{name:<18}{a:>14.1f} ms{b:>14.1f} ms{p95:>7.1f} ms{b / a:>8.2f}")


if __name__ == "__main__":
    main()
