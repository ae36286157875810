"""Role ``worker``: the OCR task queue consumer (``core.jobs``, huey) run by ``imagin run``.

The consumer runs in a child process of its own (``python -m core.ops.worker N``): huey's worker
processes, task time limits (SIGALRM) and signal handling need a main thread that an asyncio service
running other roles cannot give. On stop the role sends the consumer SIGINT, huey's graceful stop:
jobs in flight are finished, queued ones stay in the queue for the other workers. A consumer that
dies is started again. The child has its own session, so a terminal's Ctrl-C reaches it only once,
through the role; under systemd use ``KillMode=mixed`` (see ``deploy/systemd``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from core.settings import get_settings

log = logging.getLogger(__name__)

STOP_GRACE = 180.0  # seconds a graceful stop may take (longer than a task's time limit)
RESTART_DELAY = 3.0  # seconds before a consumer that died is started again


async def _spawn(workers: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "core.ops.worker", str(workers), start_new_session=True
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
    """The consumer process itself."""
    from core import jobs
    from core.ops.logs import configure_logging

    configure_logging()
    jobs.run_worker(int(sys.argv[1]) if len(sys.argv) > 1 else get_settings().ocr_workers)


if __name__ == "__main__":
    main()
