from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.recon_impl_http_handlers_devices_list_devices_response_200 import (
    ReconImplHttpHandlersDevicesListDevicesResponse200,
)
from ...models.recon_impl_http_handlers_devices_list_devices_trusted import (
    ReconImplHttpHandlersDevicesListDevicesTrusted,
)
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    page: int | Unset = 1,
    page_size: int | Unset = 20,
    trusted: ReconImplHttpHandlersDevicesListDevicesTrusted | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["page"] = page

    params["page_size"] = page_size

    json_trusted: int | Unset = UNSET
    if not isinstance(trusted, Unset):
        json_trusted = trusted.value

    params["trusted"] = json_trusted

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/devices",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ReconImplHttpHandlersDevicesListDevicesResponse200 | None:
    if response.status_code == 200:
        response_200 = ReconImplHttpHandlersDevicesListDevicesResponse200.from_dict(
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
) -> Response[Problem | ReconImplHttpHandlersDevicesListDevicesResponse200]:
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
    trusted: ReconImplHttpHandlersDevicesListDevicesTrusted | Unset = UNSET,
) -> Response[Problem | ReconImplHttpHandlersDevicesListDevicesResponse200]:
    """List shooter phones

    Args:
        page (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 20.
        trusted (ReconImplHttpHandlersDevicesListDevicesTrusted | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReconImplHttpHandlersDevicesListDevicesResponse200]
    """

    kwargs = _get_kwargs(
        page=page,
        page_size=page_size,
        trusted=trusted,
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
    trusted: ReconImplHttpHandlersDevicesListDevicesTrusted | Unset = UNSET,
) -> Problem | ReconImplHttpHandlersDevicesListDevicesResponse200 | None:
    """List shooter phones

    Args:
        page (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 20.
        trusted (ReconImplHttpHandlersDevicesListDevicesTrusted | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReconImplHttpHandlersDevicesListDevicesResponse200
    """

    return sync_detailed(
        client=client,
        page=page,
        page_size=page_size,
        trusted=trusted,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    page_size: int | Unset = 20,
    trusted: ReconImplHttpHandlersDevicesListDevicesTrusted | Unset = UNSET,
) -> Response[Problem | ReconImplHttpHandlersDevicesListDevicesResponse200]:
    """List shooter phones

    Args:
        page (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 20.
        trusted (ReconImplHttpHandlersDevicesListDevicesTrusted | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ReconImplHttpHandlersDevicesListDevicesResponse200]
    """

    kwargs = _get_kwargs(
        page=page,
        page_size=page_size,
        trusted=trusted,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    page: int | Unset = 1,
    page_size: int | Unset = 20,
    trusted: ReconImplHttpHandlersDevicesListDevicesTrusted | Unset = UNSET,
) -> Problem | ReconImplHttpHandlersDevicesListDevicesResponse200 | None:
    """List shooter phones

    Args:
        page (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 20.
        trusted (ReconImplHttpHandlersDevicesListDevicesTrusted | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ReconImplHttpHandlersDevicesListDevicesResponse200
    """

    return (
        await asyncio_detailed(
            client=client,
            page=page,
            page_size=page_size,
            trusted=trusted,
        )
    ).parsed
