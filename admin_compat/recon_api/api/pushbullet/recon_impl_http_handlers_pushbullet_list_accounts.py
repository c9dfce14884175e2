from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.recon_impl_http_handlers_pushbullet_list_accounts_response_200 import (
    ReconImplHttpHandlersPushbulletListAccountsResponse200,
)
from ...models.recon_impl_http_handlers_pushbullet_list_accounts_status import (
    ReconImplHttpHandlersPushbulletListAccountsStatus,
)
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    page: int | Unset = 1,
    page_size: int | Unset = 20,
    status: ReconImplHttpHandlersPushbulletListAccountsStatus | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["page"] = page

    params["page_size"] = page_size

    json_status: int | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/pushbullet-accounts",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200 | None:
    if response.status_code == 200:
        response_200 = ReconImplHttpHandlersPushbulletListAccountsResponse200.from_dict(
            response.json()
        )

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    page_size: int | Unset = 20,
    status: ReconImplHttpHandlersPushbulletListAccountsStatus | Unset = UNSET,
) -> Response[Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200]:
    """List Pushbullet accounts (tokens are never shown, only `token_mask`)

    Args:
        page (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 20.
        status (ReconImplHttpHandlersPushbulletListAccountsStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200]
    """

    kwargs = _get_kwargs(
        page=page,
        page_size=page_size,
        status=status,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    page_size: int | Unset = 20,
    status: ReconImplHttpHandlersPushbulletListAccountsStatus | Unset = UNSET,
) -> Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200 | None:
    """List Pushbullet accounts (tokens are never shown, only `token_mask`)

    Args:
        page (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 20.
        status (ReconImplHttpHandlersPushbulletListAccountsStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200
    """

    return sync_detailed(
        client=client,
        page=page,
        page_size=page_size,
        status=status,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    page_size: int | Unset = 20,
    status: ReconImplHttpHandlersPushbulletListAccountsStatus | Unset = UNSET,
) -> Response[Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200]:
    """List Pushbullet accounts (tokens are never shown, only `token_mask`)

    Args:
        page (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 20.
        status (ReconImplHttpHandlersPushbulletListAccountsStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200]
    """

    kwargs = _get_kwargs(
        page=page,
        page_size=page_size,
        status=status,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    page_size: int | Unset = 20,
    status: ReconImplHttpHandlersPushbulletListAccountsStatus | Unset = UNSET,
) -> Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200 | None:
    """List Pushbullet accounts (tokens are never shown, only `token_mask`)

    Args:
        page (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 20.
        status (ReconImplHttpHandlersPushbulletListAccountsStatus | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReconImplHttpHandlersPushbulletListAccountsResponse200
    """

    return (
        await asyncio_detailed(
            client=client,
            page=page,
            page_size=page_size,
            status=status,
        )
    ).parsed
