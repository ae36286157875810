"""No orphan processes: when ``imagin run --role worker`` or its OCR consumer is killed with SIGKILL, every
process below it exits (parent-death signal and parent watch), instead of reading the queue on as orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

IMAGIN = str(Path(sys.executable).with_name("imagin"))
ROOT = Path(__file__).resolve().parents[2]


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE  # dead, not yet reaped by whoever adopted it
    except psutil.NoSuchProcess:
        return True


def _consumer_processes(parent: psutil.Process) -> int:
    """How many processes the consumer under `imagin run` has started (0 while there is no single consumer)."""
    children = parent.children()
    return len(children[0].children()) if len(children) == 1 else 0


@pytest.fixture
def worker_role(tmp_path: Path) -> Iterator[psutil.Process]:
    """``imagin run --role worker`` with two OCR worker processes (SQLite task queue), its tree left clean."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGIN_")}
    env |= {"IMAGIN_DATA_DIR": str(tmp_path / "var"), "IMAGIN_OCR_WORKERS": "2", "IMAGIN_LOG_FORMAT": "json"}
    with (tmp_path / "worker.log").open("wb") as log:
        proc = subprocess.Popen([IMAGIN, "run", "--role", "worker"], env=env, stdout=log, stderr=log, cwd=ROOT)
    parent = psutil.Process(proc.pid)
    tree: list[psutil.Process] = []
    try:
        # consumer + scheduler + 2 workers (counted under the consumer: another process may start first)
        _wait(lambda: _consumer_processes(parent) >= 3, 60, "the consumer and its processes")
        tree = parent.children(recursive=True)
        yield parent
    finally:
        for p in [parent, *tree]:
            if not _gone(p):
                p.kill()
        proc.wait(10)


def test_killing_imagin_run_takes_its_consumer_and_workers_down(worker_role: psutil.Process) -> None:
    below = worker_role.children(recursive=True)
    assert len(below) >= 4
    worker_role.send_signal(signal.SIGKILL)
    _wait(lambda: all(_gone(p) for p in below), 15, "every process below the killed parent to exit")


def test_killing_the_consumer_takes_its_workers_down(worker_role: psutil.Process) -> None:
    [consumer] = worker_role.children()
    workers = consumer.children()
    assert len(workers) >= 3  # two workers and the scheduler
    consumer.send_signal(signal.SIGKILL)
    _wait(lambda: all(_gone(p) for p in workers), 15, "the killed consumer's workers to exit")

    # and imagin run starts a fresh consumer, with fresh workers: never two sets side by side
    def fresh() -> bool:  # the killed consumer reaped and a new one running with its workers
        alive = [p for p in worker_role.children(recursive=True) if not _gone(p)]
        return consumer.pid not in [p.pid for p in alive] and len(alive) >= 4

    _wait(fresh, 60, "a new consumer")
    assert consumer.pid not in [p.pid for p in worker_role.children() if not _gone(p)]
