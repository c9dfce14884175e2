"""Create a legacy admin session for local runs and tests, through the same code as logins.

    python -m admin_compat.session --username demo --perms recon:view,recon:edit [--role-id 1]

prints the token to send as ``X-Token`` (or ``Authorization: Bearer``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import redis

from admin_compat.legacy_auth import SESSION_TTL, Session, create_session

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m admin_compat.session", description="Create a legacy admin session; print its token."
    )
    parser.add_argument("--username", required=True)
    parser.add_argument("--perms", default="", help="comma-separated, e.g. recon:view,recon:edit")
    parser.add_argument("--role-id", type=int, default=2, help="1 is the super admin (default 2)")
    parser.add_argument("--admin-id", type=int, default=1)
    parser.add_argument("--ttl", type=int, default=SESSION_TTL, help=f"seconds (default {SESSION_TTL})")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("RECON_REDIS_URL", DEFAULT_REDIS_URL),
        help=f"default $RECON_REDIS_URL, else {DEFAULT_REDIS_URL}",
    )
    args = parser.parse_args(argv)
    session = Session(
        admin_id=args.admin_id,
        username=args.username,
        role_id=args.role_id,
        perms=tuple(perm.strip() for perm in args.perms.split(",") if perm.strip()),
        login_at=int(time.time()),
    )
    client = redis.Redis.from_url(args.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        token = create_session(client, session, ttl=args.ttl)
    except redis.RedisError as exc:
        print(f"cannot store the session in Redis: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
