from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.pushbullet_account import PushbulletAccount
from ...models.recon_impl_http_handlers_pushbullet_create_account_body import (
    ReconImplHttpHandlersPushbulletCreateAccountBody,
)
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ReconImplHttpHandlersPushbulletCreateAccountBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Actor"] = x_actor

    if not isinstance(x_request_id, Unset):
        headers["X-Request-Id"] = x_request_id

    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/pushbullet-accounts",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | PushbulletAccount | None:
    if response.status_code == 201:
        response_201 = PushbulletAccount.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | PushbulletAccount]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersPushbulletCreateAccountBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | PushbulletAccount]:
    """Add a Pushbullet account; its token is stored encrypted and never returned

    Args:
        x_actor (str):
        x_request_id (str | Unset):
        idempotency_key (str | Unset):
        body (ReconImplHttpHandlersPushbulletCreateAccountBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | PushbulletAccount]
    """

    kwargs = _get_kwargs(
        body=body,
        x_actor=x_actor,
        x_request_id=x_request_id,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersPushbulletCreateAccountBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Problem | PushbulletAccount | None:
    """Add a Pushbullet account; its token is stored encrypted and never returned

    Args:
        x_actor (str):
        x_request_id (str | Unset):
        idempotency_key (str | Unset):
        body (ReconImplHttpHandlersPushbulletCreateAccountBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | PushbulletAccount
    """

    return sync_detailed(
        client=client,
        body=body,
        x_actor=x_actor,
        x_request_id=x_request_id,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersPushbulletCreateAccountBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | PushbulletAccount]:
    """Add a Pushbullet account; its token is stored encrypted and never returned

    Args:
        x_actor (str):
        x_request_id (str | Unset):
        idempotency_key (str | Unset):
        body (ReconImplHttpHandlersPushbulletCreateAccountBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | PushbulletAccount]
    """

    kwargs = _get_kwargs(
        body=body,
        x_actor=x_actor,
        x_request_id=x_request_id,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersPushbulletCreateAccountBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Problem | PushbulletAccount | None:
    """Add a Pushbullet account; its token is stored encrypted and never returned

    Args:
        x_actor (str):
        x_request_id (str | Unset):
        idempotency_key (str | Unset):
        body (ReconImplHttpHandlersPushbulletCreateAccountBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | PushbulletAccount
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            x_actor=x_actor,
            x_request_id=x_request_id,
            idempotency_key=idempotency_key,
        )
    ).parsed
