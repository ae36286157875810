"""An OCR worker process for the topology tests: ``python -m tests.topology.worker_main SWEEP_SECONDS``.

It is ``core.jobs.run_worker`` (one worker, the periodic sweep, JSON logs), with the sweep's delay
shortened from minutes to ``SWEEP_SECONDS`` so that a job lost with a killed worker is taken again
within the test's time.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from core import jobs
from core.ops_logging import configure_logging


def main() -> None:
    configure_logging(fmt="json", level="INFO")
    jobs.SWEEP_AFTER = timedelta(seconds=float(sys.argv[1]))
    jobs.run_worker(workers=1)


if __name__ == "__main__":
    main()
