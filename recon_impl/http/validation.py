"""Request-body validation that answers 400 (not 500) for text PostgreSQL could never store.

* A body that is not UTF-8: Connexion's JSON validator decodes it unguarded (issue 1860).
* A JSON string with a lone surrogate escape (``"\\ud800"``): valid JSON, but not encodable as
  UTF-8, so it would fail only when written.
"""

from __future__ import annotations

import typing as t

from connexion.exceptions import BadRequestProblem
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, MediaTypeDict
from starlette.types import Scope


def _has_lone_surrogate(value: t.Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


class Utf8JSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        chunks = [chunk async for chunk in stream]
        body = b"".join(chunks)
        try:
            body.decode(self._encoding)
        except UnicodeDecodeError as exc:
            raise BadRequestProblem(detail=f"request body is not valid {self._encoding}") from exc

        async def replay() -> t.AsyncGenerator[bytes, None]:
            yield body

        parsed = await super()._parse(replay(), scope)
        if _has_lone_surrogate(parsed):
            raise BadRequestProblem(detail="request body has a string with an unpaired surrogate escape")
        return parsed


VALIDATORS: dict[str, t.Any] = {
    **VALIDATOR_MAP,
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": Utf8JSONBodyValidator}),
}
