"""Idempotency-Key handling for creates: the same key and body replay the first answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recon_impl.domain.errors import IdempotencyConflict
from recon_impl.storage.models import IdempotencyRecord


def _hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def once(
    session: Session,
    scope: str,
    key: str | None,
    body: Any,
    create: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Run ``create`` once per ``(scope, key)``; a retry with the same body gets the same answer."""
    if key is None:
        return create()
    # Serialize concurrent retries of one key inside this transaction.
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(f"{scope}:{key}", 0))))
    request_hash = _hash(body)
    record = session.get(IdempotencyRecord, (scope, key))
    if record is not None:
        if record.request_hash != request_hash:
            raise IdempotencyConflict("Idempotency-Key was already used with a different request")
        return record.response
    answer = create()
    session.add(
        IdempotencyRecord(scope=scope, key=key, request_hash=request_hash, status_code=201, response=answer)
    )
    return answer
