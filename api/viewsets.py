"""The API's views: one read-only viewset per registered resource, built from the registry, every call logged."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from api import fast, feeds
from api.authentication import client_of
from api.filters import filterset_for
from api.pagination import KeysetPagination, whole_number
from api.permissions import ClientResourcePermission
from api.resources import RESOURCES, Resource
from api.serializers import ErrorSerializer
from api.services import api_call_record

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="未提供访问令牌，或令牌无效、已过期、已吊销，或客户端已停用"),
    403: OpenApiResponse(ErrorSerializer, description="客户端无权读取此资源"),
    429: OpenApiResponse(ErrorSerializer, description="请求过于频繁"),
}


class CallLogged(APIView):
    """Writes one ApiCall row per request, whatever its answer (401, 404 and 429 included)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        started = time.monotonic()
        response = super().dispatch(request, *args, **kwargs)
        api_call_record(
            client_id=getattr(request, "api_client_id", None),
            method=request.method or "",
            path=request.get_full_path(),
            status=response.status_code,
            records=getattr(request, "api_records", 0),
            duration_ms=round((time.monotonic() - started) * 1000),
        )
        return response


def _count_records(request: Request, count: int) -> None:
    request._request.api_records = count  # type: ignore[attr-defined]


def etag_of(instance: Any, data: Any) -> str:
    """The record's version where it has one (If-Match compares it); a digest of what was sent otherwise."""
    version = getattr(instance, "version", None)
    if version is not None:
        return f'"{version}"'
    body = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


class ResourceViewSet(CallLogged, viewsets.ReadOnlyModelViewSet):
    """List (keyset by id) and detail of one resource, scoped to the client's region."""

    resource: Resource
    permission_classes = [ClientResourcePermission]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = r"[0-9]+"

    @property
    def resource_name(self) -> str:
        return self.resource.name

    def get_queryset(self) -> Any:
        return self.resource.rows(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        paginator = self.paginator
        assert isinstance(paginator, KeysetPagination)
        page = paginator.paginate_records(
            queryset, request, lambda rows, limit: fast.records(self.resource, rows, request.user, limit)
        )
        _count_records(request, len(page))
        return paginator.get_paginated_response(page)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        data = self.get_serializer(instance).data
        _count_records(request, 1)
        return Response(data, headers={"ETag": etag_of(instance, data)})

    @action(detail=False, methods=["get"], url_path="changes", filter_backends=[], pagination_class=None)
    def changes(self, request: Request) -> Response:
        limit = whole_number(request, "limit", feeds.DEFAULT_LIMIT, lowest=1, highest=feeds.MAX_LIMIT)
        body = feeds.feed_page(
            resource=self.resource,
            principal=request.user,
            since=request.query_params.get("since"),
            limit=limit,
        )
        _count_records(request, len(body["changes"]))
        return Response(body)


FEED_DOC = (
    "客户端管辖区划内{title}的变更，按稳定顺序分页（键集游标，不计总数、不用偏移）。"
    "不带 since：不返回变更，只返回当前游标——全量同步先取此游标，再按列表接口读取全部记录，"
    "然后以该游标调用本接口增量同步，两者之间的任何变更都不会遗漏（可能重复，按 id 覆盖即可）。"
    "带 since：返回该游标之后的变更，每条为记录现状（upsert）或墓碑（delete：已删除或已移出管辖区划）；"
    "以返回的 cursor 继续，直到 has_more 为 false。尚未提交或在更早的未结束事务之后提交的变更，"
    "等这些事务结束后才会返回，因此游标之后不会再出现更早的变更。"
)
FEED_PARAMETERS = [
    OpenApiParameter(
        "since",
        str,
        description="上次返回的 cursor（如 1234.5678）；省略时只返回当前游标。格式无效为 400，已被清理为 410",
    ),
    OpenApiParameter(
        "limit",
        int,
        description=f"每页最多变更条数，默认 {feeds.DEFAULT_LIMIT}，最多 {feeds.MAX_LIMIT}",
    ),
]


def viewset_for(resource: Resource) -> type[ResourceViewSet]:
    """A viewset class of its own per resource, so the schema names and documents each one."""
    detail_doc = "按 id 读取一条记录；不存在或不在客户端管辖区划内时返回 404。"
    if resource.versioned:
        detail_doc += "响应头 ETag 为记录版本号 version。"
    else:
        detail_doc += "响应头 ETag 为记录内容的摘要。"
    name = "".join(part.title() for part in resource.name.split("-"))
    documented = extend_schema_view(
        list=extend_schema(
            summary=f"{resource.title}列表",
            description=f"客户端管辖区划内的{resource.title}，按 id 升序分页（after、limit），不返回总数。",
            tags=[resource.title],
            responses={200: resource.serializer(many=True), 400: ErrorSerializer, **ERRORS},
        ),
        retrieve=extend_schema(
            summary=f"{resource.title}详情",
            description=detail_doc,
            tags=[resource.title],
            parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="记录 id")],
            responses={200: resource.serializer, 404: ErrorSerializer, **ERRORS},
        ),
        changes=extend_schema(
            summary=f"{resource.title}变更",
            description=FEED_DOC.format(title=resource.title),
            tags=[resource.title],
            parameters=FEED_PARAMETERS,
            responses={
                200: feeds.feed_response_serializer(resource, name),
                400: OpenApiResponse(ErrorSerializer, description="since 或 limit 无效"),
                410: OpenApiResponse(ErrorSerializer, description="游标之后的变更记录已被清理，须重新全量同步"),
                **ERRORS,
            },
        ),
    )
    cls = type(
        f"{name}ViewSet",
        (ResourceViewSet,),
        {
            "resource": resource,
            "serializer_class": resource.serializer,
            "filterset_class": filterset_for(resource),
            "queryset": resource.model._default_manager.none(),
            "__doc__": f"{resource.title}（只读）。",
        },
    )
    return documented(cls)


VIEWSETS = {name: viewset_for(resource) for name, resource in RESOURCES.items()}


class ApiRoot(CallLogged):
    """The resources this client may read, with their list addresses."""

    permission_classes = [IsAuthenticated]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        client = client_of(request.user)
        names = [name for name in RESOURCES if client is not None and client.may_read(name)]
        return Response({name: reverse(f"api:{name}-list", request=request) for name in names})


class NoSuchEndpoint(CallLogged):
    """Any other address under /api/v1/: 404 in the API's error format (after the token check)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise NotFound()

    post = put = patch = delete = get
