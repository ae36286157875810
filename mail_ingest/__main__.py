"""``python -m mail_ingest``: run the e-mail intake alone until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from core.db import init_db
from core.ops.logs import configure_logging
from mail_ingest.runner import run_mail


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await asyncio.to_thread(init_db)
    await run_mail(stop)


def main() -> None:
    configure_logging("mail")
    asyncio.run(_main())


if __name__ == "__main__":
    main()
