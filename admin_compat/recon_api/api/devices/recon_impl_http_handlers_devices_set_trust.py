from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.recon_impl_http_handlers_devices_set_trust_body import (
    ReconImplHttpHandlersDevicesSetTrustBody,
)
from ...models.shooter_device import ShooterDevice
from ...types import UNSET, Response, Unset


def _get_kwargs(
    device_pk: int,
    *,
    body: ReconImplHttpHandlersDevicesSetTrustBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Actor"] = x_actor

    if not isinstance(x_request_id, Unset):
        headers["X-Request-Id"] = x_request_id

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/devices/{device_pk}/trust".format(
            device_pk=quote(str(device_pk), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

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
    body: ReconImplHttpHandlersDevicesSetTrustBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Problem | ShooterDevice]:
    """Trust or distrust a phone

     Trusting releases the SMS the phone sent before trust to processing, where they end in need_check
    with reason `pre_trust` instead of being matched.

    Args:
        device_pk (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersDevicesSetTrustBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ShooterDevice]
    """

    kwargs = _get_kwargs(
        device_pk=device_pk,
        body=body,
        x_actor=x_actor,
        x_request_id=x_request_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersDevicesSetTrustBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Problem | ShooterDevice | None:
    """Trust or distrust a phone

     Trusting releases the SMS the phone sent before trust to processing, where they end in need_check
    with reason `pre_trust` instead of being matched.

    Args:
        device_pk (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersDevicesSetTrustBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ShooterDevice
    """

    return sync_detailed(
        device_pk=device_pk,
        client=client,
        body=body,
        x_actor=x_actor,
        x_request_id=x_request_id,
    ).parsed


async def asyncio_detailed(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersDevicesSetTrustBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Problem | ShooterDevice]:
    """Trust or distrust a phone

     Trusting releases the SMS the phone sent before trust to processing, where they end in need_check
    with reason `pre_trust` instead of being matched.

    Args:
        device_pk (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersDevicesSetTrustBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ShooterDevice]
    """

    kwargs = _get_kwargs(
        device_pk=device_pk,
        body=body,
        x_actor=x_actor,
        x_request_id=x_request_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersDevicesSetTrustBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Problem | ShooterDevice | None:
    """Trust or distrust a phone

     Trusting releases the SMS the phone sent before trust to processing, where they end in need_check
    with reason `pre_trust` instead of being matched.

    Args:
        device_pk (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersDevicesSetTrustBody):

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
            body=body,
            x_actor=x_actor,
            x_request_id=x_request_id,
        )
    ).parsed
