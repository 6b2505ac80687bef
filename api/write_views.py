"""The write endpoints of the resources the province is the source of: POST (upsert by natural key), PUT,
PATCH and POST …/batch/, each documented in the schema with its headers and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.actors import api_actor_for
from api.authentication import client_of
from api.errors import error_body
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent, request_digest
from api.serializers import ErrorSerializer
from api.viewsets import ResourceViewSet, _count_records, etag_of
from api.writers import WRITERS, RowInvalid, Writer
from api.writes import (
    MAX_BATCH,
    BatchInvalid,
    Outcome,
    PreconditionFailed,
    PreconditionRequired,
    parse_etag,
    write_batch,
    write_record,
)
from households.personal_data import text_shown_to
from households.services import ConcurrentEditError


class ConflictFieldSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="冲突的字段（成员字段为 members.<身份证号>.<字段>，按个人信息规则脱敏）")
    message = serializers.CharField(help_text="中文说明")


class ConflictSerializer(serializers.Serializer):
    """409: the write met a county user's edit and waits for a county administrator."""

    code = serializers.CharField(help_text="错误代码：conflict")
    message = serializers.CharField(help_text="中文说明")
    errors = ConflictFieldSerializer(many=True, help_text="省级本次修改、县级也已修改的字段")  # type: ignore[assignment]
    conflict_id = serializers.IntegerField(help_text="冲突编号，县级管理员在“接口冲突”页面处理后，结果经变更流返回")


class BatchResultSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="行号（records 中的第几条，从 1 起）")
    status = serializers.ChoiceField(
        choices=["created", "updated", "unchanged", "conflict"],
        help_text="created 新增、updated 修改、unchanged 无变化、conflict 县级已修改，未写入，等待县级管理员处理",
    )
    id = serializers.IntegerField(help_text="记录 id")
    etag = serializers.CharField(help_text="写入后记录的 ETag（conflict 时为记录当前的 ETag）")
    conflict_id = serializers.IntegerField(allow_null=True, help_text="冲突编号（status 为 conflict 时）")


class BatchResponseSerializer(serializers.Serializer):
    results = BatchResultSerializer(many=True, help_text="逐行结果，顺序同提交")
    created = serializers.IntegerField(help_text="新增条数")
    updated = serializers.IntegerField(help_text="修改条数")
    unchanged = serializers.IntegerField(help_text="无变化条数")
    conflicts = serializers.IntegerField(help_text="转入冲突队列的条数")


IDEMPOTENCY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="幂等键（1～255 个可见 ASCII 字符，每个客户端各自独立，保留 24 小时）：同一键、同一请求内容重发时返回"
    "第一次的响应（含状态码，响应头 Idempotent-Replayed: true）；同一键、不同内容返回 422",
)
IF_MATCH_REQUIRED = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="记录的 ETag（读取时的响应头）。缺少时返回 428；记录已被修改时返回 412，"
    "若修改来自县级用户则返回 409 并登记冲突",
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="按自然键找到已有记录并要修改它时必填（记录的 ETag）；新增记录时不填",
)

COMMON_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="未提供访问令牌，或令牌无效、已过期、已吊销"),
    403: OpenApiResponse(ErrorSerializer, description="客户端无权修改此资源"),
    422: OpenApiResponse(
        ErrorSerializer,
        description="数据有误（逐字段说明，与 Excel 导入同一错误的提示相同）；或幂等键已用于不同内容的请求",
    ),
    429: OpenApiResponse(ErrorSerializer, description="请求过于频繁"),
}
PRECONDITION_ERRORS = {
    409: OpenApiResponse(
        ConflictSerializer, description="记录在您所见版本之后被县级用户修改：未写入，已登记冲突等待县级管理员处理"
    ),
    412: OpenApiResponse(ErrorSerializer, description="记录已被修改（ETag 不符），请重新读取后再提交"),
    428: OpenApiResponse(ErrorSerializer, description="修改已有记录须携带 If-Match"),
}


