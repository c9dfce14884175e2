from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.shooter_device import ShooterDevice
from ...types import Response


def _get_kwargs(
    device_pk: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/devices/{device_pk}".format(
            device_pk=quote(str(device_pk), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ShooterDevice | None:
    if response.status_code == 200:
        response_200 = ShooterDevice.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | ShooterDevice]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | ShooterDevice]:
    """One shooter phone

    Args:
        device_pk (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ShooterDevice]
    """

    kwargs = _get_kwargs(
        device_pk=device_pk,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | ShooterDevice | None:
    """One shooter phone

    Args:
        device_pk (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ShooterDevice
    """

    return sync_detailed(
        device_pk=device_pk,
        client=client,
    ).parsed


async def asyncio_detailed(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
) -> Response[Problem | ShooterDevice]:
    """One shooter phone

    Args:
        device_pk (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ShooterDevice]
    """

    kwargs = _get_kwargs(
        device_pk=device_pk,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
) -> Problem | ShooterDevice | None:
    """One shooter phone

    Args:
        device_pk (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ShooterDevice
    """

    return (
        await asyncio_detailed(
            device_pk=device_pk,
            client=client,
        )
    ).parsed
