from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.approval import Approval
from ...models.problem import Problem
from ...models.recon_impl_http_handlers_sms_finish_approval_body import (
    ReconImplHttpHandlersSmsFinishApprovalBody,
)
from ...types import UNSET, Response, Unset


def _get_kwargs(
    sms_id: int,
    *,
    body: ReconImplHttpHandlersSmsFinishApprovalBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["X-Actor"] = x_actor

    if not isinstance(x_request_id, Unset):
        headers["X-Request-Id"] = x_request_id

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/sms/{sms_id}/approval/finish".format(
            sms_id=quote(str(sms_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Approval | Problem | None:
    if response.status_code == 200:
        response_200 = Approval.from_dict(response.json())

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

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Approval | Problem]:
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
    body: ReconImplHttpHandlersSmsFinishApprovalBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Approval | Problem]:
    """Step 2 of an approval - the wallet's outcome

     `outcome: approved` (the wallet credited the order) marks the SMS approved (status 3).
    `outcome: refused` (the wallet answered definitively that it will not approve) clears the
    in-flight record and leaves the SMS confirmed. Finishing an approval that is already
    approved for the same order returns the same record.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersSmsFinishApprovalBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Approval | Problem]
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
    body: ReconImplHttpHandlersSmsFinishApprovalBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Approval | Problem | None:
    """Step 2 of an approval - the wallet's outcome

     `outcome: approved` (the wallet credited the order) marks the SMS approved (status 3).
    `outcome: refused` (the wallet answered definitively that it will not approve) clears the
    in-flight record and leaves the SMS confirmed. Finishing an approval that is already
    approved for the same order returns the same record.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersSmsFinishApprovalBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Approval | Problem
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
    body: ReconImplHttpHandlersSmsFinishApprovalBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Response[Approval | Problem]:
    """Step 2 of an approval - the wallet's outcome

     `outcome: approved` (the wallet credited the order) marks the SMS approved (status 3).
    `outcome: refused` (the wallet answered definitively that it will not approve) clears the
    in-flight record and leaves the SMS confirmed. Finishing an approval that is already
    approved for the same order returns the same record.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersSmsFinishApprovalBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Approval | Problem]
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
    body: ReconImplHttpHandlersSmsFinishApprovalBody,
    x_actor: str,
    x_request_id: str | Unset = UNSET,
) -> Approval | Problem | None:
    """Step 2 of an approval - the wallet's outcome

     `outcome: approved` (the wallet credited the order) marks the SMS approved (status 3).
    `outcome: refused` (the wallet answered definitively that it will not approve) clears the
    in-flight record and leaves the SMS confirmed. Finishing an approval that is already
    approved for the same order returns the same record.

    Args:
        sms_id (int):
        x_actor (str):
        x_request_id (str | Unset):
        body (ReconImplHttpHandlersSmsFinishApprovalBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Approval | Problem
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