def _write_serializer(resource: str, writer: type[Writer]) -> type[serializers.Serializer]:
    """The documented shape of a written record (the values are read by the Excel import's parsers)."""
    attributes: dict[str, Any] = {}
    for spec in writer.fields:
        kind = spec.column.kind
        text = f"{spec.label}{'（新增时必填）' if spec.required else ''}"
        if kind in ("int", "year", "quarter"):
            attributes[spec.name] = serializers.IntegerField(required=spec.required, allow_null=True, help_text=text)
        elif kind == "bool":
            attributes[spec.name] = serializers.BooleanField(required=False, help_text=text)
        elif kind == "choice" and spec.column.choices:
            options = "、".join(f"{value}（{label}）" for label, value in spec.column.choices.items())
            attributes[spec.name] = serializers.CharField(
                required=spec.required, help_text=f"{text}：{options}；也可填中文名称"
            )
        elif kind == "money":
            attributes[spec.name] = serializers.CharField(
                required=spec.required, help_text=f"{text}（元，字符串或数字，最多两位小数）"
            )
        elif kind == "month":
            attributes[spec.name] = serializers.CharField(
                required=spec.required, allow_null=True, help_text=f"{text}（如 2025-03）"
            )
        elif kind == "region_code":
            attributes[spec.name] = serializers.CharField(required=spec.required, help_text=f"{text}（12位区划代码）")
        else:
            attributes[spec.name] = serializers.CharField(required=spec.required, allow_blank=True, help_text=text)
    if resource == "households":
        attributes["members"] = MemberWriteSerializer(
            many=True,
            required=False,
            help_text="家庭成员（新增时必填）。按身份证号匹配已有成员；未列出的成员保持不变；"
            "减员请提交 is_active=false 及减员原因、日期",
        )
    if resource == "monitoring-cases":
        attributes["risk_types"] = serializers.ListField(
            child=serializers.CharField(), help_text="风险类型（代码或名称，1～5 项；新增时必填）"
        )
        attributes["measures"] = serializers.ListField(
            child=serializers.CharField(), required=False, help_text="帮扶措施（代码或名称）"
        )
    name = "".join(part.title() for part in resource.split("-"))
    return type(f"{name}WriteSerializer", (serializers.Serializer,), attributes)


class MemberWriteSerializer(serializers.Serializer):
    id_number = serializers.CharField(help_text="身份证号（18位，成员的自然键）")
    name = serializers.CharField(required=False, help_text="姓名（新成员必填）")
    relation = serializers.CharField(
        required=False, help_text="与户主关系：head（户主）、spouse（配偶）……或中文名称（新成员必填）"
    )
    labour = serializers.CharField(required=False, help_text="劳动技能（新成员必填）")
    health = serializers.CharField(required=False, help_text="健康状况，默认健康")
    schooling = serializers.CharField(required=False, help_text="在校生状况，默认非在校生")
    work_place = serializers.CharField(required=False, help_text="务工地点")
    work_months = serializers.IntegerField(required=False, help_text="务工月数（0～12）")
    medical_insurance = serializers.BooleanField(required=False, help_text="参加基本医疗保险，默认是")
    is_active = serializers.BooleanField(required=False, help_text="在户；false 表示减员")
    left_reason = serializers.CharField(required=False, help_text="减员原因（减员时必填）")
    left_on = serializers.DateField(required=False, help_text="减员日期（减员时必填）")


def _batch_serializer(resource: str, write: type[serializers.Serializer]) -> type[serializers.Serializer]:
    row = type(
        f"{write.__name__.removesuffix('Serializer')}RowSerializer",
        (write,),
        {
            "base_version": serializers.IntegerField(
                required=False,
                help_text="该记录上次读取时的版本（ETag 中的数字）；修改已有记录时必填（或填 base_etag）",
            ),
            "base_etag": serializers.CharField(
                required=False, help_text="该记录上次读取时的 ETag（无版本号的资源用此项）"
            ),
        },
    )
    return type(
        f"{write.__name__.removesuffix('WriteSerializer')}BatchSerializer",
        (serializers.Serializer,),
        {"records": row(many=True, help_text=f"记录列表，最多 {MAX_BATCH:,} 条")},
    )


