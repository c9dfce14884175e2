"""Page/total pagination shared by every list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    page_size: int


def paginate(session: Session, query: Select[Any], page: int, page_size: int) -> Page[Any]:
    """Run ``query`` for one page (caller orders it) and count all its rows."""
    rows = session.scalars(query.limit(page_size).offset((page - 1) * page_size)).all()
    if page == 1 and len(rows) < page_size:
        total = len(rows)  # the page holds everything: no count query needed
    else:
        count_query = select(func.count()).select_from(query.order_by(None).subquery())
        total = session.scalar(count_query) or 0
    return Page(rows, total, page, page_size)
