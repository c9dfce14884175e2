"""Page/total pagination shared by every list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

# (session, limit, offset) -> the page's rows, and the total when fetching them counted it.
PageFetch = Callable[[Session, int, int], tuple[Sequence[Any], int | None]]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    page_size: int


def count_rows(session: Session, query: Select[Any]) -> int:
    """The exact number of rows ``query`` returns."""
    count_query = select(func.count()).select_from(query.order_by(None).subquery())
    return session.scalar(count_query) or 0


def paginate(
    session: Session,
    query: Select[Any],
    page: int,
    page_size: int,
    *,
    fetch: PageFetch | None = None,
) -> Page[Any]:
    """Run ``query`` for one page (caller orders it) and count all its rows.

    ``fetch``, when given, finds the same page of ``query`` its own way (see ``sms.fetch_page``).
    """
    offset = (page - 1) * page_size
    if fetch is None:
        rows: Sequence[Any] = session.scalars(query.limit(page_size).offset(offset)).all()
        total = None
    else:
        rows, total = fetch(session, page_size, offset)
    if total is None and page == 1 and len(rows) < page_size:
        total = len(rows)  # the page holds everything: no count query needed
    if total is None:
        total = count_rows(session, query)
    return Page(rows, total, page, page_size)
