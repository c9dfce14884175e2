"""``python -m recon_worker [--loops name,name]``: run the worker until SIGTERM/SIGINT.

Exit status: 0 after a clean stop, 2 for a usage or configuration error, 70 when the watchdog or
the shutdown grace period gave up on a stuck loop (the supervisor restarts the worker).
"""

from __future__ import annotations

import argparse
import logging

import trio

from recon_impl.logs import configure_logging
from recon_impl.settings import get_settings
from recon_worker.loops import default_specs
from recon_worker.runtime import build_context, close_context, run_worker

log = logging.getLogger("recon.worker")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon_worker", description=__doc__)
    parser.add_argument("--loops", default="", help="comma-separated loop names to run (default: all)")
    args = parser.parse_args(argv)
    configure_logging()
    settings = get_settings()
    specs = default_specs(settings)
    wanted = [name.strip() for name in args.loops.split(",") if name.strip()]
    if wanted:
        unknown = sorted(set(wanted) - {spec.name for spec in specs})
        if unknown:
            parser.error(f"unknown loops: {', '.join(unknown)}")
        specs = [spec for spec in specs if spec.name in wanted]
    try:
        ctx = build_context(settings)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    try:
        trio.run(run_worker, ctx, specs)
    finally:
        close_context(ctx)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
