"""Request-body validation that answers 400 (not 500) for a body that is not UTF-8.

Works around Connexion issue 1860: its JSON validator decodes the body unguarded.
"""

from __future__ import annotations

import typing as t

from connexion.exceptions import BadRequestProblem
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, MediaTypeDict
from starlette.types import Scope


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

        return await super()._parse(replay(), scope)


VALIDATORS: dict[str, t.Any] = {
    **VALIDATOR_MAP,
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": Utf8JSONBodyValidator}),
}
