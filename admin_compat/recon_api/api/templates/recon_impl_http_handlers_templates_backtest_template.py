from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.backtest import Backtest
from ...models.problem import Problem
from ...models.recon_impl_http_handlers_templates_backtest_template_body import (
    ReconImplHttpHandlersTemplatesBacktestTemplateBody,
)
from ...types import Response


def _get_kwargs(
    *,
    body: ReconImplHttpHandlersTemplatesBacktestTemplateBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/templates/backtest",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Backtest | Problem | None:
    if response.status_code == 200:
        response_200 = Backtest.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Backtest | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersTemplatesBacktestTemplateBody,
) -> Response[Backtest | Problem]:
    """Dry run - what a template would extract from the newest stored SMS of its senders

     Nothing is stored. The body is a template as for add (compiled and its sample checked the same way)
    plus `limit`, the number of newest SMS of its senders to try.

    Args:
        body (ReconImplHttpHandlersTemplatesBacktestTemplateBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Backtest | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersTemplatesBacktestTemplateBody,
) -> Backtest | Problem | None:
    """Dry run - what a template would extract from the newest stored SMS of its senders

     Nothing is stored. The body is a template as for add (compiled and its sample checked the same way)
    plus `limit`, the number of newest SMS of its senders to try.

    Args:
        body (ReconImplHttpHandlersTemplatesBacktestTemplateBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Backtest | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersTemplatesBacktestTemplateBody,
) -> Response[Backtest | Problem]:
    """Dry run - what a template would extract from the newest stored SMS of its senders

     Nothing is stored. The body is a template as for add (compiled and its sample checked the same way)
    plus `limit`, the number of newest SMS of its senders to try.

    Args:
        body (ReconImplHttpHandlersTemplatesBacktestTemplateBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Backtest | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ReconImplHttpHandlersTemplatesBacktestTemplateBody,
) -> Backtest | Problem | None:
    """Dry run - what a template would extract from the newest stored SMS of its senders

     Nothing is stored. The body is a template as for add (compiled and its sample checked the same way)
    plus `limit`, the number of newest SMS of its senders to try.

    Args:
        body (ReconImplHttpHandlersTemplatesBacktestTemplateBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Backtest | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
