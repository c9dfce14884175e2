"""The domain's exception hierarchy; the HTTP layer maps each class to one response."""

from __future__ import annotations


class ReconError(Exception):
    """Base of every expected, client-facing failure."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(ReconError):
    """The request is well-formed but a value is not acceptable."""


class NotFound(ReconError):
    """The addressed record does not exist (or was deleted)."""


class Duplicate(ReconError):
    """A record with the same identity already exists."""


class StateConflict(ReconError):
    """The record's current state does not allow this action."""


class IdempotencyConflict(ReconError):
    """An Idempotency-Key was reused with a different request."""


class DependencyUnavailable(ReconError):
    """A service we depend on (the wallet) did not answer usably."""