class WritableMixin:
    """POST / PUT / PATCH / batch for a resource of api.writers.WRITERS."""

    resource: Any
    request: Request

    def _writer(self, request: Request) -> Writer:
        client = client_of(request.user)
        return WRITERS[self.resource.name](api_actor_for(client))

    def _etag(self, instance: Any) -> str:
        return etag_of(instance, self.resource.serializer(instance, context={"request": self.request}).data)

    def _answer(self, outcome: Outcome, request: Request) -> Response:
        if outcome.status == "conflict":
            assert outcome.conflict is not None
            principal = request.user
            conflict = outcome.conflict
            return Response(
                {
                    **error_body(
                        "conflict",
                        f"{conflict.record_label}在您所见版本（{conflict.base_version}）之后已被县级用户修改，本次修改未写入，"
                        f"已登记为冲突（编号 {conflict.pk}），等待县级管理员处理",
                        [
                            {
                                "field": text_shown_to(principal, field["key"]),
                                "message": "县级用户已修改此字段"
                                if field.get("ours") != field.get("base")
                                else "县级用户未改此字段，随本次修改一并等待处理",
                            }
                            for field in conflict.fields
                        ],
                    ),
                    "conflict_id": conflict.pk,
                },
                status=409,
                headers={"ETag": self._etag(outcome.instance)},
            )
        instance = self.resource.rows(request.user).get(pk=outcome.instance.pk)
        data = self.resource.serializer(instance, context={"request": request}).data
        headers = {"ETag": self._etag(instance)}
        status = 200
        if outcome.status == "created":
            status = 201
            headers["Location"] = request.build_absolute_uri(
                f"{request.path.rstrip('/').rsplit('/batch', 1)[0]}/{instance.pk}/"
            )
        _count_records(request, 1)
        return Response(data, status=status, headers=headers)

    def _single(self, request: Request, *, instance: Any = None, partial: bool = False) -> Response:
        if not isinstance(request.data, dict):
            return Response(error_body("invalid", "请求内容应为 JSON 对象"), status=422)
        writer = self._writer(request)
        try:
            with transaction.atomic():
                outcome = write_record(
                    writer=writer,
                    client=writer.actor.client,
                    payload=request.data,
                    etag_of=self._etag,
                    instance=instance,
                    partial=partial,
                    base=parse_etag(request.headers.get("If-Match")),
                )
                return self._answer(outcome, request)
        except RowInvalid as error:
            return Response(error_body("invalid", "提交的数据有误，未写入", error.errors), status=422)
        except PreconditionRequired as error:
            return Response(error_body("precondition_required", str(error)), status=428)
        except (PreconditionFailed, ConcurrentEditError) as error:
            message = str(error) if isinstance(error, PreconditionFailed) else "记录刚被他人修改，请重新读取后再提交"
            return Response(error_body("precondition_failed", message), status=412)

    def _idempotent(self, request: Request, work: Callable[[], Response]) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return work()
        digest = request_digest(method=request.method or "", path=request.path, data=request.data)
        return idempotent(client=client_of(request.user), key=key, digest=digest, work=work)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._idempotent(request, lambda: self._single(request))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        if request.headers.get("If-Match") is None:
            return Response(
                error_body("precondition_required", "修改记录须携带 If-Match 请求头（读取时的 ETag）"), status=428
            )
        return self._single(request, instance=instance, partial=kwargs.get("partial", False))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def write_batch(self, request: Request) -> Response:
        return self._idempotent(request, lambda: self._batch(request))

    def _batch(self, request: Request) -> Response:
        records = request.data.get("records") if isinstance(request.data, dict) else None
        if not isinstance(records, list):
            return Response(error_body("invalid", '请求内容应为 {"records": [...]}'), status=422)
        if len(records) > MAX_BATCH:
            return Response(
                error_body(
                    "too_many_records", f"一次最多提交 {MAX_BATCH:,} 条记录（本次 {len(records):,} 条），请分批提交"
                ),
                status=413,
            )
        writer = self._writer(request)
        try:
            rows = write_batch(writer=writer, client=writer.actor.client, records=records, etag_of=self._etag)
        except BatchInvalid as error:
            first = error.errors[0].get("row")
            return Response(
                error_body(
                    "invalid",
                    f"第{first}条等共 {len(error.errors)} 处错误，整批未写入（全部成功或全部不写入）",
                    error.errors,
                ),
                status=422,
            )
        counts = {"created": 0, "updated": 0, "unchanged": 0, "conflict": 0}
        results = []
        for row in rows:
            counts[row.outcome.status] += 1
            results.append(
                {
                    "row": row.row,
                    "status": row.outcome.status,
                    "id": row.outcome.instance.pk,
                    "etag": self._etag(row.outcome.instance),
                    "conflict_id": row.outcome.conflict.pk if row.outcome.conflict else None,
                }
            )
        _count_records(request, len(results))
        return Response(
            {
                "results": results,
                "created": counts["created"],
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
                "conflicts": counts["conflict"],
            }
        )


