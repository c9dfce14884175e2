from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.recon_impl_http_handlers_sms_review_sms_body import (
    ReconImplHttpHandlersSmsReviewSmsBody,
)
from ...models.sms import Sms
from ...types import UNSET, Response, Unset


def _get_kwargs(
    sms_id: int,
    *,
    body: ReconImplHttpHandlersSmsReviewSmsBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Actor"] = x_actor

    if not isinstance(x_request_id, Unset):
        headers["X-Request-Id"] = x_request_id

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/sms/{sms_id}/review".format(
            sms_id=quote(str(sms_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

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
    body: ReconImplHttpHandlersSmsReviewSmsBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Problem | Sms]:
    """Record a person's review (confirm or reject); moves no money

     `check_status` 1 confirms: the order is the body's `order_id`, else the SMS's matched one
    (else 400). The order must be pending in the wallet with the SMS's amount and no other SMS
    may hold it (else 409 state-conflict); the SMS becomes status 1 holding that order.
    `check_status` 2 rejects: status 4. Allowed from status 1, 2 and 6 only, never while an
    approval is in flight.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersSmsReviewSmsBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Sms]
    """

    kwargs = _get_kwargs(
        sms_id=sms_id,
        body=body,
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
    body: ReconImplHttpHandlersSmsReviewSmsBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Problem | Sms | None:
    """Record a person's review (confirm or reject); moves no money

     `check_status` 1 confirms: the order is the body's `order_id`, else the SMS's matched one
    (else 400). The order must be pending in the wallet with the SMS's amount and no other SMS
    may hold it (else 409 state-conflict); the SMS becomes status 1 holding that order.
    `check_status` 2 rejects: status 4. Allowed from status 1, 2 and 6 only, never while an
    approval is in flight.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersSmsReviewSmsBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Sms
    """

    return sync_detailed(
        sms_id=sms_id,
        client=client,
        body=body,
        x_actor=x_actor,
        x_request_id=x_request_id,
    ).parsed


async def asyncio_detailed(
    sms_id: int,
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersSmsReviewSmsBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Problem | Sms]:
    """Record a person's review (confirm or reject); moves no money

     `check_status` 1 confirms: the order is the body's `order_id`, else the SMS's matched one
    (else 400). The order must be pending in the wallet with the SMS's amount and no other SMS
    may hold it (else 409 state-conflict); the SMS becomes status 1 holding that order.
    `check_status` 2 rejects: status 4. Allowed from status 1, 2 and 6 only, never while an
    approval is in flight.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersSmsReviewSmsBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Sms]
    """

    kwargs = _get_kwargs(
        sms_id=sms_id,
        body=body,
        x_actor=x_actor,
        x_request_id=x_request_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    sms_id: int,
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersSmsReviewSmsBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Problem | Sms | None:
    """Record a person's review (confirm or reject); moves no money

     `check_status` 1 confirms: the order is the body's `order_id`, else the SMS's matched one
    (else 400). The order must be pending in the wallet with the SMS's amount and no other SMS
    may hold it (else 409 state-conflict); the SMS becomes status 1 holding that order.
    `check_status` 2 rejects: status 4. Allowed from status 1, 2 and 6 only, never while an
    approval is in flight.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersSmsReviewSmsBody):

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
            body=body,
            x_actor=x_actor,
            x_request_id=x_request_id,
        )
    ).parsed
