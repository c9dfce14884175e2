"""Who is acting, carried from the edge into the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """The admin (or system component) responsible for a change, and the request it came with."""

    name: str
    request_id: str | None = None


SYSTEM = Actor("system")
