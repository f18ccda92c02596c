"""``python -m jobs worker [--burst]``: the job worker in its own process (needs ``REDIS_URL``)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from backend.core import log_privacy
from backend.core.config import ConfigError, Settings


async def _run(settings: Settings, burst: bool) -> None:
    from jobs.worker import build

    worker = build(settings, burst=burst)
    try:
        await worker.async_run()
    except asyncio.CancelledError:  # SIGINT / SIGTERM: arq cancels its main task
        pass
    finally:
        await worker.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs", description="村务通 job worker (arq)")
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="run the worker")
    worker.add_argument("--burst", action="store_true", help="stop once the queue is empty")
    args = parser.parse_args(argv)
    log_privacy.configure()  # masks phones and ID numbers in every line and traceback
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.redis_url is None:
        from jobs.worker import NEEDS_REDIS_URL

        print(NEEDS_REDIS_URL, file=sys.stderr)
        return 2
    asyncio.run(_run(settings, args.burst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
