"""Role ``worker``: the OCR task queue consumer (``core.jobs``, huey) run by ``imagin run``.

The consumer runs in a child process of its own (``python -m core.ops.worker N PARENT_PID``): huey's worker
processes, task time limits (SIGALRM) and signal handling need a main thread that an asyncio service
running other roles cannot give. On stop the role sends the consumer SIGINT, huey's graceful stop:
jobs in flight are finished, queued ones stay in the queue for the other workers. A consumer that
dies is started again. The child has its own session, so a terminal's Ctrl-C reaches it only once,
through the role; under systemd use ``KillMode=mixed`` (see ``deploy/systemd``).

No process outlives its parent: when ``imagin run`` dies, even by SIGKILL, its consumer gets SIGTERM (huey's
immediate stop), and when a consumer dies its worker and scheduler processes are killed (their task in
flight is queued again by the sweep). Both the kernel's parent-death signal (Linux ``PR_SET_PDEATHSIG``)
and a thread watching the parent's pid see to it; the watch also covers other systems.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from huey.consumer import Consumer, ProcessEnvironment

from core.settings import get_settings

log = logging.getLogger(__name__)

STOP_GRACE = 180.0  # seconds a graceful stop may take (longer than a task's time limit)
RESTART_DELAY = 3.0  # seconds before a consumer that died is started again
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 0.5  # how often a child checks that its parent is still there
EXIT_GRACE = 10.0  # seconds an orphan is given to stop on its signal before it is made to exit


def die_with_parent(parent_pid: int, sig: int = signal.SIGTERM) -> None:
    """Have ``sig`` sent to this process when its parent ``parent_pid`` dies, however it dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed (errno %s): the parent watch alone remains", ctypes.get_errno())
    threading.Thread(target=_watch_parent, args=(parent_pid, sig), name="parent-watch", daemon=True).start()


def _watch_parent(parent_pid: int, sig: int) -> None:
    while os.getppid() == parent_pid:  # also true at once if the parent died before the signal was armed
        time.sleep(WATCH_SECONDS)
    log.warning("parent process %s is gone: stopping", parent_pid)
    os.kill(os.getpid(), sig)
    time.sleep(EXIT_GRACE)
    os._exit(1)


class _MortalProcesses(ProcessEnvironment):
    """huey's process environment, with every forked worker and scheduler dying with the consumer."""

    def create_process(self, runnable: Callable[[], Any], name: str) -> Any:
        consumer_pid = os.getpid()

        def run() -> None:
            die_with_parent(consumer_pid, signal.SIGKILL)  # a worker cannot stop gracefully without its consumer
            runnable()

        return super().create_process(run, name)


class MortalConsumer(Consumer):
    """huey's consumer whose child processes never outlive it."""

    def get_environment(self, worker_type: str) -> Any:
        if worker_type != "process":
            return super().get_environment(worker_type)
        return _MortalProcesses(self._graceful_sig, self._interrupt_sig)


async def _spawn(workers: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.ops.worker", str(workers), str(os.getpid()), start_new_session=True
    )


async def run_worker_role(stop: asyncio.Event) -> None:
    """Run the OCR consumer until ``stop`` is set, then stop it gracefully."""
    workers = get_settings().ocr_workers
    while not stop.is_set():
        proc = await _spawn(workers)
        log.info("OCR consumer started (pid %s, %s worker process(es))", proc.pid, workers)
        waiter = asyncio.create_task(proc.wait())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if waiter.done():
            log.error("OCR consumer exited (code %s); starting it again", waiter.result())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_DELAY)
            continue
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)  # graceful: finish the jobs in flight
        try:
            await asyncio.wait_for(waiter, STOP_GRACE)
        except TimeoutError:
            log.warning("OCR consumer still busy after %.0f s: interrupting it", STOP_GRACE)
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            await waiter
        log.info("OCR consumer stopped")


def main() -> None:
    """The consumer process itself: ``python -m core.ops.worker [WORKERS [PARENT_PID]]``."""
    from core import jobs
    from core.ops.logs import configure_logging

    configure_logging()
    if len(sys.argv) > 2:
        die_with_parent(int(sys.argv[2]))
    jobs.run_worker(
        int(sys.argv[1]) if len(sys.argv) > 1 else get_settings().ocr_workers, consumer_class=MortalConsumer
    )


if __name__ == "__main__":
    main()
