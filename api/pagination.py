"""Keyset pagination by id: `?after=<id>&limit=`, a `next` link, no COUNT and no OFFSET."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_LIMIT = 100
MAX_LIMIT = 5000


def whole_number(request: Request, name: str, default: int, *, lowest: int, highest: int | None = None) -> int:
    text = request.query_params.get(name, "")
    if text == "":
        return default
    if not text.isdigit() or int(text) < lowest or (highest is not None and int(text) > highest):
        bound = f"{lowest}～{highest}" if highest is not None else f"不小于{lowest}"
        raise ValidationError({name: [f"应为{bound}的整数"]})
    return int(text)


class KeysetPagination(BasePagination):
    """Rows with id greater than `after`, in id order, at most `limit` of them."""

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        after = whole_number(request, "after", 0, lowest=0)
        self.limit = whole_number(request, "limit", DEFAULT_LIMIT, lowest=1, highest=MAX_LIMIT)
        self.request = request
        rows = list(queryset.filter(pk__gt=after).order_by("pk")[: self.limit + 1])
        self.has_more = len(rows) > self.limit
        self.rows = rows[: self.limit]
        return self.rows

    def paginate_records(
        self, queryset: QuerySet[Any], request: Request, render: Callable[[QuerySet[Any], int], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Like paginate_queryset, with `render(queryset, n)` building the first n records as dicts."""
        after = whole_number(request, "after", 0, lowest=0)
        self.limit = whole_number(request, "limit", DEFAULT_LIMIT, lowest=1, highest=MAX_LIMIT)
        self.request = request
        records = render(queryset.filter(pk__gt=after).order_by("pk"), self.limit + 1)
        self.has_more = len(records) > self.limit
        self.rows = records[: self.limit]
        return self.rows

    def next_link(self) -> str | None:
        if not self.has_more:
            return None
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, "limit", self.limit)
        last = self.rows[-1]
        return replace_query_param(url, "after", last["id"] if isinstance(last, dict) else last.pk)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "下一页的地址；没有更多记录时为 null",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "after",
                "in": "query",
                "required": False,
                "description": "只返回 id 大于此值的记录（取上一页最后一条的 id）",
                "schema": {"type": "integer", "minimum": 0},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"每页条数，默认 {DEFAULT_LIMIT}，最多 {MAX_LIMIT}",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
        ]
