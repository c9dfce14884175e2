from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    device_pk: int,
    *,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Actor"] = x_actor

    if not isinstance(x_request_id, Unset):
        headers["X-Request-Id"] = x_request_id

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/devices/{device_pk}".format(
            device_pk=quote(str(device_pk), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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
) -> Response[Any | Problem]:
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
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Soft-delete a phone (its signature stops working; the phone may enrol again)

    Args:
        device_pk (int):
        x_actor (str):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        device_pk=device_pk,
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
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Any | Problem | None:
    """Soft-delete a phone (its signature stops working; the phone may enrol again)

    Args:
        device_pk (int):
        x_actor (str):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        device_pk=device_pk,
        client=client,
        x_actor=x_actor,
        x_request_id=x_request_id,
    ).parsed


async def asyncio_detailed(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Soft-delete a phone (its signature stops working; the phone may enrol again)

    Args:
        device_pk (int):
        x_actor (str):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        device_pk=device_pk,
        x_actor=x_actor,
        x_request_id=x_request_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    device_pk: int,
    *,
    client: AuthenticatedClient | Client,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Any | Problem | None:
    """Soft-delete a phone (its signature stops working; the phone may enrol again)

    Args:
        device_pk (int):
        x_actor (str):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            device_pk=device_pk,
            client=client,
            x_actor=x_actor,
            x_request_id=x_request_id,
        )
    ).parsed
