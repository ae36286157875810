"""Accepted messages per second of the SMTP intake (durable: raw stored + ledger row committed before 250),
against aiosmtpd's own ``Sink`` handler measured in the same run, same client, same messages.

Run: .venv/bin/python bench/smtp_intake.py [--messages 400] [--connections 8] [--full]
``--full`` runs the whole ``python -m mail_ingest`` service (pipeline worker and mailer competing for the
machine) instead of the SMTP door alone. Loopback only; each server runs in its own process. Goal: >= 0.5x.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from PIL import Image  # noqa: E402

GOAL = 0.5
INTAKE = "recus@imagin.bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def receipt_photo(seed: int, size: tuple[int, int] = (500, 400)) -> bytes:
    """A photo-like JPEG (~100-200 KB), different for each message."""
    rng = random.Random(seed)
    img = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


def build_messages(count: int) -> list[bytes]:
    photos = [receipt_photo(i) for i in range(8)]
    messages = []
    for i in range(count):
        msg = EmailMessage()
        msg["From"] = "ines.leroy@example.org"
        msg["To"] = INTAKE
        msg["Subject"] = f"Mission 301 reçu {i}"
        msg["Message-ID"] = make_msgid(domain="bench.example.org")
        msg.set_content(f"Bonjour, voici le reçu n° {i}.")
        # vary the bytes per message so the content-addressed store really writes each one
        msg.add_attachment(
            photos[i % len(photos)] + i.to_bytes(4, "big"),
            maintype="image",
            subtype="jpeg",
            filename=f"recu-{i}.jpg",
        )
        messages.append(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
    return messages


async def _client(port: int, queue: asyncio.Queue[bytes], counts: list[int]) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
    await client.connect()
    try:
        while True:
            try:
                raw = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            errors, _ = await client.sendmail("ines.leroy@example.org", [INTAKE], raw)
            if not errors:
                counts[0] += 1
    finally:
        await client.quit()


async def drive(port: int, messages: list[bytes], connections: int) -> tuple[int, float]:
    """Send all messages over ``connections`` parallel sessions; returns (accepted, seconds)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in messages:
        queue.put_nowait(raw)
    counts = [0]
    start = time.perf_counter()
    await asyncio.gather(*(_client(port, queue, counts) for _ in range(connections)))
    return counts[0], time.perf_counter() - start


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def serve_intake(port: int) -> None:
    """Child process: the intake SMTP door alone (DATA = store raw + ledger row + commit, then 250)."""
    from core.db import init_db
    from core.settings import get_settings
    from mail_ingest.smtp_server import IntakeHandler, start_smtp_server

    async def main() -> None:
        await asyncio.to_thread(init_db)
        settings = get_settings()
        server = await start_smtp_server(IntakeHandler(settings.intake_address_list), settings, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_server(kind: str, port: int, data_dir: Path) -> subprocess.Popen:
    env = dict(
        os.environ,
        IMAGIN_DATA_DIR=str(data_dir),
        IMAGIN_INTAKE_ADDRESSES=INTAKE,
        IMAGIN_SMTP_HOST="127.0.0.1",
        IMAGIN_SMTP_PORT=str(port),
        IMAGIN_RELAY_HOST="127.0.0.1",
        IMAGIN_RELAY_PORT=str(free_port()),  # replies refused (not measured)
    )
    env.pop("IMAGIN_DATABASE_URL", None)
    if kind == "sink":
        cmd = [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-c",
            "aiosmtpd.handlers.Sink",
            "-l",
            f"127.0.0.1:{port}",
        ]
    elif kind == "full":
        cmd = [sys.executable, "-m", "mail_ingest"]
    else:
        cmd = [sys.executable, __file__, "--serve-intake", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc


def measure(kind: str, messages: list[bytes], warmup: list[bytes], connections: int, data_dir: Path) -> float:
    port = free_port()
    proc = start_server(kind, port, data_dir)
    try:
        asyncio.run(drive(port, warmup, connections))
        accepted, seconds = asyncio.run(drive(port, messages, connections))
    finally:
        proc.terminate()
        proc.wait(30)
    if accepted != len(messages):
        raise SystemExit(f"{kind}: only {accepted}/{len(messages)} messages accepted")
    return accepted / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the two servers this many times")
    parser.add_argument("--full", action="store_true", help="the whole mail service, not the SMTP door alone")
    parser.add_argument("--serve-intake", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_intake:
        serve_intake(args.serve_intake)
        return
    total = args.messages * args.rounds
    print(f"building {total} messages with one JPEG receipt each...", flush=True)
    pool = build_messages(total + 2 * 20 * args.rounds)
    ours_kind = "full" if args.full else "intake"
    sink_rates, our_rates = [], []
    with tempfile.TemporaryDirectory(prefix="imagin-bench-") as tmp:
        for r in range(args.rounds):
            base = r * (args.messages + 40)
            batch, warm = (
                pool[base : base + args.messages],
                pool[base + args.messages : base + args.messages + 20],
            )
            sink_rates.append(measure("sink", batch, warm, args.connections, Path(tmp) / "sink"))
            warm2 = pool[base + args.messages + 20 : base + args.messages + 40]
            our_rates.append(measure(ours_kind, batch, warm2, args.connections, Path(tmp) / f"ours-{r}"))
            print(
                f"round {r + 1}: Sink {sink_rates[-1]:.1f} msg/s, intake ({ours_kind}) {our_rates[-1]:.1f} msg/s",
                flush=True,
            )
    sink, ours = max(sink_rates), max(our_rates)
    ratio = ours / sink
    per_round = ", ".join(f"{o / k:.2f}x" for o, k in zip(our_rates, sink_rates, strict=True))
    size_kb = sum(len(m) for m in pool) / len(pool) / 1024
    print(f"messages: {args.messages} x {args.rounds} rounds, ~{size_kb:.0f} KB each, {args.connections} connections")
    print(f"aiosmtpd Sink:        {sink:8.1f} msg/s (best round)")
    print(f"intake ({ours_kind:6s}):      {ours:8.1f} msg/s (best round; durable: fsync'd file + committed row)")
    print(f"per-round ratios: {per_round}")
    print(f"ratio: {ratio:.2f}x (goal >= {GOAL}x) -> {'OK' if ratio >= GOAL else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
