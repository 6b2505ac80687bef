"""/api/v1/reconciliations/: post (户编号 or 身份证号, checksum) lists for a county in batches, finish, read
the report and its differences (keyset pages)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api import reconciliations
from api.authentication import client_of
from api.models import EntryKind, Problem, Reconciliation, ReconciliationStatus
from api.pagination import MAX_LIMIT, whole_number
from api.serializers import ErrorSerializer
from api.viewsets import ERRORS, CallLogged, _count_records
from households.personal_data import text_shown_to
from regions.models import Region, regions_visible_to

TAG = "数据核对"
CHECKSUM_DOC = (
    "校验值：按字段顺序把记录的各值转为文本（空值为空串，布尔为 1/0，日期为 YYYY-MM-DD，"
    "区划为 12 位代码，农户为户编号），"
    "以 U+001F 连接，取 UTF-8 字节的 SHA-256（64 位小写十六进制）。农户字段："
    + "、".join(name for _path, name in reconciliations.HOUSEHOLD_FIELDS)
    + "；家庭成员字段："
    + "、".join(name for _path, name in reconciliations.MEMBER_FIELDS)
    + "。"
)


class MayReconcile(BasePermission):
    """Reads households, and sees personal data: the checksums cover full 身份证号 and phone numbers, and a
    masked client may not look people up by 身份证号 (as on pages)."""

    message = "核对须有读取农户和查看个人信息的权限（校验值按完整的身份证号、电话计算）"

    def has_permission(self, request: Request, view: Any) -> bool:
        client = client_of(request.user)
        return bool(client is not None and client.may_read("households") and client.may_view_personal_data)


def _entry_fields() -> dict[str, serializers.Field]:
    return {
        "kind": serializers.ChoiceField(choices=EntryKind.choices, help_text="household：农户；member：家庭成员"),
        "key": serializers.CharField(max_length=32, help_text="户编号（农户）或身份证号（家庭成员）"),
        "checksum": serializers.CharField(min_length=64, max_length=64, help_text="记录的校验值（见接口说明）"),
    }


ENTRIES = inline_serializer(
    name="ReconciliationEntry",
    many=True,
    fields=_entry_fields(),
    help_text=f"条目，每次最多 {reconciliations.MAX_ENTRIES_PER_CALL:,} 条；同一核对中同一户编号或身份证号只能提交一次",
)


def _counts(label: str) -> Any:
    return inline_serializer(
        name=f"ReconciliationCounts{label.title()}",
        fields={
            "posted": serializers.IntegerField(help_text="提交的条数"),
            "county": serializers.IntegerField(help_text="县里的记录数"),
            "missing_in_county": serializers.IntegerField(help_text="提交了、县里没有的"),
            "missing_in_province": serializers.IntegerField(help_text="县里有、没有提交的"),
            "differs": serializers.IntegerField(help_text="两边都有、校验值不同的"),
        },
        required=False,
        help_text="农户的核对结果" if label == "household" else "家庭成员的核对结果",
    )


class ReconciliationSerializer(serializers.ModelSerializer):
    county: serializers.SlugRelatedField[Region] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="县（区划代码）"
    )
    status = serializers.ChoiceField(
        choices=ReconciliationStatus.choices, read_only=True, help_text="receiving：接收条目中；finished：已核对"
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="创建时间")
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="核对完成时间")
    entries = serializers.IntegerField(read_only=True, source="entry_count", help_text="已提交（尚未核对）的条数")
    summary = inline_serializer(
        name="ReconciliationSummary",
        fields={"household": _counts("household"), "member": _counts("member")},
        read_only=True,
        help_text="核对结果（完成后）",
    )

    class Meta:
        model = Reconciliation
        fields = ["id", "county", "status", "created_at", "finished_at", "entries", "summary"]
        extra_kwargs = {"id": {"help_text": "核对 id"}}


class DifferenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="差异 id（分页游标）")
    kind = serializers.ChoiceField(choices=EntryKind.choices, help_text="household：农户；member：家庭成员")
    key = serializers.CharField(help_text="户编号或身份证号")
    problem = serializers.ChoiceField(
        choices=Problem.choices,
        help_text="missing_in_county：县里没有；missing_in_province：省里没有；differs：内容不一致",
    )
    county_checksum = serializers.CharField(help_text="县里记录的校验值（县里没有时为空）")
    province_checksum = serializers.CharField(help_text="提交的校验值（省里没有时为空）")


def _shown(reconciliation: Reconciliation) -> Reconciliation:
    reconciliation.entry_count = reconciliation.entries.count()  # type: ignore[attr-defined]
    return reconciliation


def _reconciliation_of(request: Request, pk: int) -> Reconciliation:
    """The client's own reconciliation, or 404 (another client's does not exist for it)."""
    found = Reconciliation.objects.select_related("county").filter(pk=pk, client=client_of(request.user)).first()
    if found is None:
        raise NotFound()
    return found


def _as_api_error(error: Exception) -> ValidationError:
    if isinstance(error, reconciliations.EntryErrors):
        return ValidationError(error.rows)  # one entry of field errors per posted row
    assert isinstance(error, DjangoValidationError)
    if hasattr(error, "error_dict"):
        return ValidationError({field: [str(m) for m in messages] for field, messages in error.message_dict.items()})
    return ValidationError([str(message) for message in error.messages])


PATH_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="核对 id（新建核对时返回）")


class ReconciliationBase(CallLogged):
    permission_classes = [MayReconcile]
    resource_name = "households"


class ReconciliationList(ReconciliationBase):
    @extend_schema(
        summary="新建核对",
        description="为客户端管辖区划内的一个县新建核对，可同时提交第一批条目。大量条目分批提交到 entries，"
        "提交完毕后调用 finish 得到结果。须有读取农户和查看个人信息的权限。" + CHECKSUM_DOC,
        tags=[TAG],
        request=inline_serializer(
            name="ReconciliationCreate",
            fields={
                "county": serializers.CharField(help_text="县的 12 位区划代码，如 532326000000"),
                "entries": ENTRIES,
            },
        ),
        responses={
            201: ReconciliationSerializer,
            400: OpenApiResponse(ErrorSerializer, description="县或条目有误（逐条说明）"),
            404: OpenApiResponse(ErrorSerializer, description="县不存在或不在管辖范围内"),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        code = str(data.get("county", ""))
        county = regions_visible_to(request.user).filter(code=code).first() if code else None
        if county is None:
            if not code or not Region.objects.filter(code=code).exists():
                raise ValidationError({"county": [f"没有区划代码为“{code[:20]}”的县"]})
            raise NotFound()
        try:
            reconciliation = reconciliations.reconciliation_create(
                client=client_of(request.user), county=county, entries=data.get("entries")
            )
        except (DjangoValidationError, reconciliations.EntryErrors) as error:
            raise _as_api_error(error) from error
        _count_records(request, reconciliation.entries.count())
        body = ReconciliationSerializer(_shown(reconciliation)).data
        return Response(body, status=status.HTTP_201_CREATED)


class ReconciliationDetail(ReconciliationBase):
    @extend_schema(
        summary="核对详情",
        parameters=[PATH_ID],
        description="核对的状态和（完成后的）结果汇总。",
        tags=[TAG],
        responses={200: ReconciliationSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReconciliationSerializer(_shown(_reconciliation_of(request, pk))).data)


class ReconciliationEntries(ReconciliationBase):
    @extend_schema(
        summary="提交核对条目",
        parameters=[PATH_ID],
        description="再提交一批条目（全部写入或全部不写入，错误逐条说明）。" + CHECKSUM_DOC,
        tags=[TAG],
        request=inline_serializer(name="ReconciliationEntries", fields={"entries": ENTRIES}),
        responses={
            200: ReconciliationSerializer,
            400: OpenApiResponse(ErrorSerializer, description="条目有误（逐条说明），或核对已完成"),
            404: ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        reconciliation = _reconciliation_of(request, pk)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            reconciliations.reconciliation_entries_add(reconciliation=reconciliation, entries=data.get("entries"))
        except (DjangoValidationError, reconciliations.EntryErrors) as error:
            raise _as_api_error(error) from error
        entries = data.get("entries")
        _count_records(request, len(entries) if isinstance(entries, list) else 0)
        return Response(ReconciliationSerializer(_shown(reconciliation)).data)


class ReconciliationFinish(ReconciliationBase):
    @extend_schema(
        summary="完成核对",
        parameters=[PATH_ID],
        description="用已提交的条目与县里的农户、家庭成员逐条比对，保存差异并返回汇总；重复调用返回同一结果。"
        "县级管理员在“接口客户端—数据核对”页面看到同一份结果。",
        tags=[TAG],
        request=None,
        responses={200: ReconciliationSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        finished = reconciliations.reconciliation_finish(reconciliation=_reconciliation_of(request, pk))
        return Response(ReconciliationSerializer(_shown(finished)).data)


class ReconciliationDifferences(ReconciliationBase):
    @extend_schema(
        summary="核对差异",
        description="核对完成后逐条列出差异，按 id 升序分页（after、limit），不返回总数。",
        tags=[TAG],
        parameters=[
            PATH_ID,
            OpenApiParameter("after", int, description="只返回 id 大于此值的差异（取上一页最后一条的 id）"),
            OpenApiParameter("limit", int, description=f"每页条数，默认 100，最多 {MAX_LIMIT}"),
            OpenApiParameter("problem", str, enum=Problem.values, description="只返回这一类差异"),
            OpenApiParameter("kind", str, enum=EntryKind.values, description="只返回农户或家庭成员的差异"),
        ],
        responses={
            200: inline_serializer(
                name="ReconciliationDifferencePage",
                fields={
                    "next": serializers.CharField(allow_null=True, help_text="下一页的地址；没有更多时为 null"),
                    "results": DifferenceSerializer(many=True, help_text="差异"),
                },
            ),
            400: ErrorSerializer,
            404: ErrorSerializer,
            **ERRORS,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        reconciliation = _reconciliation_of(request, pk)
        after = whole_number(request, "after", 0, lowest=0)
        limit = whole_number(request, "limit", 100, lowest=1, highest=MAX_LIMIT)
        rows = reconciliation.differences.filter(pk__gt=after).order_by("pk")
        for name, choices in (("problem", Problem.values), ("kind", EntryKind.values)):
            value = request.query_params.get(name)
            if value is not None:
                if value not in choices:
                    raise ValidationError({name: [f"应为 {'、'.join(choices)} 之一"]})
                rows = rows.filter(**{name: value})
        page = list(rows.values("id", "kind", "key", "problem", "county_checksum", "province_checksum")[: limit + 1])
        following = None
        if len(page) > limit:
            page = page[:limit]
            url = request.build_absolute_uri()
            following = replace_query_param(replace_query_param(url, "limit", limit), "after", page[-1]["id"])
        for row in page:
            row["key"] = text_shown_to(request.user, row["key"])
        _count_records(request, len(page))
        return Response({"next": following, "results": page})
