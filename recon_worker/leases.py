"""Fenced leases on ``worker_leases``: fleet-wide singleton work, timed by the database clock.

Every acquisition raises the row's ``token``; a writer that checks ``still_holds`` (or
``ensure_holds``) inside its own transaction locks the lease row ``FOR SHARE``, so a takeover
waits for that transaction and a holder that lost the lease can no longer write.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = [
    "Lease",
    "LeaseLost",
    "acquire",
    "current_lease",
    "ensure_holds",
    "release",
    "renew",
    "still_holds",
]


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    token: int


class LeaseLost(RuntimeError):
    """The lease moved to another holder (or expired): the work done under it must not commit."""


# Set by the runtime in the task of a leased loop, so the loop can fence its writes.
held_lease: ContextVar[Lease | None] = ContextVar("held_lease", default=None)

_ACQUIRE = text(
    """
    INSERT INTO worker_leases AS l (name, holder, token, expires_at, acquired_at)
    VALUES (:name, :holder, 1, now() + make_interval(secs => :ttl), now())
    ON CONFLICT (name) DO UPDATE
       SET holder = EXCLUDED.holder, token = l.token + 1,
           expires_at = EXCLUDED.expires_at, acquired_at = now()
     WHERE l.holder IS NULL OR l.holder = EXCLUDED.holder
        OR l.expires_at IS NULL OR l.expires_at < now()
    RETURNING token
    """
)
_RENEW = text(
    """
    UPDATE worker_leases SET expires_at = now() + make_interval(secs => :ttl)
     WHERE name = :name AND holder = :holder AND token = :token AND expires_at > now()
    RETURNING token
    """
)
_RELEASE = text(
    """
    UPDATE worker_leases SET holder = NULL, expires_at = now()
     WHERE name = :name AND holder = :holder AND token = :token
    """
)
_FENCE = text("SELECT token = :token AND expires_at > now() FROM worker_leases WHERE name = :name FOR SHARE")


def acquire(session: Session, name: str, holder: str, ttl_s: float) -> Lease | None:
    """Take the lease when it is free, expired or already ours; every success gets a new token."""
    token = session.execute(_ACQUIRE, {"name": name, "holder": holder, "ttl": ttl_s}).scalar()
    return None if token is None else Lease(name, holder, int(token))


def renew(session: Session, lease: Lease, ttl_s: float) -> bool:
    """Extend the lease; False when it expired or another holder has taken it (token moved)."""
    params = {"name": lease.name, "holder": lease.holder, "token": lease.token, "ttl": ttl_s}
    return session.execute(_RENEW, params).scalar() is not None


def release(session: Session, lease: Lease) -> None:
    """Give the lease up at once so another replica need not wait for it to expire."""
    session.execute(_RELEASE, {"name": lease.name, "holder": lease.holder, "token": lease.token})


def still_holds(session: Session, name: str, token: int) -> bool:
    """The fence: True while ``token`` is current and unexpired; locks the row for the transaction."""
    return bool(session.execute(_FENCE, {"name": name, "token": token}).scalar())


def ensure_holds(session: Session, lease: Lease) -> None:
    """Raise ``LeaseLost`` (rolling the writer's transaction back) unless ``lease`` is still held."""
    if not still_holds(session, lease.name, lease.token):
        raise LeaseLost(lease.name)


def current_lease() -> Lease:
    """The lease of the leased loop running in this task (set by the runtime)."""
    lease = held_lease.get()
    if lease is None:
        raise LookupError("not inside a leased loop")
    return lease
