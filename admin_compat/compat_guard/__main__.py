"""CLI: `python -m admin_compat.compat_guard <baseline.yaml> <current.yaml>`.

Exit status: 0 no breaking change, 1 at least one (each printed), 2 unreadable input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from admin_compat.compat_guard import SpecError, check_files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m admin_compat.compat_guard",
        description="Report breaking changes from a baseline OpenAPI spec to the current one.",
    )
    parser.add_argument("baseline", help="the frozen spec (e.g. contract_tests/baseline/legacy-admin.yaml)")
    parser.add_argument("current", help="the spec as it is now (e.g. openapi/legacy-admin.yaml)")
    args = parser.parse_args(argv)
    try:
        findings = check_files(args.baseline, args.current)
    except SpecError as exc:
        print(f"compat_guard: error: {exc}", file=sys.stderr)
        return 2
    for finding in findings:
        print(finding)
    if findings:
        print(f"compat_guard: {len(findings)} breaking change(s) from {args.baseline} to {args.current}")
        return 1
    print(f"compat_guard: no breaking change from {args.baseline} to {args.current}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