def writable_viewset(base: type[ResourceViewSet]) -> type[ResourceViewSet]:
    """The resource's read viewset with the write endpoints, documented."""
    resource = base.resource
    writer = WRITERS[resource.name]
    write = _write_serializer(resource.name, writer)
    batch_shape = _batch_serializer(resource.name, write)
    title = resource.title
    key = "、".join(field.label for field in writer.fields if field.required and field.name in _natural(resource.name))
    tags = [title]

    # Each class its own functions: the schema's annotations sit on the function objects.
    def create(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return WritableMixin.create(self, request, *args, **kwargs)

    def update(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return WritableMixin.update(self, request, *args, **kwargs)

    def partial_update(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return WritableMixin.partial_update(self, request, *args, **kwargs)

    def batch(self: Any, request: Request) -> Response:
        return WritableMixin.write_batch(self, request)

    cls: Any = type(
        f"{base.__name__.removesuffix('ViewSet')}WriteViewSet",
        (WritableMixin, base),
        {"create": create, "update": update, "partial_update": partial_update},
    )
    versioned = (
        "ETag 为记录版本号"
        if writer.versioned
        else "ETag 为记录内容的摘要（该资源没有版本号；摘要随任一字段的修改而变）"
    )
    cls.create = extend_schema(
        summary=f"新增或更新{title}（按{key}）",
        description=f"按自然键（{key}）查找：不存在则新增（201），存在且内容不同则须携带 If-Match 修改（200），"
        f"内容相同返回 200 无变化。{versioned}。"
        "写入经与页面表单、Excel 导入相同的业务规则，错误提示与 Excel 导入相同。",
        tags=tags,
        request=write,
        parameters=[IDEMPOTENCY, IF_MATCH_OPTIONAL],
        responses={
            200: OpenApiResponse(resource.serializer, description="已更新或无变化；响应头 ETag 为写入后的版本"),
            201: OpenApiResponse(resource.serializer, description="已新增；响应头 ETag、Location"),
            **COMMON_ERRORS,
            **PRECONDITION_ERRORS,
        },
    )(cls.create)
    for method, partial in (("update", False), ("partial_update", True)):
        setattr(
            cls,
            method,
            extend_schema(
                summary=f"{'部分' if partial else ''}修改{title}",
                description=("只修改提交的字段。" if partial else "提交完整记录。")
                + f"须携带 If-Match（{versioned}）：缺少 428，已被修改 412；"
                "若修改来自县级用户则不写入、登记冲突并返回 409。",
                tags=tags,
                request=write,
                parameters=[
                    OpenApiParameter("id", int, OpenApiParameter.PATH, description="记录 id"),
                    IF_MATCH_REQUIRED,
                ],
                responses={
                    200: OpenApiResponse(resource.serializer, description="已修改；响应头 ETag 为写入后的版本"),
                    404: OpenApiResponse(ErrorSerializer, description="记录不存在或不在客户端管辖区划内"),
                    **COMMON_ERRORS,
                    **PRECONDITION_ERRORS,
                },
            )(getattr(cls, method)),
        )
    cls.batch = extend_schema(
        summary=f"批量写入{title}（最多 {MAX_BATCH:,} 条）",
        description="一个事务：任一行有错误则整批不写入，返回逐行错误 {row, field, message}；"
        "修改已有记录的行须带 base_version（或 base_etag）。某行的记录在该版本之后被县级用户修改时，该行不写入、"
        "登记冲突（status 为 conflict，附冲突编号），其余行照常写入。超过 5,000 条返回 413。",
        tags=tags,
        request=batch_shape,
        parameters=[IDEMPOTENCY],
        responses={
            200: OpenApiResponse(BatchResponseSerializer, description="逐行结果"),
            413: OpenApiResponse(ErrorSerializer, description="超过 5,000 条"),
            **COMMON_ERRORS,
        },
    )(action(detail=False, methods=["post"], url_path="batch")(batch))
    return cls


def _natural(resource: str) -> tuple[str, ...]:
    return {
        "households": ("number",),
        "income-records": ("household", "year", "quarter"),
        "monitoring-cases": ("household", "identified_month"),
        "thresholds": ("region", "year"),
        "targets": ("indicator", "region", "year", "quarter"),
    }[resource]
