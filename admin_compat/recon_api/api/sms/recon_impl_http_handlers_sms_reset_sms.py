from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.sms import Sms
from ...types import UNSET, Response, Unset


def _get_kwargs(
    sms_id: int,
    *,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Actor"] = x_actor

    if not isinstance(x_request_id, Unset):
        headers["X-Request-Id"] = x_request_id

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/sms/{sms_id}/reset".format(
            sms_id=quote(str(sms_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | Sms | None:
    if response.status_code == 200:
        response_200 = Sms.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | Sms]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    sms_id: int,
    *,
    client: AuthenticatedClient | Client,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Problem | Sms]:
    """Send an SMS back to status 0 to be parsed and matched again

     Clears `order_id`, `check_status`, `check_admin`, `check_at` and `reason` (the old values go to the
    audit log). 409 state-conflict once approved or while an approval is in flight.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Sms]
    """

    kwargs = _get_kwargs(
        sms_id=sms_id,
        x_actor=x_actor,
        x_request_id=x_request_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    sms_id: int,
    *,
    client: AuthenticatedClient | Client,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Problem | Sms | None:
    """Send an SMS back to status 0 to be parsed and matched again

     Clears `order_id`, `check_status`, `check_admin`, `check_at` and `reason` (the old values go to the
    audit log). 409 state-conflict once approved or while an approval is in flight.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Sms
    """

    return sync_detailed(
        sms_id=sms_id,
        client=client,
        x_actor=x_actor,
        x_request_id=x_request_id,
    ).parsed


async def asyncio_detailed(
    sms_id: int,
    *,
    client: AuthenticatedClient | Client,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Problem | Sms]:
    """Send an SMS back to status 0 to be parsed and matched again

     Clears `order_id`, `check_status`, `check_admin`, `check_at` and `reason` (the old values go to the
    audit log). 409 state-conflict once approved or while an approval is in flight.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Sms]
    """

    kwargs = _get_kwargs(
        sms_id=sms_id,
        x_actor=x_actor,
        x_request_id=x_request_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    sms_id: int,
    *,
    client: AuthenticatedClient | Client,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Problem | Sms | None:
    """Send an SMS back to status 0 to be parsed and matched again

     Clears `order_id`, `check_status`, `check_admin`, `check_at` and `reason` (the old values go to the
    audit log). 409 state-conflict once approved or while an approval is in flight.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Sms
    """

    return (
        await asyncio_detailed(
            sms_id=sms_id,
            client=client,
            x_actor=x_actor,
            x_request_id=x_request_id,
        )
    ).parsed
